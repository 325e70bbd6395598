"""``cos patch`` on a user's input pairs with any supported model (the generic task)."""

from __future__ import annotations

import argparse


def run_pairs(args: argparse.Namespace) -> int:
    import datetime
    import platform
    import sys

    import torch

    from interp.cli.options import check_device, check_num_steps, parse_ints
    from interp.cli.pair_inputs import task_from_args
    from interp.distributed import init_from_env, shutdown
    from interp.errors import InputError, check_range
    from interp.interventions import patch_sweep, run as run_interventions
    from interp.models import load_model
    from interp.outputs import claim_folder, write_json
    from interp.sites import Site
    from interp.viz.patching import plot_grid

    check_range("--batch-size", args.batch_size, 1, 1_000_000)
    check_num_steps(args.num_steps)
    check_device(args.device)
    out = claim_folder(args.out, ("grid.npz", "grid.json", "result.json", "patch_*.png"), overwrite=args.overwrite)
    regions = tuple(r for r in args.region.split(",") if r) if args.region != "all,changed" else ("all",)
    task = task_from_args(args, regions)
    ctx = init_from_env(args.device)
    try:
        model = load_model(args.model, device=ctx.device(args.device), dtype=getattr(torch, args.dtype))
        num_steps = args.num_steps or 20
        layers = (list(range(model.num_layers)) if args.layers is None
                  else list(parse_ints(args.layers, "layer", 0, 10_000)))
        steps = list(range(num_steps)) if args.steps is None else list(parse_ints(args.steps, "step", 0, 10_000))
        for layer in layers:
            Site(args.site, layer).check(model.num_layers)
        if args.site not in model.spec.site_kinds:
            raise InputError(f"--site {args.site}: {model.spec.family} models have {', '.join(model.spec.site_kinds)}")
        for step in steps:
            check_range("step", step, 0, num_steps - 1)
        seeds = [args.noise_seed + p for p in range(task.num_pairs())]
        clean, corrupt = task.inputs(model, "clean", seeds), task.inputs(model, "corrupt", seeds)
        references = [run_interventions(model, inputs, num_steps=num_steps, progress=False)
                      for inputs in (clean, corrupt)]
        metric = task.metric(model, *references)
        grid = patch_sweep(model, clean, corrupt, metric, layers=layers, steps=steps,
                           regions=task.regions(model, clean), site=args.site, num_steps=num_steps,
                           batch_size=args.batch_size, reuse_prefix=not args.naive, read_at=args.read_at,
                           progress=ctx.is_main, context=ctx)
        if not ctx.is_main:
            return 0
        grid.meta.update(command=getattr(args, "command_line", "cos " + " ".join(sys.argv[1:])),
                         date=datetime.date.today().isoformat(), machine=platform.node(), device=args.device,
                         world_size=ctx.world_size, dtype=args.dtype, family=model.spec.family, task=task.describe())
        out.mkdir(parents=True, exist_ok=True)
        grid.save(out)
        summary = grid.summary()
        write_json(out / "result.json", summary)
        for name in grid.values:
            plot_grid(grid, name, out / f"patch_{name}.png")
        first = next(iter(grid.values))
        best = max(summary["cells"], key=lambda c: -1e9 if c[first] is None else c[first])
        print(f"{out}: {task.num_pairs()} {task.kind} pairs on {model.spec.family}, {len(layers)} layers x "
              f"{len(steps)} steps x {len(grid.coords['region'])} regions in {grid.meta['seconds']:.1f} s; strongest "
              f"cell {best['region']} layer {best['layer']} step {best['step']}: {first} {best[first]} (normalised)")
    finally:
        shutdown()
    return 0
