"""The common command line of the claim experiments: ``--preset cpu|gpu``, timing and result.json.

Example::

    python -m interp.experiment exploration_pruning --preset cpu     # -> experiments/results/cpu/exploration_pruning/
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from interp.errors import InputError
from interp.results import OUTPUTS, ROOT, ScriptParser, claim_output, result_folder, script_error, write_result

# cpu: small enough for `make reproduce` on 2 shared cores; gpu: the published figures
PRESETS = {
    "cpu": {"sizes": [5, 7], "count": 12, "batch": 24, "device": "cpu",
            "renoise_sizes": [5], "renoise_count": 6, "ks": [-1, 1, 4, 8],
            "avg_sizes": [5], "avg_count": 4, "avg_draws": 4, "avg_steps": [0, 1, 4]},
    "gpu": {"sizes": [5, 7, 9], "count": 200, "batch": 600, "device": "cuda",
            "renoise_sizes": [5, 7, 9], "renoise_count": 200, "ks": [-1, 0, 1, 2, 3, 4, 6, 8, 12],
            "avg_sizes": [5, 7, 9], "avg_count": 64, "avg_draws": 8, "avg_steps": [0, 1, 2, 4]},
}
CACHE = ROOT / "outputs" / "cache"


def parse(name: str, description: str, argv=None, *, outputs=OUTPUTS, prog: str | None = None) -> argparse.Namespace:
    """``--preset``, ``--device`` (default: the preset's), ``--out`` (default :func:`interp.results.result_folder`),
    ``--overwrite``; the output folder is checked here, before any work (bad input: one line, exit 2)."""
    try:
        return _parse(name, description, argv, outputs, prog)
    except InputError as err:
        raise SystemExit(script_error(err)) from None


def _parse(name: str, description: str, argv, outputs, prog) -> argparse.Namespace:
    parser = ScriptParser(prog=prog, description=description)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu", help="cpu: minutes on 2 cores; gpu: published")
    parser.add_argument("--device", default=None, help="torch device (default: cpu for cpu, cuda for gpu)")
    parser.add_argument("--out", default=None, help=f"output folder (default: {result_folder(name, 'gpu')} for gpu, "
                        f"{result_folder(name, 'cpu')} for cpu)")
    args = parser.parse_args(argv)
    args.settings = PRESETS[args.preset]
    args.device = args.device or args.settings["device"]
    args.out = Path(args.out or result_folder(name, args.preset))
    claim_output(args, outputs)
    return args


def samples_for(args, model, thresholds=(0.5,)) -> dict:
    """Chain-of-Steps samples of the preset's held-out mazes, shared by the claim scripts (cached)."""
    from interp.reproduce.trajectories import cached_samples

    s = args.settings
    return cached_samples(model, sizes=s["sizes"], count=s["count"], thresholds=(0.25, 0.5), batch=s["batch"],
                          cache=CACHE / f"cos_samples_{args.preset}_{args.device.split(':')[0]}.json")


def finish(name: str, args, started: float, record: dict, *, dtype: str = "float32", shared: bool = True,
           command: str | None = None) -> Path:
    """Write ``result.json`` for a claim summary (see :mod:`interp.reproduce.claims`), judged by the
    claims registry, and print the verdict. ``shared``: the record was made from the preset's shared
    samples (:func:`samples_for`), so its settings are recorded."""
    import platform

    device = args.device
    if device.startswith("cuda"):
        import torch

        device = torch.cuda.get_device_name(0)
    record = dict(record)
    settings = {"preset": args.preset, "device": args.device, "dtype": dtype, **(args.settings if shared else {}),
                **record.pop("settings", {})}
    command = (command or f"python experiments/{name}.py --preset {args.preset}") + record.pop("command_suffix", "")
    folder = write_result(args.out, name=name, preset=args.preset, device=device, dtype=dtype, settings=settings,
                          seconds=record.pop("seconds", 0.0) + time.perf_counter() - started, command=command,
                          **record)
    print(f"{name}: {read_verdict(folder)} ({platform.node()}, {time.perf_counter() - started:.0f} s)", file=sys.stdout)
    return folder


def read_verdict(folder) -> str:
    """``verdict (n=...): why`` of the record in ``folder``."""
    import json

    record = json.loads((Path(folder) / "result.json").read_text())
    return f"{record['verdict']} (n={record.get('n_verdict')}): {record['why']}"
