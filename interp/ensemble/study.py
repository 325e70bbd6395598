"""The seed-ensemble study: merges against their baselines at equal compute, pooled over maze groups, and its verdict.

Everything here reads plain measurements, as a run records them (``raw.json.gz``, :mod:`interp.rawjson`):

* ``groups``: per maze group ``{"n", "kmax", "correct", "answers", "spread"}`` and, where they ran,
  ``"more"``, ``"cold"``, ``"colder"``. ``correct`` is bool ``[n, kmax]`` (seed j solved maze i);
  ``answers[i]`` the kmax drawn answers of maze i (bytes, ``None`` when unreadable); ``spread``
  ``{(step, k): [n]}`` the early x0 disagreement of the first k seeds; ``more`` ``{k: bool [n]}``
  one seed with k times the steps; ``cold`` ``{k: bool [n]}`` one seed started at noise std
  1/sqrt(k); ``colder`` ``{std: bool [n]}`` one seed started at noise std ``std``; ``cooled``
  ``{(k, step): bool [n]}`` one seed whose state entering ``step`` has its noise part scaled by
  1/sqrt(k) (the matched control of ``xt_mean`` at that step).
* ``merges``: ``{(group, operator, k, steps, scope): bool [n]}``; ``steps`` is one step (``"2"``)
  or a window (``"0-3"``); scope ``"all"`` (every maze) or ``"screen"`` (the group's first mazes).
* ``cfg``: the run's settings; read here are ``num_steps``, ``kmax`` and ``probe_steps``.

Verdict (:func:`verdict`). Of the settings (K, merge steps) of the screened best operator that
ran on every group, the one of highest pooled accuracy is compared on the pooled mazes with
McNemar's exact test against one seed, self-consistency at no more compute and, for ``xt_mean`` at
step 0 where every group ran it, its matched control: one seed whose starting noise has std
1/sqrt(K), which is what a mean of K standard normal draws is. The verdict is the claims
registry's rule for ``seed_ensemble`` (``experiments/claims.toml``) on those figures
(:func:`best_figures`); ``does not hold`` when no setting ran on every group.

Example:
    >>> import numpy as np
    >>> group = {"n": 4, "kmax": 3, "correct": np.ones((4, 3), bool), "answers": [[b"a"] * 3] * 4}
    >>> sc_at(group, nfe=25, n_steps=10)[0]      # 25 NFE afford 2 seeds of 10 steps
    2
"""

from __future__ import annotations

import math

import numpy as np

from interp.ensemble.adaptive import adaptive_curve
from interp.ensemble.baselines import best_of_k, self_consistency
from interp.ensemble.nfe import baseline_nfe, ensemble_nfe
from interp.stats import auroc, mcnemar
from interp.stats import share as accuracy

ADAPTIVE_SEEDS = 5  # the costly arm of the adaptive policy: a vote of this many seeds (at most kmax)


