"""``cos steps``: draw the step x frame grid of x0_hat (PNG) and its animation over steps (GIF).

From a trace store (the model decodes the stored x0_hat; it must be the one that wrote it)::

    cos steps trace.h5 --sample maze5_s0-seed0 --out grid.png --gif

or straight from a run, keeping only x0_hat in memory::

    cos steps --model organism --task outputs/tasks/maze5_s0 --num-steps 20 --out grid.png --gif
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("steps", help="step x frame grid of x0_hat (PNG) and animation (GIF)")
    parser.add_argument("trace", nargs="?", help="trace store holding x0 (omit to sample a run instead)")
    parser.add_argument("--sample", help="sample id in the store (default: the first)")
    parser.add_argument("--model", default="organism", help="'organism' or a local model folder (decodes x0_hat)")
    parser.add_argument("--task", help="task folder to sample when no trace is given")
    parser.add_argument("--prompt", help="prompt to sample when no trace is given (diffusers models)")
    parser.add_argument("--num-steps", type=int, default=None, help="denoising steps of the run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run")
    parser.add_argument("--steps", default=None, help="rows to draw, e.g. 0-4,10,19 (default: all)")
    parser.add_argument("--out", required=True, help="PNG file for the grid")
    parser.add_argument("--gif", nargs="?", const=True, default=None,
                        help="also write an animation over steps (optionally give its path)")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--overwrite", action="store_true", help="replace --out (and --gif) if they exist")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from interp.cli.options import check_device, check_num_steps, parse_ints
    from interp.outputs import claim_file
    from interp.errors import InputError, check_seed
    from interp.viz import decode_x0, step_frame_grid, steps_gif

    if not str(args.out).lower().endswith(".png"):
        raise InputError(f"--out {args.out!r} should end in .png")
    gif = None if args.gif is None else (Path(args.out).with_suffix(".gif") if args.gif is True else Path(args.gif))
    if gif is not None and gif.suffix.lower() != ".gif":
        raise InputError(f"--gif {str(gif)!r} should end in .gif")
    claim_file(args.out, overwrite=args.overwrite)
    if gif is not None:
        claim_file(gif, overwrite=args.overwrite, option="--gif")
    check_num_steps(args.num_steps)
    check_seed(args.seed, "--seed")
    check_device(args.device)
    rows = None if args.steps is None else parse_ints(args.steps, "step", 0, 10_000)
    if args.trace:
        x0, steps, sigmas, model = _from_store(args, rows)
    else:
        x0, steps, sigmas, model = _from_run(args, rows)
    frames = decode_x0(model, x0)
    step_frame_grid(frames, steps, args.out, sigmas=sigmas)
    if gif is not None:
        steps_gif(frames, steps, gif)
    print(f"wrote {args.out}" + (f" and {gif}" if gif is not None else "") + f" ({len(steps)} steps x {frames.shape[1]} frames)")
    return 0


def _from_store(args, rows):
    from interp.errors import InputError
    from interp.models import load_model
    from interp.store import TraceStore
    from interp.viz.steps_grid import x0_from_store

    with TraceStore.open(args.trace) as store:
        ids = store.sample_ids()
        if not ids:
            raise InputError(f"{args.trace} holds no completed sample")
        sample = args.sample or ids[0]
        if sample not in ids:
            raise InputError(f"unknown sample {sample!r}: valid are {', '.join(ids[:10])}")
        x0, steps, sigmas = x0_from_store(store, sample, rows)
        model = load_model(args.model, device=args.device)
        if model.fingerprint() != store.attrs["fingerprint"]:
            raise InputError(
                f"--model {args.model!r} is not the model that wrote {args.trace} "
                f"({store.attrs['model_name']}, fingerprint {store.attrs['fingerprint']}): pass --model with that one"
            )
    return x0, steps, sigmas, model


def _from_run(args, rows):
    import numpy as np

    from interp.cli.trace import prepare
    from interp.tasks.folders import find_tasks
    from interp.errors import InputError, check_range
    from interp.models import load_model
    from interp.interventions import observe, run

    if not args.task and not args.prompt:
        raise InputError("give a trace store, or --task / --prompt to sample a run")
    model = load_model(args.model, device=args.device)
    organism = getattr(model, "organism", None)
    num_steps = args.num_steps
    if num_steps is None:
        num_steps = organism.config.num_inference_steps if organism is not None else 50
    steps = list(range(num_steps)) if rows is None else list(rows)
    for step in steps:
        check_range("step", step, 0, num_steps - 1)
    task = find_tasks([args.task])[0] if args.task else None
    args.height, args.width, args.frames, args.guidance, args.image = 480, 832, 81, 5.0, None
    inputs = prepare(model, args, args.seed, task)
    out = run(model, inputs, observe("x0", steps=sorted(set(steps))), num_steps=num_steps, decode=False)
    x0 = np.stack([out.at("x0", s)[0].float().cpu().numpy() for s in steps])
    return x0, steps, [float(out.sigmas[s]) for s in steps], model
