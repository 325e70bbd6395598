"""Patching localisation: which (layer, step) of a clean run, patched into a corrupted one, restores the clean route?

Runs ``cos patch`` on minimal maze pairs (one wall changed), read at the patched step's x0_hat,
and judges the grid with :func:`interp.reproduce.localisation.patch_claim`.

    python experiments/patch_localisation.py --preset cpu
    python experiments/patch_localisation.py --preset gpu --from experiments/results/organism_patching_64/direct

``--from DIR`` judges a grid that ``cos patch --read-at patched`` already wrote into ``DIR`` (the
published one: 64 pairs, every layer and step, one H200) instead of running the sweep again.
"""

import sys

import json
import shutil
import time
from pathlib import Path

from interp.cli.main import main as cos
from interp.reproduce.localisation import patch_claim
from interp.reproduce.runner import finish, parse

NAME = "patch_localisation"
# the published grid's own record lacks its command (cos patch ran through python -m): as docs/patching.md gives it
GRID_COMMANDS = {"experiments/results/organism_patching_64/direct": (
    "cos patch --device cuda --dtype bfloat16 --pairs 64 --steps 0-19 --region all,changed --read-at patched "
    "--batch-size 1536 --out experiments/results/organism_patching_64/direct")}
PRESETS = {"cpu": ["--pairs", "4", "--steps", "0,6,12", "--region", "all,changed", "--batch-size", "96"],
           "gpu": ["--pairs", "32", "--steps", "0,2,4,6,8,10,12,14,16,18", "--region", "all,changed", "--batch-size", "1536"]}

if __name__ == "__main__":
    started = time.perf_counter()
    argv = sys.argv[1:]
    source = None
    if "--from" in argv:  # an existing cos patch output folder
        at = argv.index("--from")
        source, argv = Path(argv[at + 1]), argv[:at] + argv[at + 2:]
    args = parse(NAME, __doc__.splitlines()[0], argv)
    work = source or Path("outputs/reproduce") / NAME
    if source is None and cos(["patch", *PRESETS[args.preset], "--read-at", "patched", "--device", args.device,
                               "--out", str(work), "--overwrite"]):
        raise SystemExit("cos patch failed")
    args.out.mkdir(parents=True, exist_ok=True)
    images = []
    for png in sorted(work.glob("patch_*.png")):
        shutil.copy(png, args.out / png.name)
        images.append(png.name)
    summary = json.loads((work / "result.json").read_text())
    meta = summary["meta"]
    record = patch_claim(summary)
    record["images"] = images
    # the record states the run that measured the grid: its command, device, dtype and seconds
    if source is not None:        # the grid was measured by an earlier run: count its time
        record["seconds"] = float(meta.get("seconds") or 0.0)
    record["extra"]["grid"] = {"folder": str(source or work), "command": meta.get("command") or GRID_COMMANDS.get(str(source)),
                               "seconds": meta.get("seconds"), "device": meta.get("device"), "dtype": meta.get("dtype")}
    if source is not None:
        record["command_suffix"] = f" --from {source}"
        args.device = "NVIDIA H200 (cuda)" if meta.get("device") == "cuda" else args.device
    finish(NAME, args, started, record, dtype=meta.get("dtype") or "float32", shared=False)
