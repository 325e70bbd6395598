"""Probe localisation: in which layers do linear probes read the maze's scene, and in which its route?

Traces held-out mazes through the organism and its random-weight twin (the steps of
``experiments/organism_probes.py``), fits ``cos probe --control`` and judges the layer bands
with :func:`interp.reproduce.localisation.probe_claim`.

    python experiments/probe_localisation.py --preset cpu
"""

import importlib.util
import json
import shutil
import time
from pathlib import Path

from interp.cli.main import main as cos
from interp.reproduce.localisation import probe_claim
from interp.reproduce.runner import finish, parse

NAME = "probe_localisation"
OUTPUTS = ("result.json", "*.png", "probes.csv", "probes.json", "localisation.json", "report.md")
PRESETS = {"cpu": {"count": 20, "batch": 20, "steps": "0,5,10,19"},
           "gpu": {"count": 64, "batch": 64, "steps": None}}


def organism_probes():
    """The tracing helper of experiments/organism_probes.py (a script, so loaded from its file)."""
    spec = importlib.util.spec_from_file_location("organism_probes", Path(__file__).with_name("organism_probes.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(argv):
    if cos(argv):
        raise SystemExit(f"cos {' '.join(argv)} failed")


if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(NAME, __doc__.splitlines()[0], outputs=OUTPUTS)
    p = PRESETS[args.preset]
    from interp.models import load_model
    from probes.controls import random_twin

    work = Path("outputs/reproduce") / NAME
    shutil.rmtree(work, ignore_errors=True)
    config = load_model("organism").organism.config
    call(["tasks", "make", "--sizes", "5", "--count", str(p["count"]), "--seed", "10000", "--frames",
          str(config.num_frames), "--px", str(config.px_per_unit), "--palette", config.palette,
          "--out", str(work / "tasks"), "--overwrite"])
    random_twin("organism", work / "random_organism", seed=0)
    trace = organism_probes().trace_batched
    for name, source in (("trace.h5", "organism"), ("trace_random.h5", str(work / "random_organism"))):
        trace(source, work / "tasks", work / name, steps=config.num_inference_steps, batch=p["batch"],
              device=args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    call(["probe", str(work / "trace.h5"), "--control", str(work / "trace_random.h5"), "--out", str(args.out),
          "--device", args.device] + (["--steps", p["steps"]] if p["steps"] else []))
    record = probe_claim(json.loads((args.out / "localisation.json").read_text()), n_mazes=p["count"])
    record["images"] = sorted(f.name for f in args.out.glob("*.png"))
    record["settings"] = {"count": p["count"], "steps": p["steps"]}
    finish(NAME, args, started, record, shared=False)
