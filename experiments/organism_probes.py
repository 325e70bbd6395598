"""Probe the maze organism and a randomly initialised twin; write the localisation report.

Every step is a public command or function, so the result can be rerun piece by piece:

1. ``cos tasks make`` writes held-out mazes (seeds from 10000: not the training stream's);
2. :func:`probes.controls.random_twin` writes the random-weight twin of the organism;
3. :func:`interp.capture.capture` records ``resid_post`` of every block and ``x0`` at every
   step for both models, in batches of mazes (what ``cos trace --sites resid_post,x0`` stores,
   one maze at a time; batching only makes it faster);
4. ``cos probe --control`` fits every target on every (layer, step) and writes the report;
5. ``cos maps`` draws token maps of the first maze (``--maps-random``: for the twin too).

The probe table holds both models' scores: ``score`` (trained) and ``control_random`` (twin).

Example::

    python experiments/organism_probes.py --out outputs/organism_probes --count 64 --size 5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def trace_batched(model_source, tasks_dir: Path, out: Path, *, steps: int, batch: int, device: str) -> None:
    """Capture every task of ``tasks_dir`` into ``out``, ``batch`` mazes per sampling run."""
    import numpy as np
    from tqdm import tqdm

    from interp.capture import CaptureSpec, capture
    from interp.cli.trace import find_tasks
    from interp.models import load_model

    model = load_model(model_source, device=device)
    tasks = find_tasks([str(tasks_dir)])
    spec = CaptureSpec.make(["resid_post", "x0"])
    for i in tqdm(range(0, len(tasks), batch), desc=f"tracing {out.name}"):
        chunk = tasks[i:i + batch]
        inputs = model.prepare(first_frame=np.stack([t.first_frame for t in chunk]), seeds=[0] * len(chunk))
        capture(model, inputs, spec, out, num_steps=steps, sample_ids=[f"{t.folder.name}-seed0" for t in chunk],
                tasks=[{"folder": str(t.folder), "prompt": t.prompt, **t.metadata} for t in chunk],
                save_video=False, progress=False)


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

    from interp.cli.main import main as cos
    from interp.models import load_model
    from probes.controls import random_twin

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model)
    config = model.organism.config
    steps = args.num_steps or config.num_inference_steps
    tasks, twin = out / "tasks", out / "random_organism"
    traces = {"trained": out / "trace.h5", "random": out / "trace_random.h5"}
    timings = {}

    def run(name, argv):
        started = time.perf_counter()
        code = cos(argv)
        timings[name] = round(time.perf_counter() - started, 1)
        if code:
            raise SystemExit(f"{name} failed with exit code {code}")

    if not args.skip_trace:
        run("tasks", ["tasks", "make", "--sizes", str(args.size), "--count", str(args.count), "--seed",
                      str(args.first_seed), "--frames", str(config.num_frames), "--px", str(config.px_per_unit),
                      "--palette", config.palette, "--out", str(tasks), "--overwrite"])
        random_twin(args.model, twin, seed=0)
        for name, source in (("trained", args.model), ("random", str(twin))):
            started = time.perf_counter()
            trace_batched(source, tasks, traces[name], steps=steps, batch=args.batch, device=args.device)
            timings[f"trace_{name}"] = round(time.perf_counter() - started, 1)
    probe_device = ["--device", args.device]
    run("probe", ["probe", str(traces["trained"]), "--control", str(traces["random"]), "--out", str(out / "probes")]
        + probe_device)
    for name in ("trained", "random") if args.maps_random else ("trained",):
        run(f"maps_{name}", ["maps", str(traces[name]), "--out", str(out / f"maps_{name}")])
    (out / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print((out / "probes" / "report.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
