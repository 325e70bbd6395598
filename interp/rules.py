"""The verdict rules the claims registry names, each read from a ``result.json`` record alone.

A rule takes the record (its ``figures``, ``settings`` and anything else it stored) and the
entry's ``params`` and returns a :class:`Verdict`: ``holds``, ``partly``, ``does not hold`` or
``not testable here``, why, and the n behind it (the smallest n of the figures it read).

Two kinds:

* ``expression``: ``params`` ``holds`` and ``partly`` are conditions on figures in a small
  language (:func:`evaluate`), so the registry's text *is* the rule;
* named rules (:data:`RULES`) for what a condition cannot say (the worst of several steps, a
  peak's position), each a few lines over the figures table; ``not_testable`` gives the fourth
  verdict with its reason.

Example:
    >>> record = {"figures": {"share": {"value": 0.97, "ci95": [0.93, 0.99], "n": 300}}}
    >>> judge(record, "expression", {"holds": "low(share) > 0.9", "partly": "low(share) > 0.5"}).verdict
    'holds'
    >>> judge(record, "expression", {"holds": "low(share) > 0.95"}).verdict
    'does not hold'
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

from interp.errors import InputError

VERDICTS = ("holds", "partly", "does not hold", "not testable here")


@dataclass(frozen=True)
class Verdict:
    """A rule's outcome on one record."""

    verdict: str
    why: str
    n: int | None = None


# ------------------------------------------------------------------ the expression language
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
FUNCTIONS = ("value", "low", "high", "n", "p", "has", "setting")


class _Reader:
    """Reads figures for an expression and remembers the n of each figure read."""

    def __init__(self, record: dict):
        self.figures, self.settings, self.ns = record.get("figures", {}), record.get("settings", {}), []

    def figure(self, name: str) -> dict:
        if name not in self.figures:
            raise InputError(f"the rule reads figure {name!r}, which the result does not record; recorded: "
                             f"{', '.join(sorted(self.figures)) or 'none'}")
        figure = self.figures[name]
        if isinstance(figure.get("n"), int):
            self.ns.append(figure["n"])
        return figure

    def call(self, fn: str, arg: str):
        if fn == "has":
            return arg in self.figures and self.figures[arg].get("value") is not None
        if fn == "setting":
            if arg not in self.settings:
                raise InputError(f"the rule reads setting {arg!r}, which the result does not record")
            return self.settings[arg]
        figure = self.figure(arg)
        if fn == "value":
            return figure.get("value")
        if fn == "n":
            return figure.get("n")
        if fn == "p":
            return figure.get("p_mcnemar", figure.get("p"))
        ci = figure.get("ci95")
        return None if not ci else ci[0] if fn == "low" else ci[1]


def _eval(node, reader: _Reader):
    if isinstance(node, ast.Expression):
        return _eval(node.body, reader)
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, reader) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, reader)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _eval(node.operand, reader)
        return None if value is None else -value
    if isinstance(node, ast.Compare):
        left = _eval(node.left, reader)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, reader)
            if left is None or right is None:   # an unmeasured figure satisfies no condition
                return False
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        left, right = _eval(node.left, reader), _eval(node.right, reader)
        return None if left is None or right is None else _ARITH[type(node.op)](left, right)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 and not node.keywords:
        arg = node.args[0]
        name = arg.id if isinstance(arg, ast.Name) else arg.value if isinstance(arg, ast.Constant) else None
        if node.func.id in FUNCTIONS and isinstance(name, str):
            return reader.call(node.func.id, name)
    raise InputError(f"not part of the rule language: {ast.unparse(node)!r}; use {', '.join(FUNCTIONS)} of a "
                     "figure name, numbers, comparisons, and/or/not, + - * /")


