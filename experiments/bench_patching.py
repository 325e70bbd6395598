"""Benchmark: the patching sweep that reuses the corrupted run's x_t against the naive rerun.

Both sweeps run the sweep of ``cos patch`` (:func:`interp.causal.maze_patch.patch_maze_pairs`) in
this process on the same pairs, grid and device, one after the other, so their ratio is measured in
one run; the clock is the sweep's own (``grid.json``'s
``meta.seconds``: the clean and corrupted runs plus every cell), not model loading or figures.
Under ``torchrun`` only the fast sweep runs, once per rank, and rank 0 prints its time, to be set
against the one-process time of the same command.

Usage (the last line printed is a JSON record)::

    python experiments/bench_patching.py --preset gpu --device cuda --out /tmp/bp        # 64 pairs, 12 x 20
    python experiments/bench_patching.py --preset cpu --out /tmp/bp                       # 8 pairs, 12 x 5
    torchrun --nproc-per-node 2 experiments/bench_patching.py --preset gpu --device cuda --out /tmp/bp2 --fast-only
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

PRESETS = {
    # 64 minimal pairs of 5x5 mazes, every layer and step, all tokens and the changed units' tokens.
    "gpu": {"pairs": 64, "steps": list(range(20)), "regions": "all,changed", "batch_size": 1536, "dtype": "bfloat16"},
    # 8 pairs, every layer, 5 steps, read at the patched step (one forward per cell) for 2 CPU cores.
    "cpu": {"pairs": 8, "steps": [0, 4, 8, 12, 16], "regions": "all,changed", "read_at": "patched"},
}


def main(argv=None) -> int:
    from interp.results import ScriptParser, claim_output

    parser = ScriptParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", required=True, help="folder for the two sweeps' outputs")
    parser.add_argument("--fast-only", action="store_true", help="skip the naive sweep")
    args = parser.parse_args(argv)
    claim_output(args, ["fast", "naive"])

    import torch

    from interp.causal.maze_patch import OUTPUTS, patch_maze_pairs, save_patch_study
    from interp.distributed import init_from_env, shutdown
    from interp.models import load_model
    from interp.outputs import claim_folder
    from interp.tasks import make_pairs

    out = Path(args.out)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    runs = [("fast", True)] + ([] if args.fast_only else [("naive", False)])
    settings = dict(PRESETS[args.preset])
    record = {"preset": args.preset, "device": args.device, "world_size": world, "machine": platform.node(),
              "date": datetime.date.today().isoformat(), "settings": dict(settings)}
    if args.device.startswith("cuda"):
        record["gpu"] = torch.cuda.get_device_name(0)
    dtype = settings.pop("dtype", "float32")
    pairs = make_pairs(5, settings.pop("pairs"), 910_000, kind="wall")
    ctx = init_from_env(args.device)
    try:
        model = load_model("organism", device=ctx.device(args.device), dtype=getattr(torch, dtype))
        for name, reuse_prefix in runs:
            study = patch_maze_pairs(model, pairs, reuse_prefix=reuse_prefix, context=ctx, **settings)
            if study is not None:  # rank 0 (or the only process)
                save_patch_study(claim_folder(out / name, OUTPUTS, overwrite=True), study)
                record[f"{name}_seconds"] = round(study.grid.meta["seconds"], 2)
                record["cells"] = study.grid.meta["cells"]
    finally:
        shutdown()
    if int(os.environ.get("RANK", "0")) == 0:
        if "naive_seconds" in record:
            record["speedup"] = round(record["naive_seconds"] / record["fast_seconds"], 3)
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
