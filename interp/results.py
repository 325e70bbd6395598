"""The record every experiment writes: ``experiments/results/<name>/result.json`` (``cpu/<name>`` for the cpu preset).

One schema for all, so that the results page can be rebuilt from the JSON alone:

* ``claim``: the paper's statement being tested, in one sentence;
* ``verdict``: ``holds``, ``partly``, ``does not hold`` or ``not testable here`` (on this model), and ``why``;
* ``figures``: measured numbers, each a dict with ``value`` and, where it is an estimate,
  ``ci95`` (``[low, high]``) and ``n``;
* ``images``: PNG files beside the JSON;
* ``preset``, ``command``, ``date``, ``machine``, ``device``, ``seconds``.

Example:
    >>> import tempfile, json
    >>> folder = write_result(tempfile.mkdtemp(), name="demo", claim="x", verdict="holds", why="y",
    ...                       figures={"accuracy": {"value": 0.9, "ci95": [0.8, 0.95], "n": 300}},
    ...                       preset="cpu", command="python experiments/demo.py")
    >>> json.loads((folder / "result.json").read_text())["verdict"]
    'holds'
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

from interp.errors import InputError, check_choice
from interp.rules import VERDICTS
from interp.stats import share, wilson  # noqa: F401  (the figures every record holds)

RESULTS = Path("experiments/results")


def result_folder(name: str, preset: str) -> Path:
    """Where an experiment writes by default: the published ``gpu`` preset in ``RESULTS/<name>``,
    the ``cpu`` preset of ``make reproduce`` in ``RESULTS/cpu/<name>``, so a re-run never overwrites
    the published figures."""
    return RESULTS / name if preset == "gpu" else RESULTS / preset / name


def write_result(folder: str | Path, *, name: str, claim: str, verdict: str, why: str, figures: dict,
                 preset: str, command: str | None = None, images: list[str] = (), device: str = "cpu",
                 seconds: float | None = None, extra: dict | None = None) -> Path:
    """Write ``result.json`` into ``folder`` (created) and return the folder."""
    check_choice("verdict", verdict, VERDICTS)
    for key, figure in figures.items():
        if not isinstance(figure, dict) or "value" not in figure:
            raise InputError(f"figure {key!r} must be a dict with a 'value' (and 'ci95', 'n' for estimates)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "name": name, "claim": claim, "verdict": verdict, "why": why, "figures": figures,
        "images": list(images), "preset": preset,
        "command": command or " ".join(["python", *sys.argv]),
        "date": datetime.date.today().isoformat(), "machine": platform.node(), "device": device,
        "seconds": None if seconds is None else round(float(seconds), 1),
    }
    record.update(extra or {})
    (folder / "result.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    return folder


class ScriptParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`InputError` (one line through :func:`script_main`)."""

    def error(self, message):
        raise InputError(message)


def script_main(main, argv=None) -> int:
    """Run an experiment script's ``main(argv)``; bad input prints one line ``error: ...`` and gives 2.

    Example:
        >>> def main(argv):
        ...     raise InputError("noise strength -1 is not valid: use a finite number >= 0")
        >>> script_main(main, [])
        2
    """
    try:
        return int(main(argv) or 0)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