def check_expression(text: str) -> None:
    """Raise :class:`InputError` if ``text`` is not a condition of the rule language (read nothing)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise InputError(f"rule {text!r} is not an expression: {err.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise InputError(f"rule {text!r} calls {ast.unparse(node.func)!r}: valid are {', '.join(FUNCTIONS)}")
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Lambda, ast.NamedExpr, ast.IfExp)):
            raise InputError(f"rule {text!r} uses {type(node).__name__}: not part of the rule language")


def evaluate(text: str, record: dict) -> tuple[bool, list[int]]:
    """Whether the condition ``text`` is true of ``record``, and the n of every figure it read."""
    check_expression(text)
    reader = _Reader(record)
    return bool(_eval(ast.parse(text, mode="eval"), reader)), reader.ns


def expression(record: dict, *, holds: str, partly: str | None = None) -> Verdict:
    """``holds`` if the condition ``holds`` is true, ``partly`` if ``partly`` is, else ``does not hold``."""
    ok, ns = evaluate(holds, record)
    if ok:
        return Verdict("holds", f"true: {holds}", min(ns, default=None))
    if partly:
        ok_partly, more = evaluate(partly, record)
        ns += more
        if ok_partly:
            return Verdict("partly", f"false: {holds}; true: {partly}", min(ns, default=None))
    return Verdict("does not hold", f"false: {holds}" + (f"; false: {partly}" if partly else ""), min(ns, default=None))


# ------------------------------------------------------------------ named rules
def not_testable(record: dict, *, reason: str) -> Verdict:
    """The fourth verdict: the test cannot come out otherwise on this model."""
    return Verdict("not testable here", reason, None)


def _min_n(figures: dict, keys) -> int | None:
    ns = [figures[k]["n"] for k in keys if k in figures and figures[k].get("n")]
    return min(ns) if ns else None


def _settings(record: dict, *keys):
    settings = record.get("settings", {})
    missing = [k for k in keys if k not in settings]
    if missing:
        raise InputError(f"the rule needs settings {missing} that the result does not record")
    return [settings[k] for k in keys]


def erase_live_alternatives(record: dict, *, control: str = "control") -> Verdict:
    """:func:`interp.causal.verdicts.erase_verdict` on the record's table and settings; ``control``
    ``matched`` judges against the matched control (as many units moved by the same colour distance)."""
    from interp.causal.verdicts import erase_verdict

    sizes, steps, num_steps = _settings(record, "sizes", "steps", "num_steps")
    table = record["figures"]
    verdict, why = erase_verdict(table, sizes=sizes, steps=steps, num_steps=num_steps, control=control)
    early = [s for s in steps if s <= num_steps // 4] or steps[:1]
    keys = [f"{z}/step{s}/{arm}/changed" for z in sizes for s in early for arm in ("chosen", control)]
    return Verdict(verdict, why, _min_n(table, keys))


def noise_worst_step_vs_worst_frame(record: dict, *, middle=(0.3, 0.7)) -> Verdict:
    """At the largest std: the worst step against the worst frame (noised at every step).

    ``holds`` when the worst step's interval lies wholly below the worst frame's and the worst
    step is within ``middle`` of the schedule; ``partly`` when it lies below elsewhere.
    """
    strengths, steps, frames, num_steps = _settings(record, "strengths", "steps", "frames", "num_steps")
    table, top = record["figures"], max(strengths)
    step_acc = {s: table[f"step{s}/std{top:g}/exact"] for s in steps}
    frame_acc = {f: table[f"frame{f}/std{top:g}/exact"] for f in frames}
    worst_step = min(step_acc, key=lambda s: step_acc[s]["value"])
    worst_frame = min(frame_acc, key=lambda f: frame_acc[f]["value"])
    step_worse = step_acc[worst_step]["ci95"][1] < frame_acc[worst_frame]["ci95"][0]
    mid = middle[0] * num_steps <= worst_step <= middle[1] * num_steps
    facts = (f"at std {top:g}: worst step {worst_step} exact {step_acc[worst_step]['value']:.3f}, worst frame "
             f"{worst_frame} (every step) exact {frame_acc[worst_frame]['value']:.3f}")
    n = _min_n(table, [f"step{worst_step}/std{top:g}/exact", f"frame{worst_frame}/std{top:g}/exact"])
    if step_worse and mid:
        return Verdict("holds", f"noise at one step hurts more than at one frame and peaks mid-schedule; {facts}", n)
    if step_worse:
        return Verdict("partly", f"noise at one step hurts more than at one frame, but sensitivity peaks at step "
                                 f"{worst_step} of {num_steps}, not mid-schedule; {facts}", n)
    return Verdict("does not hold", f"noise at one step does not hurt more than noise at one frame; {facts}", n)


def noise_step_vs_frames_peak_middle(record: dict) -> Verdict:
    """:func:`interp.causal.verdicts.noise_verdict` on the record's table and settings."""
    from interp.causal.verdicts import noise_verdict

    strengths, steps, frames, num_steps = _settings(record, "strengths", "steps", "frames", "num_steps")
    table = record["figures"]
    verdict, why = noise_verdict(table, strengths=strengths, steps=steps, frames=frames, num_steps=num_steps)
    top = max(strengths)
    keys = [f"step{s}/std{top:g}/exact" for s in steps] + [f"frame{f}/std{top:g}/exact" for f in frames]
    return Verdict(verdict, why, _min_n(table, keys))


