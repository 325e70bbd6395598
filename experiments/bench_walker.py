"""CPU time of one walker sample: one held-out maze per size, 20 steps, guidance on (two calls a step).

Prints wall-clock and process CPU seconds, and the load average, since a shared machine slows
the wall clock: on an idle machine the wall clock of a 2-thread run is near CPU time / 2.

    OMP_NUM_THREADS=2 python experiments/bench_walker.py --sizes 5 7 9
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch


def main(argv=None) -> int:
    from interp.models import load_model
    from interp.models.walker import sample_walker
    from interp.organism.walk_data import heldout_walks
    from interp.organism.walk_eval import first_frames

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 7, 9])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = load_model("maze-walk-tiny")
    rows = []
    for size in args.sizes:
        walk = heldout_walks(size, 1)
        frames = first_frames(walk, model.organism.config.px_per_unit)
        sample_walker(model, frames, num_steps=1)  # warm-up
        wall, cpu = time.perf_counter(), time.process_time()
        sample_walker(model, frames, num_steps=args.steps, seed=0)
        rows.append({"size": size, "steps": args.steps, "guidance_scale": model.organism.config.guidance_scale,
                     "threads": args.threads, "wall_s": round(time.perf_counter() - wall, 1),
                     "cpu_s": round(time.process_time() - cpu, 1), "load_avg_1min": os.getloadavg()[0]})
        print(json.dumps(rows[-1]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
