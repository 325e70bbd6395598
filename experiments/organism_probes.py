"""Probe the maze organism and a randomly initialised twin; write the localisation report.

Every step is a public function (and a command), so the result can be rerun piece by piece:

1. :func:`interp.tasks.make_tasks` (``cos tasks make``) writes held-out mazes (seeds from 10000:
   not the training stream's);
2. :func:`probes.controls.random_twin` writes the random-weight twin of the organism;
3. :func:`interp.capture.capture` records ``resid_post`` of every block and ``x0`` at every
   step for both models, in batches of mazes (what ``cos trace --sites resid_post,x0`` stores,
   one maze at a time; batching only makes it faster);
4. :func:`probes.study.probe_store` (``cos probe --control``) fits every target on every
   (layer, step) and writes the report;
5. :func:`interp.viz.maps.sample_maps` (``cos maps``) draws token maps of the first maze
   (``--maps-random``: for the twin too).

The probe table holds both models' scores: ``score`` (trained) and ``control_random`` (twin).

Example::

    python experiments/organism_probes.py --out outputs/organism_probes --count 64 --size 5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="organism", help="organism folder (default: the shipped one)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=64, help="mazes")
    parser.add_argument("--size", type=int, default=5, help="maze size in cells")
    parser.add_argument("--first-seed", type=int, default=10_000, help="first maze seed")
    parser.add_argument("--num-steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=16, help="mazes per sampling batch")
    parser.add_argument("--skip-trace", action="store_true", help="reuse traces already in OUT")
    parser.add_argument("--maps-random", action="store_true", help="also draw token maps of the random twin")
    args = parser.parse_args(argv)

    from interp.models import load_model
    from interp.outputs import claim_folder
    from interp.paths import recorded_path
    from interp.store import TraceStore
    from interp.tasks.folders import make_tasks
    from interp.viz.maps import OUTPUTS as MAP_OUTPUTS, sample_maps
    from probes.controls import random_twin
    from probes.report import OUTPUTS as REPORT_OUTPUTS
    from probes.study import probe_store, trace_tasks
    from probes.sweep import OUTPUTS as TABLE_OUTPUTS, SweepSettings
    from probes.targets import TARGETS

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model)
    config = model.organism.config
    steps = args.num_steps or config.num_inference_steps
    tasks, twin = out / "tasks", out / "random_organism"
    traces = {"trained": out / "trace.h5", "random": out / "trace_random.h5"}
    timings = {}

    def timed(name, work):
        started = time.perf_counter()
        work()
        timings[name] = round(time.perf_counter() - started, 1)

    if not args.skip_trace:
        timed("tasks", lambda: make_tasks(tasks, sizes=[args.size], count=args.count, seed=args.first_seed,
                                          num_frames=config.num_frames, px_per_unit=config.px_per_unit,
                                          palette=config.palette, overwrite=True))
        random_twin(args.model, twin, seed=0)
        for name, source in (("trained", args.model), ("random", str(twin))):
            timed(f"trace_{name}", lambda source=source, name=name: trace_tasks(
                source, tasks, traces[name], steps=steps, batch=args.batch, device=args.device))
    probes = claim_folder(out / "probes", TABLE_OUTPUTS + REPORT_OUTPUTS)
    timed("probe", lambda: probe_store(traces["trained"], probes, targets=list(TARGETS), control=traces["random"],
                                       settings=SweepSettings(device=args.device),
                                       source=f"cos probe {recorded_path(traces['trained'])}"))
    for name in ("trained", "random") if args.maps_random else ("trained",):
        def maps(name=name):
            folder = claim_folder(out / f"maps_{name}", MAP_OUTPUTS)
            with TraceStore.open(traces[name]) as store:
                sample_maps(store, store.sample_ids()[0], folder)
        timed(f"maps_{name}", maps)
    (out / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print((probes / "report.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
