"""``cos patch``: activation patching over layers x denoising steps x token regions, on maze pairs
or on a user's prompt / first-frame pairs (any supported model).

Examples::

    cos patch --model organism --pairs 64 --layers 0-11 --steps 0-19 --region all,changed --out patch
    cos patch --model /models/Wan2.2-T2V-A14B-Diffusers --prompt-pairs pairs.json --num-steps 20 --out patch
    cos patch --pairs 8 --steps 0,5,10,15 --region all,frame:3,grid:2 --device cuda --out patch_small
    torchrun --nproc-per-node 2 -m interp.cli.main patch --device cuda --pairs 64 --out patch
"""

from __future__ import annotations

import argparse
import sys
import time

# What ``cos patch`` writes into ``--out`` (any of them already there is refused unless ``--overwrite``)
# and the regions it knows (the module imports nothing heavy, so `cos --help` stays light).
from interp.causal.pair_patch import OUTPUTS  # noqa: E402
from interp.tasks.maze_task import REGIONS  # noqa: E402
from interp.models.speed import ATTENTION_BACKENDS, COMPILE_MODES, MATMUL_PRECISIONS, ROTARY_FORMS  # noqa: E402


def register(subparsers) -> None:
    parser = subparsers.add_parser("patch", help="activation patching of clean into corrupted maze pairs")
    parser.add_argument("--model", default="organism",
                        help="'organism', a local organism folder, or a diffusers folder (with --prompt-pairs / --image-pairs)")
    parser.add_argument("--pairs", type=int, default=16, help="number of minimal maze pairs to make")
    parser.add_argument("--pairs-from", metavar="DIR", default=None,
                        help="patch the pair folders in DIR (written by interp.tasks.save_pair) instead of making pairs")
    parser.add_argument("--size", type=int, default=5, help="maze size in cells")
    parser.add_argument("--kind", default="wall", help="pair kind: wall (one wall unit changed) or goal")
    parser.add_argument("--seed", type=int, default=910_000, help="first maze seed of the pair search (held out)")
    parser.add_argument("--noise-seed", type=int, default=0, help="pair p runs with noise seed noise_seed + p")
    parser.add_argument("--layers", default=None, help="layers to patch, e.g. 0-11 (default: all)")
    parser.add_argument("--steps", default=None, help="steps to patch, e.g. 0-19 (default: all)")
    parser.add_argument("--region", default=None,
                        help=f"comma list of {REGIONS} (maze pairs; default all,changed); all, frame:K (input pairs; "
                             "default all)")
    parser.add_argument("--site", default="resid_post", help="block site kind patched")
    parser.add_argument("--num-steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--batch-size", type=int, default=128, help="cells per batched forward")
    parser.add_argument("--read-at", default="final", choices=("final", "patched"),
                        help="score the final video, or the x0_hat of the patched step (one forward per cell)")
    parser.add_argument("--naive", action="store_true", help="rerun every cell from step 0 (for comparison)")
    parser.add_argument("--no-reuse-layers", action="store_true",
                        help="run every block at the patched step (default: start at the patched block)")
    parser.add_argument("--no-share-states", action="store_true",
                        help="run each cell alone even where its patched step gives the clean run's velocity")
    parser.add_argument("--compile", default="none", choices=COMPILE_MODES,
                        help="torch.compile mode for the transformer blocks (default: none, eager)")
    parser.add_argument("--attention", default="auto", choices=ATTENTION_BACKENDS,
                        help="scaled-dot-product attention kernel (default: torch's choice)")
    parser.add_argument("--rotary", default="stock", choices=ROTARY_FORMS,
                        help="Wan's rotary embedding: 'stacked' is bitwise equal eager and compiles into "
                             "lighter kernels (default: stock, diffusers' own)")
    parser.add_argument("--matmul", default="highest", choices=MATMUL_PRECISIONS,
                        help="precision of float32 matrix products: 'high' runs them on TF32 tensor cores, "
                             "faster on a GPU and no longer float32 exactly (default: highest)")
    parser.add_argument("--effect-maps", type=int, default=3,
                        help="draw the effect map of this many strongest cells (3 full samples each, 0: none)")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="weight dtype")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    from interp.cli.pair_inputs import add_pair_options

    add_pair_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import datetime
    import platform

    from interp.cli.options import check_device, check_num_steps, parse_ints
    from interp.cli.pair_inputs import wants_pairs
    from interp.errors import InputError, check_range
    from interp.outputs import claim_folder

    check_range("--batch-size", args.batch_size, 1, 1_000_000)
    check_range("--effect-maps", args.effect_maps, 0, 100)
    check_num_steps(args.num_steps)
    check_device(args.device)
    task, describe = _input_task(args) if wants_pairs(args) else _maze_task(args)
    out = claim_folder(args.out, OUTPUTS if not wants_pairs(args) else ("grid.npz", "grid.json", "result.json", "patch_*.png"),
                       overwrite=args.overwrite)

    from interp.causal.pair_patch import patch_pairs, save_patch_study
    from interp.distributed import init_from_env, shutdown
    from interp.models import load_model
    from interp.models.capabilities import check_command
    from interp.sites import Site

    began = time.perf_counter()
    ctx = init_from_env(args.device)
    try:
        import torch

        model = load_model(args.model, device=ctx.device(args.device), dtype=getattr(torch, args.dtype))
        check_command(model, "patch")
        _check_model(model, args)
        num_steps = args.num_steps or (model.organism.config.num_inference_steps if not wants_pairs(args) else 20)
        layers = list(range(model.num_layers)) if args.layers is None else list(parse_ints(args.layers, "layer", 0, 10_000))
        steps = list(range(num_steps)) if args.steps is None else list(parse_ints(args.steps, "step", 0, 10_000))
        for layer in layers:
            Site(args.site, layer).check(model.num_layers)
        if args.site not in model.spec.site_kinds:
            raise InputError(f"--site {args.site}: {model.spec.family} models have {', '.join(model.spec.site_kinds)}")
        for step in steps:
            check_range("step", step, 0, num_steps - 1)
        record = dict(command=args.command_line, date=datetime.date.today().isoformat(), machine=platform.node(),
                      device=args.device, world_size=ctx.world_size, dtype=args.dtype, compile=args.compile,
                      attention=args.attention, rotary=args.rotary, matmul=args.matmul, **describe(model))
        from interp.models.speed import attention_backend, compile_blocks, matmul_precision, rotary_form

        stock = rotary_form(model, args.rotary)
        eager = compile_blocks(model, args.compile)
        with attention_backend(args.attention), matmul_precision(args.matmul):
            study = patch_pairs(model, task, noise_seed=args.noise_seed, layers=layers, steps=steps, site=args.site,
                                num_steps=num_steps, batch_size=args.batch_size, reuse_prefix=not args.naive,
                                read_at=args.read_at, effect_maps=args.effect_maps, context=ctx, record=record,
                                began=began, sweep_options={"reuse_layers": not args.no_reuse_layers,
                                                            "share_states": not args.no_share_states})
        eager()
        stock()
        if study is None:  # another rank's share of the sweep
            return 0
        save_patch_study(out, study)
        print(_report(out, study, layers, steps, model, task))
    finally:
        shutdown()
    return 0


