"""Benchmark: the patching sweep with its speed switches against the plain and naive sweeps.

Every arm runs the sweep ``cos patch`` runs (:func:`~interp.causal.pair_patch.patch_pairs`
with the switches of :mod:`interp.models.speed`) in this process on the same pairs, grid and
device, one after the other, so their ratios are measured in one run; the clock is the sweep's
own (``grid.json``'s ``meta.seconds``: the clean and corrupted runs plus every cell, scored), not
model loading or figures. The arms:

* ``fast``: every switch (start at the patched block, shared states, and on CUDA compiled blocks,
  the attention kernel given and the stacked rotary form); run twice when compiled, the first
  run paying the compile (every arm shares one loaded model, so the second reuses the first's
  compiled blocks);
* ``stock_rotary``: the fast arm with diffusers' own rotary embedding (what ``stacked`` saves);
* ``highest_matmul``: the fast arm with float32 matrix products in float32 (what ``--matmul high``,
  TF32 tensor cores, saves and how far it moves the grid);
* ``plain``: the sweep from the corrupted run's saved x_s alone (eager, no other switch);
* ``naive``: every cell rerun from step 0 (eager).

The record also says how far the fast grid is from the naive one (largest absolute difference
of each metric over all cells), and the machine's load. It is printed as the last line and
written to ``--record`` (default ``experiments/results/bench_patching/<preset>_<device>_<dtype>_<date>.json``)
before the first arm (``runs`` lists the arms planned) and again after each, so that a run cut short
keeps the arms it finished.
Under ``torchrun`` only the fast arm runs, once per rank; rank 0 records its time.

Usage::

    python experiments/bench_patching.py --preset gpu --device cuda --out /tmp/bp           # 64 pairs, 12 x 20
    python experiments/bench_patching.py --preset gpu --device cuda --dtype float32 --arms fast --out /tmp/bp32
    python experiments/bench_patching.py --preset gpu --device cuda --dtype float32 --matmul high \
        --arms fast,highest_matmul --out /tmp/bp32                                         # TF32 against float32
    python experiments/bench_patching.py --preset cpu --arms fast,plain --out /tmp/bp       # 8 pairs, 12 x 5
    torchrun --nproc-per-node 2 experiments/bench_patching.py --preset gpu --device cuda --arms fast --out /tmp/bp2
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

PRESETS = {
    # 64 minimal pairs of 5x5 mazes, every layer and step, all tokens and the changed units' tokens.
    "gpu": dict(pairs=64, steps=range(20), regions="all,changed", batch_size=1536, read_at="final"),
    # 8 pairs, every layer, 5 steps, read at the patched step (one forward per cell) for 2 CPU cores.
    "cpu": dict(pairs=8, steps=(0, 4, 8, 12, 16), regions="all,changed", batch_size=128, read_at="patched"),
    # 2 pairs, every layer, step 0, read at the patched step: the script's own test.
    "tiny": dict(pairs=2, steps=(0,), regions="all,changed", batch_size=64, read_at="patched"),
}
ARMS = {"fast": {}, "stock_rotary": dict(rotary="stock"), "highest_matmul": dict(matmul="highest"),
        "plain": dict(reuse_layers=False, share_states=False), "naive": dict(naive=True)}


def sweep(folder, *, device: str, dtype: str, pairs: int, steps, regions: str, batch_size: int, read_at: str,
          compile: str = "none", attention: str = "auto", rotary: str = "stock", matmul: str = "highest",
          naive: bool = False, reuse_layers: bool = True, share_states: bool = True, model=None, context=None):
    """One patching sweep of minimal wall-pair mazes on the shipped organism, as ``cos patch`` runs it
    (no effect maps); saves the grid into ``folder`` and returns the study (``None`` on other ranks)."""
    import torch

    from interp.causal.pair_patch import patch_pairs
    from interp.models import load_model
    from interp.models.speed import attention_backend, compile_blocks, matmul_precision, rotary_form
    from interp.tasks import make_pairs
    from interp.tasks.maze_task import MazePairTask

    model = model or load_model("organism", device=device, dtype=getattr(torch, dtype))
    stock = rotary_form(model, rotary)  # before compiling: the compiled blocks trace the processor
    eager = compile_blocks(model, compile)
    try:
        with attention_backend(attention), matmul_precision(matmul):
            task = MazePairTask(make_pairs(5, pairs, 910_000, kind="wall"), regions)
            study = patch_pairs(model, task, steps=list(steps), num_steps=model.organism.config.num_inference_steps,
                                batch_size=batch_size, reuse_prefix=not naive, read_at=read_at, effect_maps=0,
                                context=context, record=dict(device=device, dtype=dtype, compile=compile,
                                                             attention=attention, rotary=rotary, matmul=matmul),
                                sweep_options=dict(reuse_layers=reuse_layers, share_states=share_states))
    finally:
        eager()
        stock()
    if study is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        study.grid.save(folder)
    return study


def main(argv=None) -> int:
    from interp.models.speed import MATMUL_PRECISIONS
    from interp.paths import recorded_text
    from interp.results import ScriptParser, claim_output

    parser = ScriptParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None, choices=("float32", "bfloat16"),
                        help="weights (default: bfloat16 on CUDA, float32 on the CPU)")
    parser.add_argument("--arms", default="fast,naive", help=f"comma list of {', '.join(ARMS)}")
    parser.add_argument("--compile", default=None, help="compile mode of the fast arm (default: 'default' on CUDA, "
                                                        "'none' on the CPU)")
    parser.add_argument("--attention", default="auto", help="attention kernel of the fast arm")
    parser.add_argument("--rotary", default=None, help="rotary form of the fast arm (default: 'stacked' on CUDA, "
                                                       "'stock' on the CPU)")
    parser.add_argument("--matmul", default="highest", choices=MATMUL_PRECISIONS,
                        help="float32 matrix-product precision of the fast arm ('high': TF32 tensor cores)")
    parser.add_argument("--once", action="store_true",
                        help="run the compiled fast arm once (its time then includes compiling)")
    parser.add_argument("--note", default=None, help="kept in the record (e.g. what else ran on the device)")
    parser.add_argument("--out", required=True, help="folder for the sweeps' outputs")
    parser.add_argument("--record", default=None, help="where the JSON record goes")
    args = parser.parse_args(argv)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        parser.error(f"--arms {args.arms!r}: choose from {', '.join(ARMS)}")
    claim_output(args, [*(f"{a}_cold" for a in arms), *arms])

    import numpy as np
    import torch

    from interp.distributed import init_from_env, shutdown
    from interp.interventions import PatchGrid

    cuda = args.device.startswith("cuda")
    dtype = args.dtype or ("bfloat16" if cuda else "float32")
    mode = args.compile or ("default" if cuda else "none")
    rotary = args.rotary or ("stacked" if cuda else "stock")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    main_rank = int(os.environ.get("RANK", "0")) == 0
    if world > 1:
        arms = ["fast"]
    out = Path(args.out)
    record = {"preset": args.preset, "device": args.device, "dtype": dtype, "world_size": world,
              "machine": platform.node(),
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "torch": torch.__version__, "compile": mode, "attention": args.attention, "rotary": rotary,
              "matmul": args.matmul,
              "grid": {k: list(v) if isinstance(v, range) else v for k, v in PRESETS[args.preset].items()},
              "load_before": os.getloadavg(), "cpu_threads": torch.get_num_threads()}
    if cuda:
        record["gpu"] = torch.cuda.get_device_name(0)
    path = Path(args.record or Path(__file__).parent / "results" / "bench_patching" /
                f"{args.preset}_{args.device.split(':')[0]}{'' if world == 1 else f'x{world}'}_{dtype}_"
                f"{record['date'][:10]}.json")

    def write(record):  # before the first arm and after each, so that a run cut short keeps what it measured
        if main_rank:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2) + "\n")

    runs = []
    for arm in arms:
        options = dict(ARMS[arm])
        if arm in ("fast", "stock_rotary", "highest_matmul"):
            options = {"compile": mode, "attention": args.attention, "rotary": rotary, "matmul": args.matmul,
                       **options}
            runs += [(f"{arm}_cold", options)] if mode != "none" and not args.once else []
        runs.append((arm, options))
    record.update(runs=[name for name, _ in runs], note=args.note)
    write(record)
    context = init_from_env(args.device)
    try:
        from interp.models import load_model

        # One model for every arm: the compiled arm's second run reuses the first's compiled blocks.
        model = load_model("organism", device=context.device(args.device), dtype=getattr(torch, dtype))
        for name, options in runs:
            folder = out / name
            settings = dict(device=str(context.device(args.device)), dtype=dtype, **PRESETS[args.preset], **options)
            try:
                study = sweep(folder, model=model, context=context, **settings)
            except Exception as error:  # a compiler failure must not cost the other arms: record it, run eager
                if options.get("compile", "none") == "none":
                    raise
                record.setdefault("errors", []).append(recorded_text(f"{name}: {type(error).__name__}: {str(error)[:500]}"))
                record["compile"] = mode = "none"
                study = sweep(folder, model=model, context=context, **dict(settings, compile="none"))
            if main_rank:
                record[f"{name}_seconds"] = round(study.grid.meta["seconds"], 2)
                record["cells"] = study.grid.meta["cells"]
                if options.get("compile", "none") != "none":  # how many graphs were compiled so far (recompiles)
                    from torch._dynamo.utils import counters

                    record[f"{name}_dynamo"] = {k: int(v) for k, v in counters["stats"].items()}
                write(record)
    finally:
        shutdown()
    if not main_rank:
        return 0
    record["load_after"] = os.getloadavg()
    for other in ("stock_rotary", "highest_matmul", "plain", "naive"):
        if f"{other}_seconds" in record and "fast_seconds" in record:
            record[f"speedup_vs_{other}"] = round(record[f"{other}_seconds"] / record["fast_seconds"], 3)
            fast, slow = PatchGrid.load(out / "fast"), PatchGrid.load(out / other)
            record[f"max_abs_diff_vs_{other}"] = {k: float(np.nanmax(np.abs(fast.values[k] - slow.values[k])))
                                                  for k in fast.values}
            record[f"normalised_max_abs_diff_vs_{other}"] = float(np.nanmax(np.abs(
                fast.normalised("preference") - slow.normalised("preference"))))
    write(record)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
