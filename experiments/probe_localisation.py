"""Probe localisation: in which layers do linear probes read the maze's scene, and in which its route?

Traces held-out mazes through the organism and its random-weight twin (the steps of
``experiments/organism_probes.py``), fits the probes against the twin
(:func:`probes.study.probe_store`, what ``cos probe --control`` runs) and judges the layer bands
with :func:`interp.reproduce.localisation.probe_claim`.

    python experiments/probe_localisation.py --preset cpu

Its negative control runs the same steps on the random twin itself, with a twin of another seed as
the control (``--model outputs/twin --twin-seed 1``): random weights read nothing a random control
does not, so the rule must say "does not hold".
"""

import json
import shutil
import time

from interp.reproduce.localisation import probe_claim
from interp.experiment import finish, options, parse, replotted

NAME = "probe_localisation"
OUTPUTS = ("result.json", "*.png", "probes.csv", "probes.json", "localisation.json", "report.md")
PRESETS = {"cpu": {"count": 20, "batch": 20, "steps": "0,5,10,19", "device": "cpu"},
           "gpu": {"count": 64, "batch": 64, "steps": None, "device": "cuda"}}


if __name__ == "__main__":
    started = time.perf_counter()
    parser = options(NAME, __doc__.splitlines()[0], PRESETS)
    parser.add_argument("--twin-seed", type=int, default=0,
                        help="seed of the random-weight control (another seed when --model is itself a twin)")
    args = parse(parser, PRESETS, outputs=OUTPUTS)
    if replotted(args):
        raise SystemExit(0)
    p = args.settings
    from interp.capture.spec import parse_int_list
    from interp.models import load_model
    from interp.tasks.folders import make_tasks
    from probes.controls import random_twin
    from probes.study import probe_store, trace_tasks
    from probes.sweep import SweepSettings
    from probes.targets import TARGETS

    from interp.results import ROOT, work_folder

    work = work_folder(NAME, args.model)
    shutil.rmtree(work, ignore_errors=True)
    config = load_model(args.model).organism.config
    make_tasks(work / "tasks", sizes=[5], count=p["count"], seed=10_000, num_frames=config.num_frames,
               px_per_unit=config.px_per_unit, palette=config.palette, overwrite=True)
    random_twin(args.model, work / "random_organism", seed=args.twin_seed)
    for name, source in (("trace.h5", args.model), ("trace_random.h5", str(work / "random_organism"))):
        trace_tasks(source, work / "tasks", work / name, steps=config.num_inference_steps, batch=p["batch"],
                    device=args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    probe_store(work / "trace.h5", args.out, targets=list(TARGETS), control=work / "trace_random.h5",
                settings=SweepSettings(device=args.device),
                steps=parse_int_list(p["steps"], "step") if p["steps"] else None,
                source=f"cos probe {(work / 'trace.h5').relative_to(ROOT)}")
    record = probe_claim(json.loads((args.out / "localisation.json").read_text()), n_mazes=p["count"])
    record["images"] = sorted(f.name for f in args.out.glob("*.png"))
    record["settings"] = {"count": p["count"], "steps": p["steps"], "twin_seed": args.twin_seed}
    finish(NAME, args, started, record, shared=False)