def noise_scaled_step_vs_frames(record: dict) -> Verdict:
    """:func:`interp.causal.verdicts.noise_scaled_verdict` (noise of std ratio x the step's sigma) on the record."""
    from interp.causal.verdicts import noise_scaled_verdict

    ratios, steps, frames, num_steps = _settings(record, "ratios", "steps", "frames", "num_steps")
    if not ratios:
        raise InputError("the scaled-noise rule needs a run with --ratios: this one ran no scaled arm")
    table = record["figures"]
    verdict, why = noise_scaled_verdict(table, ratios=ratios, steps=steps, frames=frames, num_steps=num_steps)
    top = max(ratios)
    keys = [f"step{s}/rel{top:g}/exact" for s in steps] + [f"frame{f}/rel{top:g}/exact" for f in frames]
    return Verdict(verdict, why, _min_n(table, keys))


def swap_middle_block_flips(record: dict, *, min_share: float = 0.05) -> Verdict:
    """:func:`interp.causal.verdicts.swap_verdict` on the record's table (blocks from its settings)."""
    from interp.causal.verdicts import swap_verdict

    (layers,) = _settings(record, "layers")
    num_layers = record.get("num_layers", max(layers) + 1)
    table = record["figures"]
    verdict, why = swap_verdict(table, layers=layers, num_layers=num_layers, min_share=min_share)
    return Verdict(verdict, why, _min_n(table, [f"step0/layer{k}/other" for k in layers]))


def plan_fixed_early(record: dict, *, fixed: float = 0.9) -> Verdict:
    """:func:`interp.reproduce.renoise.agreement_rule` on the shares ``same_answer_after_redraw_k{k}``."""
    from interp.reproduce.renoise import agreement_rule

    (num_steps,) = _settings(record, "num_steps")
    prefix = "same_answer_after_redraw_k"
    same = {int(k[len(prefix):]): f for k, f in record["figures"].items() if k.startswith(prefix)}
    verdict, first = agreement_rule({k: f["value"] for k, f in same.items()}, num_steps=num_steps, fixed=fixed)
    shown = ", ".join(f"{f['value']:.0%} (k={k})" for k, f in sorted(same.items()) if k >= 0)
    why = (f"answers kept after a redraw after step k: {shown}; first k with >= {fixed:.0%}: {first} "
           f"(a quarter of the steps: {num_steps / 4:g}, half: {num_steps / 2:g})")
    return Verdict(verdict, why, min((f["n"] for f in same.values()), default=None))


def patch_cell_restores(record: dict, *, min_effect: float = 0.5, regions: str = "narrower") -> Verdict:
    """Does some (layer, step, region) cell restore ``min_effect`` of the clean route preference
    (95% interval above 0) in the first half of the patched steps? Cells are the record's
    ``cells``; ``regions`` ``narrower`` reads only regions other than ``all``, ``any`` reads all."""
    from interp.reproduce.localisation import strong_cells

    if "cells" not in record:
        raise InputError("the patching rule reads the grid's cells, which the result does not record")
    verdict, best, strong = strong_cells(record["cells"], min_effect=min_effect, narrower=regions == "narrower")
    n = record.get("n_pairs")
    why = (f"strongest cell: layer {best['layer']}, step {best['step']}, region {best['region']}, restores "
           f"{best['preference']:.2f} (95% CI {best['ci95']}); cells restoring >= {min_effect}: {len(strong)} "
           f"(regions read: {regions})")
    return Verdict(verdict, why, n)


RULES = {fn.__name__: fn for fn in (expression, not_testable, erase_live_alternatives, noise_worst_step_vs_worst_frame,
                                    noise_step_vs_frames_peak_middle, noise_scaled_step_vs_frames,
                                    swap_middle_block_flips, plan_fixed_early,
                                    patch_cell_restores)}


def judge(record: dict, rule: str, params: dict | None = None) -> Verdict:
    """Apply the rule named ``rule`` with ``params`` to ``record``."""
    if rule not in RULES:
        raise InputError(f"unknown rule {rule!r}: valid are {', '.join(RULES)}")
    result = RULES[rule](record, **(params or {}))
    if result.verdict not in VERDICTS:
        raise InputError(f"rule {rule!r} gave {result.verdict!r}: valid verdicts are {', '.join(VERDICTS)}")
    return result
