"""The record every experiment writes: ``experiments/results/<name>/result.json`` (``cpu/<name>`` for the cpu preset).

One schema for all, so that the results page can be rebuilt from the JSON alone:

* ``claim``: the paper's statement being tested, in one sentence;
* ``verdict``: ``holds``, ``partly``, ``does not hold`` or ``not testable here`` (on this model), and ``why``;
* ``figures``: measured numbers, each a dict with ``value`` and, where it is an estimate,
  ``ci95`` (``[low, high]``) and ``n``;
* ``images``: PNG files beside the JSON;
* ``preset``, ``model``, ``command``, ``date``, ``machine``, ``device``, ``dtype``, ``seconds``;
* for a claim of the registry: ``rule`` (its text, date and parameters), ``registry`` (the
  registry's commit and SHA-256), ``n_verdict`` (the n behind the verdict) and ``verdicts``
  (the verdict of every dated rule of the claim), see :mod:`interp.registry`.

Example:
    >>> import tempfile, json
    >>> folder = write_result(tempfile.mkdtemp(), name="self_correction",
    ...                       figures={"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}},
    ...                       preset="gpu", command="python -m interp.experiment self_correction --preset gpu")
    >>> record = json.loads((folder / "result.json").read_text())
    >>> record["verdict"], record["n_verdict"], record["rule"]["text"]
    ('holds', 600, 'holds if low(share_self_correcting) > 0.1; partly if value(share_self_correcting) > 0; otherwise does not hold')
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
from pathlib import Path

from interp.errors import InputError, check_choice
from interp.outputs import claim_folder, write_json
from interp.paths import RESULTS, ROOT, recorded_command
from interp.rules import VERDICTS
from interp.stats import share, wilson  # noqa: F401  (the figures every record holds)

#: What an experiment writes into its folder unless it names more: its record and its figures.
OUTPUTS = ("result.json", "*.png")


def result_folder(name: str, preset: str, model: str = "organism") -> Path:
    """Where an experiment writes by default: the published ``gpu`` preset in ``RESULTS/<name>``,
    the ``cpu`` preset of ``make reproduce`` in ``RESULTS/cpu/<name>``, so a re-run never overwrites
    the published figures. Another model than the maze organism writes below a folder of its own
    name, ``RESULTS/<model>/<name>`` and ``RESULTS/<model>/cpu/<name>`` (a model folder by its last part).

    Example:
        >>> result_folder("layer_swap", "cpu").relative_to(RESULTS).as_posix()
        'cpu/layer_swap'
        >>> result_folder("layer_swap", "gpu", model="walker").relative_to(RESULTS).as_posix()
        'walker/layer_swap'
    """
    base = RESULTS if str(model) == "organism" else RESULTS / model_name(model)
    return base / name if preset == "gpu" else base / preset / name


def work_folder(name: str, model: str = "organism") -> Path:
    """Where an experiment keeps what it makes on the way (task folders, traces, grids):
    ``ROOT/outputs/reproduce/<name>``, another model's below ``outputs/reproduce/<model>/``; never
    the working folder, and never the results folder."""
    base = ROOT / "outputs" / "reproduce"
    return base / name if str(model) == "organism" else base / model_name(model) / name


def model_name(model) -> str:
    """The short name a model's records and folders carry: ``organism``, ``walker``, or a model folder's last part."""
    name = Path(str(model)).name
    if not name or name in (".", ".."):
        raise InputError(f"model {model!r} has no name to file its results under: give organism, walker or a folder")
    return name


def write_result(folder: str | Path, *, name: str, figures: dict, preset: str, claim: str | None = None,
                 verdict: str | None = None, why: str | None = None, reading: str | None = None,
                 command: str | None = None, images: list[str] = (), device: str = "cpu", dtype: str | None = None,
                 model: str = "organism", seconds: float | None = None, settings: dict | None = None,
                 extra: dict | None = None) -> Path:
    """Write ``result.json`` into ``folder`` (created) and return the folder.

    A claim of the registry (``experiments/claims.toml``) is judged by its rules there
    (:func:`interp.registry.judge_record`), from the figures and settings alone: a ``verdict`` the
    script computed itself is not used, and its ``why`` is kept as the record's ``reading`` (the
    script's account of the numbers). Any other name needs ``claim``, ``verdict`` and ``why``.
    ``dtype`` defaults to the settings' own.
    """
    from interp import registry

    for key, figure in figures.items():
        if not isinstance(figure, dict) or "value" not in figure:
            raise InputError(f"figure {key!r} must be a dict with a 'value' (and 'ci95', 'n' for estimates)")
    settings = settings if settings is not None else (extra or {}).get("settings")
    judged = registry.registered(name)
    if str(device).startswith("cuda"):          # name the accelerator, not the torch device string
        import torch

        device = torch.cuda.get_device_name(torch.device(device)) if torch.cuda.is_available() else device
    record = {
        "name": name, "claim": claim, "verdict": None if judged else verdict, "why": None if judged else why,
        "figures": figures, "images": list(images), "preset": preset,
        "model": (settings or {}).get("model", model),
        "command": command or recorded_command(["python", *sys.argv]),
        "date": datetime.date.today().isoformat(), "machine": platform.node(), "device": device,
        "dtype": dtype or (settings or {}).get("dtype"),
        "seconds": None if seconds is None else round(float(seconds), 1),
    }
    reading = reading or (why if judged else None)
    if reading:
        record["reading"] = reading
    if settings is not None:
        record["settings"] = settings
    record.update({k: v for k, v in (extra or {}).items() if k != "settings"})
    if judged:
        registry.judge_record(record)
    else:
        check_choice("verdict", verdict, VERDICTS)
        if not claim or why is None:
            raise InputError(f"{name} is not in the claims registry: give claim, verdict and why")
    folder = Path(folder)
    write_json(folder / "result.json", record, default=float)
    return folder


class ScriptParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`InputError` (one line through :func:`script_main`),
    with the ``--overwrite`` option of the output rule (:mod:`interp.outputs`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("--overwrite", action="store_true",
                          help="replace the record and figures of an earlier run in the output folder")

    def error(self, message):
        raise InputError(message)


def claim_output(args, outputs=OUTPUTS) -> Path:
    """Check ``args.out`` before an experiment does any work (see :func:`interp.outputs.claim_folder`):
    a folder holding any of ``outputs`` is refused unless ``args.overwrite``. A ``--replot`` or
    ``--from-raw`` run rebuilds its own folder's record and figures, which is its purpose."""
    rebuilds = getattr(args, "replot", False) or getattr(args, "from_raw", None)
    return claim_folder(args.out, () if rebuilds else outputs, overwrite=getattr(args, "overwrite", False))


def script_error(err: InputError) -> int:
    """Print a bad input as one line ``<script>: error: ...`` (as ``cos`` does) and return exit code 2."""
    print(f"{Path(sys.argv[0]).name or 'experiment'}: error: {err}", file=sys.stderr)
    return 2


def script_main(main, argv=None) -> int:
    """Run an experiment script's ``main(argv)``; bad input prints one line ``<script>: error: ...`` and gives 2.

    Example:
        >>> def main(argv):
        ...     raise InputError("noise strength -1 is not valid: use a finite number >= 0")
        >>> script_main(main, [])
        2
    """
    try:
        return int(main(argv) or 0)
    except InputError as err:
        return script_error(err)
