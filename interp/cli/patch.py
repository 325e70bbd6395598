"""``cos patch``: activation patching over layers x denoising steps x token regions on maze pairs.

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

#: What ``cos patch`` writes into ``--out``; any of them already there is refused unless ``--overwrite``.
OUTPUTS = ("grid.npz", "grid.json", "result.json", "patch_preference.png", "patch_flip.png", "patch_effects.png")
REGIONS = "all, changed (the changed units' tokens), frame:K (one frame), grid:K (a K x K grid of patches)"


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
    parser.add_argument("--region", default="all,changed", help=f"comma list of {REGIONS}")
    parser.add_argument("--site", default="resid_post", help="block site kind patched")
    parser.add_argument("--num-steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--batch-size", type=int, default=128, help="cells per batched forward")
    parser.add_argument("--read-at", default="final", choices=("final", "patched"),
                        help="score the final video, or the x0_hat of the patched step (one forward per cell)")
    parser.add_argument("--naive", action="store_true", help="rerun every cell from step 0 (for comparison)")
    parser.add_argument("--effect-maps", type=int, default=3,
                        help="draw the effect map of this many strongest cells (3 full samples each, 0: none)")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="weight dtype")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    from interp.cli.pair_inputs import add_pair_options

    add_pair_options(parser)
    parser.set_defaults(func=run)


def parse_regions(text: str, grid, pairs, px_per_unit: int, pixels_per_token) -> dict:
    """Region name -> Tokens or a per-pair function; ``grid:K`` expands to K*K named patches."""
    from interp.errors import InputError
    from interp.interventions import Tokens
    from interp.interventions.maze_patching import changed_region

    f, h, w = grid
    out = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, _, arg = part.partition(":")
        if part == "all":
            out["all"] = Tokens.all()
        elif part == "changed":
            out["changed"] = changed_region(pairs, grid, px_per_unit=px_per_unit, pixels_per_token=pixels_per_token)
        elif name == "frame" and arg.isdigit() and int(arg) < f:
            out[part] = Tokens.in_frames(int(arg))
        elif name == "grid" and arg.isdigit() and 1 <= int(arg) <= min(h, w):
            k = int(arg)
            rows = [(i * h // k, (i + 1) * h // k) for i in range(k)]
            cols = [(j * w // k, (j + 1) * w // k) for j in range(k)]
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    out[f"grid{k}:{i},{j}"] = Tokens.region(rows=r, cols=c)
        else:
            raise InputError(f"unknown region {part!r}: valid are {REGIONS} with frame 0..{f - 1}, "
                             f"grid 1..{min(h, w)}")
    if not out:
        raise InputError(f"no region given: choose from {REGIONS}")
    return out


def run(args: argparse.Namespace) -> int:
    from interp.cli.pair_inputs import wants_pairs

    if wants_pairs(args):
        from interp.cli.patch_pairs import run_pairs

        return run_pairs(args)
    import datetime
    import platform

    from interp.cli.options import check_device, check_num_steps, parse_ints
    from interp.errors import InputError, check_choice, check_range
    from interp.outputs import claim_folder, write_json

    check_range("--pairs", args.pairs, 1, 100_000)
    check_range("--size", args.size, 4, 12)
    check_choice("pair kind", args.kind, ("wall", "goal"))
    check_range("--batch-size", args.batch_size, 1, 1_000_000)
    check_range("--effect-maps", args.effect_maps, 0, 100)
    check_num_steps(args.num_steps)
    check_device(args.device)
    out = claim_folder(args.out, OUTPUTS, overwrite=args.overwrite)

    from interp.distributed import init_from_env, shutdown
    from interp.interventions import patch_sweep
    from interp.interventions.maze_patching import PairMetric
    from interp.models import OrganismModel, load_model
    from interp.sites import Site
    from interp.organism.evaluate import first_frames
    from interp.tasks import make_pairs
    from interp.viz.patching import plot_effects, plot_grid

    began = time.perf_counter()
    ctx = init_from_env(args.device)
    try:
        import torch

        model = load_model(args.model, device=ctx.device(args.device), dtype=getattr(torch, args.dtype))
        if not isinstance(model, OrganismModel):
            raise InputError("cos patch makes maze pairs for a maze-solving organism only; for other models "
                             "give --prompt-pairs FILE or --image-pairs FILE")
        config = model.organism.config
        num_steps = args.num_steps or config.num_inference_steps
        layers = list(range(model.num_layers)) if args.layers is None else list(parse_ints(args.layers, "layer", 0, 10_000))
        steps = list(range(num_steps)) if args.steps is None else list(parse_ints(args.steps, "step", 0, 10_000))
        for layer in layers:
            Site(args.site, layer).check(model.num_layers)
        for step in steps:
            check_range("step", step, 0, num_steps - 1)
        pairs = load_pairs(args.pairs_from) if args.pairs_from else make_pairs(args.size, args.pairs, args.seed,
                                                                                kind=args.kind)
        px = config.px_per_unit

        def inputs(which):
            frames = first_frames([getattr(p, which) for p in pairs], model.organism)
            return model.prepare(first_frame=frames, seeds=[args.noise_seed + i for i in range(len(pairs))])

        clean, corrupt = inputs("clean"), inputs("corrupt")
        grid_shape = model.token_grid(clean.latents.shape)
        regions = parse_regions(args.region, grid_shape, pairs, px, model.pixels_per_token)
        metric = PairMetric(pairs)
        if ctx.is_main:
            print(_estimate(len(pairs), layers, steps, regions, num_steps, args), file=sys.stderr)
        grid = patch_sweep(model, clean, corrupt, metric, layers=layers, steps=steps, regions=regions,
                           site=args.site, num_steps=num_steps, batch_size=args.batch_size,
                           reuse_prefix=not args.naive, read_at=args.read_at, progress=ctx.is_main, context=ctx)
        if not ctx.is_main:
            return 0
        grid.meta.update(command=args.command_line,
                         date=datetime.date.today().isoformat(), machine=platform.node(), device=args.device,
                         world_size=ctx.world_size, dtype=args.dtype, pairs={"size": args.size, "kind": args.kind, "seed": args.seed},
                         clean_flip_share=float(grid.clean["flip"].mean()),
                         corrupt_flip_share=float(grid.corrupt["flip"].mean()))
        summary = summarise(grid)
        ranked = sorted(summary["cells"], key=lambda c: -(c["preference"] if c["preference"] is not None else -1e9))
        maps = effect_maps(model, clean, corrupt, metric, ranked[:args.effect_maps], regions, site=args.site,
                           num_steps=num_steps)
        grid.meta["effect_map_seconds"] = round(sum(seconds for *_, seconds in maps), 1)
        grid.meta["total_seconds"] = round(time.perf_counter() - began, 1)
        summary["meta"] = grid.meta
        grid.save(out)
        write_json(out / "result.json", summary)
        for metric_name in ("preference", "flip"):
            plot_grid(grid, metric_name, out / f"patch_{metric_name}.png")
        if maps:
            plot_effects([(label, amounts) for label, amounts, _ in maps], out / "patch_effects.png",
                         title="Patch effect on pair 0's final frame, strongest cells")
        top = ranked[0]
        interval = ("one pair has no interval" if top["ci95"][0] is None
                    else f"95% interval {top['ci95'][0]:.2f}..{top['ci95'][1]:.2f} over {summary['n_pairs']} pairs")
        print(f"{out}: {summary['n_pairs']} pairs, {len(layers)} layers x {len(steps)} steps x {len(regions)} "
              f"regions; sweep {grid.meta['seconds']:.1f} s, effect maps {grid.meta['effect_map_seconds']:.1f} s, "
              f"{grid.meta['total_seconds']:.1f} s in all; strongest cell {top['region']} layer {top['layer']} "
              f"step {top['step']}: {top['preference']:.2f} of the clean route restored ({interval})")
    finally:
        shutdown()
    return 0


def _estimate(n_pairs: int, layers, steps, regions, num_steps: int, args) -> str:
    """What the sweep will run, in forwards, and how to shrink it (printed before it starts)."""
    cells = n_pairs * len(layers) * len(steps) * len(regions)
    per_cell = 1 if args.read_at == "patched" else f"up to {num_steps}"
    return (f"cos patch: {cells} cells ({n_pairs} pairs x {len(layers)} layers x {len(steps)} steps x {len(regions)} "
            f"regions), {per_cell} forward(s) each, then {args.effect_maps} effect map(s) (3 samples of {num_steps} "
            "steps each); fewer --pairs, --layers, --steps, --effect-maps 0 or --read-at patched make it shorter")


def effect_maps(model, clean, corrupt, metric, cells, regions, *, site: str, num_steps: int) -> list:
    """``(label, per-unit change of pair 0's answer, seconds)`` for each cell: pair 0 patched at that
    cell alone, minus pair 0 unpatched (at most three full samples per cell)."""
    from tqdm.auto import tqdm

    from interp.interventions import At, Intervention, Patch, run as run_interventions, run_with_cache
    from interp.sites import Site

    base = None
    maps = []
    for cell in tqdm(cells, desc="effect maps", unit="cell"):
        began = time.perf_counter()
        where = Site(site, cell["layer"])
        item = Intervention(At(where, steps=[cell["step"]], tokens=_region_tokens(regions[cell["region"]], 0)),
                            Patch("clean", take=[0]))
        source = run_with_cache(model, clean.take([0]), [str(where)], steps=[cell["step"]], num_steps=num_steps,
                                branches=("cond", "uncond") if clean.do_guidance else ("cond",), progress=False).cache
        patched = run_interventions(model, corrupt.take([0]), [item], sources={"clean": source},
                                    num_steps=num_steps, progress=False)
        if base is None:  # the unpatched run is the same for every cell
            base = metric.amounts(run_interventions(model, corrupt.take([0]), num_steps=num_steps,
                                                    progress=False).video)[0]
        maps.append((f"layer {cell['layer']}, step {cell['step']}, {cell['region']}",
                     metric.amounts(patched.video)[0] - base, time.perf_counter() - began))
    return maps


def load_pairs(folder: str) -> list:
    """Every pair folder in ``folder`` (or ``folder`` itself), all of one maze size."""
    from pathlib import Path

    from interp.errors import InputError
    from interp.tasks.pairs import PAIR_FILE, load_pair

    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"--pairs-from {folder!r} is not a folder")
    found = [root] if (root / PAIR_FILE).is_file() else sorted(p for p in root.iterdir() if (p / PAIR_FILE).is_file())
    if not found:
        raise InputError(f"--pairs-from {folder!r} holds no pair folder (none has a {PAIR_FILE})")
    pairs = [load_pair(p) for p in found]
    sizes = sorted({p.clean.size for p in pairs})
    if len(sizes) > 1:
        raise InputError(f"--pairs-from {folder!r} mixes maze sizes {sizes}: patch one size at a time")
    return pairs


def _region_tokens(region, pair: int):
    from interp.interventions import Tokens

    return region if isinstance(region, Tokens) else region(pair)


def summarise(grid) -> dict:
    """The grid's cells with normalised preference (95% bootstrap interval) and flip share."""
    normalised = grid.normalised("preference")
    low, high = grid.interval("preference", resamples=500)
    flips = grid.values["flip"].mean(axis=-1)
    cells = []
    for r, region in enumerate(grid.coords["region"]):
        for i, layer in enumerate(grid.coords["layer"]):
            for j, step in enumerate(grid.coords["step"]):
                cells.append({"region": region, "layer": layer, "step": step,
                              "preference": _num(normalised[r, i, j]), "ci95": [_num(low[r, i, j]), _num(high[r, i, j])],
                              "flip_share": _num(flips[r, i, j])})
    return {"n_pairs": len(grid.coords["pair"]), "meta": grid.meta, "cells": cells,
            "clean_preference": _num(grid.clean["preference"].mean()),
            "corrupt_preference": _num(grid.corrupt["preference"].mean())}


def _num(value) -> float | None:
    value = float(value)
    return None if value != value else round(value, 4)
