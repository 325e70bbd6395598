"""Patching localisation: which (layer, step) of a clean run, patched into a corrupted one, restores the clean route?

Runs ``cos patch`` on minimal maze pairs (one wall changed), read at the patched step's x0_hat,
and judges the grid with :func:`interp.reproduce.localisation.patch_claim`.

    python experiments/patch_localisation.py --preset cpu
"""

import json
import shutil
import time
from pathlib import Path

from interp.cli.main import main as cos
from interp.reproduce.localisation import patch_claim
from interp.reproduce.runner import finish, parse

NAME = "patch_localisation"
PRESETS = {"cpu": ["--pairs", "4", "--steps", "0,6,12", "--region", "all,changed", "--batch-size", "96"],
           "gpu": ["--pairs", "32", "--steps", "0,2,4,6,8,10,12,14,16,18", "--region", "all,changed", "--batch-size", "1536"]}

if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(NAME, __doc__.splitlines()[0])
    work = Path("outputs/reproduce") / NAME
    if cos(["patch", *PRESETS[args.preset], "--read-at", "patched", "--device", args.device, "--out", str(work),
            "--overwrite"]):
        raise SystemExit("cos patch failed")
    args.out.mkdir(parents=True, exist_ok=True)
    images = []
    for png in sorted(work.glob("patch_*.png")):
        shutil.copy(png, args.out / png.name)
        images.append(png.name)
    summary = json.loads((work / "result.json").read_text())
    record = patch_claim(summary)
    record["images"] = images
    finish(NAME, args, started, record)