def _maze_task(args):
    """Minimal maze pairs (made, or read from ``--pairs-from``) and what the record says of them."""
    from interp.errors import check_choice, check_range
    from interp.tasks import make_pairs
    from interp.tasks.maze_task import MazePairTask
    from interp.tasks.pairs import load_pairs

    check_range("--pairs", args.pairs, 1, 100_000)
    check_range("--size", args.size, 4, 12)
    check_choice("pair kind", args.kind, ("wall", "goal"))
    pairs = load_pairs(args.pairs_from) if args.pairs_from else make_pairs(args.size, args.pairs, args.seed,
                                                                            kind=args.kind)
    describe = lambda model: dict(pairs={"size": args.size, "kind": args.kind, "seed": args.seed})  # noqa: E731
    return MazePairTask(pairs, args.region or "all,changed"), describe


def _input_task(args):
    """A user's prompt or first-frame pairs and what the record says of them."""
    from interp.cli.pair_inputs import task_from_args

    regions = tuple(r for r in (args.region or "all").split(",") if r)
    task = task_from_args(args, regions)
    return task, lambda model: dict(family=model.spec.family, task=task.describe())


def _check_model(model, args) -> None:
    from interp.cli.pair_inputs import wants_pairs
    from interp.errors import InputError
    from interp.models import OrganismModel

    if not wants_pairs(args) and not isinstance(model, OrganismModel):
        raise InputError("cos patch makes maze pairs for a maze-solving organism only; for other models "
                         "give --prompt-pairs FILE or --image-pairs FILE")


def _report(out, study, layers, steps, model, task) -> str:
    """The one line ``cos patch`` prints: the sweep's size, time and strongest cell."""
    from interp.causal.pair_patch import strongest

    summary, meta, grid = study.summary, study.grid.meta, study.grid
    if "preference" in summary["cells"][0] and "ci95" in summary["cells"][0]:
        top = strongest(summary)
        interval = ("one pair has no interval" if top["ci95"][0] is None
                    else f"95% interval {top['ci95'][0]:.2f}..{top['ci95'][1]:.2f} over {summary['n_pairs']} pairs")
        return (f"{out}: {summary['n_pairs']} pairs, {len(layers)} layers x {len(steps)} steps x "
                f"{len(grid.coords['region'])} regions; sweep {meta['seconds']:.1f} s, effect maps "
                f"{meta['effect_map_seconds']:.1f} s, {meta['total_seconds']:.1f} s in all; strongest cell "
                f"{top['region']} layer {top['layer']} step {top['step']}: {top['preference']:.2f} of the clean route "
                f"restored ({interval})")
    first = next(iter(grid.values))
    best = strongest(summary, first)
    return (f"{out}: {task.num_pairs()} {task.kind} pairs on {model.spec.family}, {len(layers)} layers x "
            f"{len(steps)} steps x {len(grid.coords['region'])} regions in {meta['seconds']:.1f} s; strongest "
            f"cell {best['region']} layer {best['layer']} step {best['step']}: {first} {best[first]} (normalised)")
