"""Which causal commands each family's adapter supports, read from what the adapter declares.

A command needs of a family only what the adapter declares on its class: ``flow_matching``
(erasing and the re-noising merges re-form x_t as (1 - sigma) x0 + sigma noise),
``image_pipelines`` (first-frame image pairs), ``text_encoder_names`` (what a folder must hold
to take text prompts) and ``spec.site_kinds`` (the sites ``--site`` may name).
:func:`check_command` refuses a command a loaded model cannot run, before any run;
:func:`capability_table` is the table in ``docs/any-model.md`` (``python -m
interp.models.capabilities --write`` renews it there).

Example:
    >>> from interp.models import CogVideoXModel, WanModel
    >>> unsupported(CogVideoXModel, "erase") is not None, unsupported(WanModel, "erase")
    (True, None)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from interp.errors import InputError, check_choice

#: The causal commands that take a diffusers folder, in the order the docs present them.
COMMANDS = ("trace", "patch", "noise", "erase", "swap", "cos-metrics", "ensemble")
#: Merges of ``cos ensemble`` that re-noise along the flow-matching path.
RENOISING_MERGES = ("x0_renoise", "x0_median")
#: Where the table lives in the docs, between these two lines.
DOC_PAGE = Path(__file__).resolve().parents[2] / "docs" / "any-model.md"
BEGIN, END = "<!-- capability table: begin -->", "<!-- capability table: end -->"


def unsupported(adapter, command: str, merge: str | None = None) -> str | None:
    """Why ``adapter`` (a :class:`~interp.models.base.VideoModel` class or instance) cannot run
    ``command`` (``cos ensemble`` with ``merge``), or ``None`` when it can."""
    check_choice("command", command, COMMANDS)
    if command == "erase" and not adapter.flow_matching:
        return (f"cos erase re-forms x_t as (1 - sigma) x0 + sigma noise, which {adapter.spec.family} does not "
                "sample by (not flow matching)")
    if command == "ensemble" and merge in RENOISING_MERGES and not adapter.flow_matching:
        return (f"merge {merge!r} re-noises along a flow-matching path; {adapter.spec.family} samples otherwise: "
                "use x0_mean or xt_mean")
    return None


def check_command(model, command: str, merge: str | None = None) -> None:
    """Raise :class:`~interp.errors.InputError` when ``model`` cannot run ``command``."""
    reason = unsupported(model, command, merge)
    if reason is not None:
        raise InputError(reason)


def family_rows() -> list[tuple[type, list[str]]]:
    """``(adapter class, its pipelines)`` for every family a diffusers folder may hold."""
    from interp.models.loading import PIPELINE_ADAPTERS

    rows: dict[type, list[str]] = {}
    for pipeline, adapter in PIPELINE_ADAPTERS.items():
        rows.setdefault(adapter, []).append(pipeline)
    return list(rows.items())


def capability_table() -> str:
    """The markdown table of families and the causal commands and inputs each supports."""
    lines = ["| family | pipelines | inputs | text encoders (for text prompts) | `--site` (patch, swap) | "
             + " | ".join(f"`{c}`" for c in COMMANDS) + " |",
             "| --- " * (5 + len(COMMANDS)) + "|"]
    for adapter, pipelines in family_rows():
        inputs = "prompts, prompt pairs"
        if adapter.image_pipelines:
            inputs += ", image pairs (" + ", ".join(f"`{p}`" for p in adapter.image_pipelines) + ")"
        cells = []
        for command in COMMANDS:
            if unsupported(adapter, command) is not None:
                cells.append("no: not flow matching")
            elif command == "ensemble" and any(unsupported(adapter, command, m) for m in RENOISING_MERGES):
                refused = [m for m in RENOISING_MERGES if unsupported(adapter, command, m)]
                cells.append("yes, but not " + ", ".join(f"`{m}`" for m in refused) + " (not flow matching)")
            else:
                cells.append("yes")
        lines.append(" | ".join([
            f"| `{adapter.spec.family}`", ", ".join(f"`{p}`" for p in pipelines), inputs,
            ", ".join(f"`{n}`" for n in adapter.text_encoder_names),
            ", ".join(f"`{k}`" for k in adapter.spec.site_kinds), *cells]) + " |")
    return "\n".join(lines) + "\n"


def page_with_table(text: str) -> str:
    """``text`` (a docs page) with the part between :data:`BEGIN` and :data:`END` made the current table."""
    if BEGIN not in text or END not in text:
        raise InputError(f"the page has no {BEGIN} ... {END} part for the table")
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{capability_table()}{END}{rest.split(END, 1)[1]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interp.models.capabilities", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"renew the table in {DOC_PAGE.name}")
    args = parser.parse_args(argv)
    if args.write:
        DOC_PAGE.write_text(page_with_table(DOC_PAGE.read_text()))
    else:
        sys.stdout.write(capability_table())
    return 0


if __name__ == "__main__":  # pragma: no cover - command line
    raise SystemExit(main())