def sc_at(group: dict, nfe: float, n_steps: int):
    """Self-consistency with as many seeds as ``nfe`` affords (1 seed: the single-seed run): ``(k, correct)``."""
    k = max(1, min(group["kmax"], int(nfe // n_steps)))
    return k, (group["correct"][:, 0] if k == 1 else self_consistency(group["correct"], group["answers"], k))


def baseline_rows(name: str, group: dict, n_steps: int) -> list[dict]:
    """One seed, self-consistency, best-of-K, more steps, the cooled seeds and the colder starts of one group."""
    single = group["correct"][:, 0]
    rows = [{"group": name, "method": "single seed", "k": 1, "nfe": n_steps, **accuracy(single)}]
    for k in range(2, group["kmax"] + 1):
        sc, bok = self_consistency(group["correct"], group["answers"], k), best_of_k(group["correct"], k)
        rows.append({"group": name, "method": "self-consistency", "k": k,
                     "nfe": baseline_nfe("self_consistency", n_steps, k), **accuracy(sc),
                     "vs_single": mcnemar(sc, single)})
        rows.append({"group": name, "method": "best-of-K (verifier, upper bound)", "k": k,
                     "nfe": baseline_nfe("best_of_k", n_steps, k), **accuracy(bok)})
    for k, correct in group.get("more", {}).items():
        rows.append({"group": name, "method": "more steps", "k": k, "nfe": baseline_nfe("more_steps", n_steps, k),
                     **accuracy(correct), "vs_single": mcnemar(correct, single)})
    for k, correct in group.get("cold", {}).items():
        rows.append({"group": name, "method": "cold start", "k": k, "nfe": n_steps, "std": 1 / math.sqrt(k),
                     **accuracy(correct), "vs_single": mcnemar(correct, single)})
    for (k, step), correct in group.get("cooled", {}).items():
        rows.append({"group": name, "method": "cooled seed", "k": k, "step": step, "nfe": n_steps,
                     "std": 1 / math.sqrt(k), **accuracy(correct), "vs_single": mcnemar(correct, single)})
    for std, correct in group.get("colder", {}).items():
        rows.append({"group": name, "method": "colder start", "nfe": n_steps, "std": std, **accuracy(correct),
                     "vs_single": mcnemar(correct, single)})
    return rows


def merge_row(key: tuple, correct: np.ndarray, group: dict, n_steps: int) -> dict:
    """One merge setting against one seed and self-consistency at no more compute, on the same mazes."""
    name, op, k, steps, scope = key
    nfe = ensemble_nfe(n_steps, k, int(steps.split("-")[-1]))
    ids = np.arange(len(correct))  # a screen covers the group's first mazes
    k_sc, sc = sc_at(group, nfe, n_steps)
    return {"group": name, "method": f"merge {op}", "k": k, "steps": steps, "scope": scope, "nfe": nfe,
            **accuracy(correct), "vs_single": mcnemar(correct, group["correct"][ids, 0]),
            "vs_self_consistency": {"k": k_sc, **mcnemar(correct, sc[ids])}}


def probe_step(cfg: dict) -> int:
    """The step the adaptive policy probes at: the second probe step, if there is one."""
    return cfg["probe_steps"][1] if len(cfg["probe_steps"]) > 1 else cfg["probe_steps"][0]


def adaptive_curves(groups: dict, cfg: dict) -> dict:
    """Per group: probe 2 seeds to :func:`probe_step`; escalate uncertain mazes to a vote of :data:`ADAPTIVE_SEEDS`."""
    n_steps, probe, k_hi = cfg["num_steps"], probe_step(cfg), min(ADAPTIVE_SEEDS, cfg["kmax"])
    curves = {}
    for name, group in groups.items():
        cheap_nfe = ensemble_nfe(n_steps, 2, probe)
        costly = self_consistency(group["correct"], group["answers"], k_hi)
        curve = adaptive_curve(group["spread"][(probe, 2)], group["correct"][:, 0], cheap_nfe, costly, k_hi * n_steps)
        curves[name] = [{k: v for k, v in c.items() if k != "correct"} | {"ci95": accuracy(c["correct"])["ci95"]}
                        for c in curve]
    return curves


def pooled_best(rows: list[dict], groups: dict, merges: dict, best_op: str, n_steps: int) -> dict | None:
    """The setting of ``best_op`` that ran on every group with the highest pooled accuracy, with its tests."""
    pooled = {}
    for r in rows:
        if r["method"] == f"merge {best_op}" and r.get("scope") == "all":
            pooled.setdefault((r["k"], r["steps"]), []).append(r)
    best = None
    for (k, steps), rs in pooled.items():
        if len(rs) != len(groups):
            continue
        merged = np.concatenate([merges[(r["group"], best_op, k, steps, "all")] for r in rs])
        single = np.concatenate([groups[r["group"]]["correct"][:, 0] for r in rs])
        nfe = rs[0]["nfe"]
        sc = np.concatenate([sc_at(groups[r["group"]], nfe, n_steps)[1] for r in rs])
        entry = {"operator": best_op, "k": k, "steps": steps, "nfe": nfe, "merge": accuracy(merged),
                 "single": accuracy(single), "vs_single": mcnemar(merged, single),
                 "self_consistency": {"k": sc_at(next(iter(groups.values())), nfe, n_steps)[0], **accuracy(sc)},
                 "vs_self_consistency": mcnemar(merged, sc)}
        cold = [groups[r["group"]].get("cold", {}).get(k) for r in rs]
        if best_op == "xt_mean" and steps == "0" and all(c is not None for c in cold):
            cold = np.concatenate(cold)
            entry.update(cold_start=accuracy(cold), vs_cold_start=mcnemar(merged, cold))
        if best_op == "xt_mean" and steps.isdigit():  # the matched control: cold start at step 0, cooled after
            per_group = [groups[r["group"]].get("cold", {}).get(k) if steps == "0"
                         else groups[r["group"]].get("cooled", {}).get((k, int(steps))) for r in rs]
            if all(c is not None for c in per_group):
                matched = np.concatenate(per_group)
                entry.update(matched=accuracy(matched), vs_matched=mcnemar(merged, matched))
        if best is None or entry["merge"]["value"] > best["merge"]["value"]:
            best = entry
    return best


def _beats(test: dict) -> bool:
    return test["difference"] > 0 and test["p"] < 0.05


def verdict(best: dict | None, n_groups: int, n_steps: int) -> tuple[str, str]:
    """``(verdict, why)`` of the pooled best setting (see the module's verdict rule)."""
    if best is None:
        return "does not hold", "no merge setting ran on every group within the time budget"
    from interp import registry

    p, p_sc = best["vs_single"]["p"], best["vs_self_consistency"]["p"]
    control = best.get("vs_matched")
    outcome = registry.judge_record({"name": "seed_ensemble", "figures": best_figures(best)})["verdict"]
    why = (f"Best setting {best['operator']} with K={best['k']} merged at step {best['steps']} ({best['nfe']} NFE per "
           f"maze), pooled over {n_groups} groups (n={best['merge']['n']}): {100 * best['merge']['value']:.1f}% exact "
           f"vs {100 * best['single']['value']:.1f}% for one seed (McNemar p={p:.3g})"
           + (f" and {100 * best['self_consistency']['value']:.1f}% for self-consistency of "
              f"{best['self_consistency']['k']} seeds at no more compute (p={p_sc:.3g})" if best["self_consistency"]["k"] > 1
              else "; at this compute self-consistency affords only one seed")
           + ". Setting chosen on the screening mazes, which are part of the pool.")
    if control is not None:
        why += (f" Matched control, {_control_name(best)} ({n_steps} NFE): "
                f"{100 * best['matched']['value']:.1f}% (merge minus control {100 * control['difference']:+.1f} "
                f"points, McNemar p={control['p']:.3g}): "
                + ("merging beats one seed as cold." if _beats(control) else
                   "merging does not beat one seed as cold: what it gains is a colder state, not a "
                   "combination of seeds."))
    return outcome, why


def _control_name(best: dict) -> str:
    """What the matched control of the best setting is, in words."""
    if best["steps"] == "0":
        return f"one seed started at noise std 1/sqrt({best['k']})"
    return f"one seed whose noise part entering step {best['steps']} is scaled by 1/sqrt({best['k']})"


def colder_pooled(groups: dict) -> dict:
    """Each colder start (one seed from noise of std ``std``) that ran on every group, pooled: ``{std: bool [n]}``."""
    stds = set.intersection(*[set(g.get("colder", {})) for g in groups.values()]) if groups else set()
    return {std: np.concatenate([g["colder"][std] for g in groups.values()]) for std in sorted(stds)}


def matched_verdict(best: dict | None, groups: dict, merged: np.ndarray | None = None) -> tuple[str, str]:
    """The ensemble judged against its matched control only: does merging K seeds beat one seed as cold?

    Merging the x_t of K seeds at step 0 hands the run a start of noise std 1/sqrt(K); one seed
    started at that std (``cold_start``) is the matched control. At a later step the mean of K
    states keeps about one clean estimate and 1/sqrt(K) of the noise; one seed whose noise part
    entering that step is scaled by 1/sqrt(K) (``cooled``) is the matched control. ``holds`` when
    the merge beats it (McNemar, positive difference, p < 0.05) and every colder start that ran on
    every group; ``partly`` when it beats the matched control but some colder start does as well;
    ``does not hold`` ("not as an ensemble") when the merge does not beat its matched control. Without
    a matched control for the best setting (an operator other than ``xt_mean``, or the control did
    not run), or without a setting that ran on every group, it ``does not hold``, saying why.

    ``merged``: the best setting's pooled bool outcomes in the groups' order (for the colder starts).
    """
    if best is None:
        return "does not hold", "no merge setting ran on every group within the time budget"
    control = best.get("vs_matched")
    if control is None:
        return "does not hold", (f"the best setting ({best['operator']} at step {best['steps']}) has no matched "
                                 "control here: a gain over one seed cannot be told from a colder start")
    colder = {}
    if merged is not None:
        colder = {std: mcnemar(merged, c) for std, c in colder_pooled(groups).items()}
    beaten = [std for std, t in colder.items() if _beats(t)]
    text = (f"{best['operator']} K={best['k']} at step {best['steps']} (n={best['merge']['n']}): "
            f"{100 * best['merge']['value']:.1f}% exact vs {100 * best['matched']['value']:.1f}% for "
            f"{_control_name(best)} (difference {100 * control['difference']:+.1f} points, McNemar "
            f"p={control['p']:.3g})")
    if colder:
        text += "; against colder starts " + ", ".join(
            f"std {std:g}: {100 * t['difference']:+.1f} points (p={t['p']:.3g})" for std, t in colder.items())
    if not _beats(control):
        return "does not hold", (f"not as an ensemble: merging does not beat one seed as cold; {text}")
    if len(beaten) < len(colder):
        return "partly", f"merging beats its matched control, but a colder start does as well; {text}"
    return "holds", f"merging beats one seed as cold and every colder start; {text}"


def colder_figures(merged: np.ndarray | None, groups: dict) -> dict:
    """The best merge against each colder start that ran on every group (``best_vs_colder_start_std{std:g}_difference``)
    and against the best of them (``best_vs_colder_best_difference``), McNemar on the pooled mazes."""
    pooled = colder_pooled(groups)
    if merged is None or not pooled:
        return {}
    figures = {f"best_vs_colder_start_std{std:g}_difference": {**_difference(merged, c), "std": std}
               for std, c in pooled.items()}
    top = max(pooled, key=lambda std: pooled[std].mean())
    figures["best_vs_colder_best_difference"] = {**_difference(merged, pooled[top]), "std": top}
    return figures


def _difference(a: np.ndarray, b: np.ndarray) -> dict:
    test = mcnemar(a, b)
    return {"value": test["difference"], "p_mcnemar": test["p"], "n": int(len(a))}


def best_figures(best: dict | None) -> dict:
    """The headline figures of the pooled best setting (none when no setting ran on every group)."""
    if best is None:
        return {}
    n, figures = best["merge"]["n"], {}
    control = best.get("vs_cold_start")
    if control is not None:
        figures["best_vs_cold_start_difference"] = {"value": control["difference"], "p_mcnemar": control["p"], "n": n}
        figures["cold_start"] = {**best["cold_start"], "std": 1 / math.sqrt(best["k"])}
    matched = best.get("vs_matched")
    if matched is not None:
        figures["best_vs_matched_difference"] = {"value": matched["difference"], "p_mcnemar": matched["p"], "n": n}
        figures["matched_control"] = {**best["matched"], "std": 1 / math.sqrt(best["k"]), "step": int(best["steps"])}
    figures["best_merge"] = {**best["merge"], "setting": {k: best[k] for k in ("operator", "k", "steps", "nfe")}}
    figures["best_vs_single_difference"] = {"value": best["vs_single"]["difference"],
                                            "p_mcnemar": best["vs_single"]["p"], "n": n}
    figures["best_vs_self_consistency_difference"] = {"value": best["vs_self_consistency"]["difference"],
                                                      "p_mcnemar": best["vs_self_consistency"]["p"], "n": n}
    return figures


def summarise(groups: dict, merges: dict, cfg: dict, best_op: str, best_step: int) -> dict:
    """Rows of every method, figures, adaptive curves, the pooled best setting and the verdict."""
    n_steps = cfg["num_steps"]
    rows, figures = [], {}
    for name, group in groups.items():
        rows += baseline_rows(name, group, n_steps)
        figures[f"{name}_single"] = {**accuracy(group["correct"][:, 0]), "nfe": n_steps}
        failed = ~group["correct"][:, 0]
        figures[f"{name}_auroc"] = {"value": {f"step {s}, {kk} seeds": auroc(v, failed)
                                              for (s, kk), v in group["spread"].items()}, "n": group["n"]}
    rows += [merge_row(key, correct, groups[key[0]], n_steps) for key, correct in merges.items()]
    best = pooled_best(rows, groups, merges, best_op, n_steps)
    outcome, why = verdict(best, len(groups), n_steps)
    merged = None if best is None else np.concatenate(
        [merges[(name, best["operator"], best["k"], best["steps"], "all")] for name in groups])
    matched = matched_verdict(best, groups, merged)
    figures.update(best_figures(best))
    figures.update(colder_figures(merged, groups))
    if best is not None:  # the registry's current rule, on every figure (the colder starts included)
        from interp import registry

        outcome = registry.judge_record({"name": "seed_ensemble", "figures": figures})["verdict"]
    return {"verdict": outcome, "why": why, "figures": figures, "rows": rows, "adaptive": adaptive_curves(groups, cfg),
            "matched_verdict": {"verdict": matched[0], "why": matched[1],
                                "rule": " ".join(matched_verdict.__doc__.split("\n\n")[1].split())},
            "best": best, "best_operator": best_op, "best_step": best_step, "probe_step": probe_step(cfg)}


def report_from_raw(raw: dict) -> dict:
    """:func:`summarise` of a run's raw record, with its screen, log and what was skipped."""
    report = summarise(raw["groups"], raw["merges"], raw["cfg"], raw["best_op"], raw["best_step"])
    report.update(screened={f"{k[1]} step {k[3]}": v for k, v in raw["screened"].items()}, log=raw["log"],
                  skipped=raw["skipped"], screen=raw["screen"])
    return report
