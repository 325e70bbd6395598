"""``cos trace``: sample a model on tasks or a prompt and capture activations into a trace store.

Examples::

    cos trace --model organism --task outputs/tasks --out trace.h5 --sites resid_post,x0 --num-steps 20 --seeds 0-3
    cos trace --model organism --task outputs/tasks/maze5_s0 --out pooled.h5 --tokens frame_mean --layers 2-5
    cos trace --model /models/Wan2.1-T2V-1.3B --prompt "a maze" --frames 33 --out wan.h5 --branch cond,uncond
    torchrun --nproc-per-node 4 -m interp.cli.main trace --device cuda --task tasks --seeds 0-99 --out trace.h5
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("trace", help="capture activations while sampling, into an HDF5 trace store")
    parser.add_argument("--model", default="organism", help="'organism' or a local diffusers/organism folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--task", nargs="+", metavar="DIR", help="task folders, or folders holding task folders")
    source.add_argument("--prompt", help="text prompt (diffusers models with a text encoder)")
    parser.add_argument("--image", help="first frame for image-to-video models (with --prompt)")
    parser.add_argument("--out", required=True, help="trace store to create or append to (*.h5)")
    parser.add_argument("--sites", default="resid_post,x0",
                        help="comma list of resid_post, attn1.out, attn2.out, ffn.out, blocks.L.<kind>, x_t, velocity, x0")
    parser.add_argument("--layers", default=None, help="blocks, e.g. 0,3,5-7 (default: all)")
    parser.add_argument("--steps", default=None, help="denoising steps, e.g. 0-9,19 (default: all)")
    parser.add_argument("--branch", default="cond", help="cond, uncond or cond,uncond (block sites)")
    parser.add_argument("--tokens", default="all", help="all, stride:N, frame_mean or pool:K")
    parser.add_argument("--dtype", default="float16", help="float16 or float32")
    parser.add_argument("--compression", default=None, help="gzip or lzf (default: none)")
    parser.add_argument("--num-steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--shift", type=float, default=None, help="flow shift (default: the model's)")
    parser.add_argument("--seeds", default="0", help="seeds, e.g. 0 or 0-3 or 0,7")
    parser.add_argument("--guidance", type=float, default=5.0, help="CFG scale for diffusers models")
    parser.add_argument("--height", type=int, default=480, help="video height (diffusers models)")
    parser.add_argument("--width", type=int, default=832, help="video width (diffusers models)")
    parser.add_argument("--frames", type=int, default=81, help="video frames (diffusers models)")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--no-video", action="store_true", help="do not store the decoded final video")
    parser.set_defaults(func=run)


def warn_frames(model, tasks) -> None:
    """Say so when a task's ground truth has another frame count than the organism generates."""
    import sys

    organism = getattr(model, "organism", None)
    if organism is None:
        return
    frames = organism.config.num_frames
    other = sorted({int(t.metadata["num_frames"]) for t in tasks if t is not None and t.maze is not None
                    and isinstance(t.metadata.get("num_frames"), int) and t.metadata["num_frames"] != frames})
    if other:
        print(f"cos: warning: the task ground truth has {', '.join(map(str, other))} frames but the organism "
              f"generates {frames}; make tasks with --frames {frames} to compare them frame by frame",
              file=sys.stderr)


def prepare(model, args, seed: int, task=None):
    """Loop inputs for one sample: the organism takes a first frame, diffusers models a prompt."""
    from interp.errors import InputError
    from interp.models import OrganismModel

    if isinstance(model, OrganismModel):
        if task is None:
            raise InputError("the organism solves maze tasks: give --task instead of --prompt")
        return model.prepare(first_frame=task.first_frame, seeds=[seed])
    from PIL import Image

    prompt = task.prompt if task is not None else args.prompt
    image = Image.fromarray(task.first_frame) if task is not None else None
    if task is None and args.image:
        try:
            image = Image.open(args.image).convert("RGB")
        except OSError as err:
            raise InputError(f"cannot read image {args.image!r}: {err}") from None
    options = dict(prompt=prompt, height=args.height, width=args.width, num_frames=args.frames,
                   guidance_scale=args.guidance, seeds=[seed])
    if image is not None and model.image_to_video:  # text-to-video: the task's first frame is not an input
        options["image"] = image
    return model.prepare(**options)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from interp.capture import CaptureSpec, capture
    from interp.cli.options import check_device, check_num_steps, check_shift, parse_ints
    from interp.outputs import check_output_file
    from interp.errors import InputError, check_finite, check_range
    from interp.models import load_model
    from interp.store.layout import check_sample_ids
    from interp.tasks.folders import find_tasks

    sites = [s.strip() for s in args.sites.split(",") if s.strip()]
    layers = None if args.layers is None else parse_ints(args.layers, "layer", 0, 10_000)
    steps = None if args.steps is None else parse_ints(args.steps, "step", 0, 10_000)
    seeds = parse_ints(args.seeds, "seed")
    branches = tuple(b.strip() for b in args.branch.split(","))
    spec = CaptureSpec.make(sites, layers=layers, tokens=args.tokens, steps=steps, branches=branches, dtype=args.dtype)
    if args.compression not in (None, "gzip", "lzf"):
        raise InputError(f"unknown compression {args.compression!r}: valid are gzip, lzf")
    if not str(args.out).endswith((".h5", ".hdf5")):
        raise InputError(f"--out {args.out!r} should name an HDF5 file ending in .h5")
    check_output_file(args.out)
    check_num_steps(args.num_steps)
    check_shift(args.shift)
    check_finite("--guidance", args.guidance, 0, 100)
    check_range("--height", args.height, 16, 8192)
    check_range("--width", args.width, 16, 8192)
    check_range("--frames", args.frames, 1, 10_000)
    check_device(args.device)

    from interp.distributed import init_from_env, shutdown
    from interp.models.capabilities import check_command
    from interp.store.shards import merge_shards, shard_path, shard_paths

    ctx = init_from_env(args.device)  # under torchrun: one shard per rank, merged at the end
    try:
        model = load_model(args.model, device=ctx.device(args.device))
        check_command(model, "trace")
        num_steps = args.num_steps
        if num_steps is None:
            organism = getattr(model, "organism", None)
            num_steps = organism.config.num_inference_steps if organism is not None else 50
        tasks = find_tasks(args.task) if args.task else [None]
        jobs = []
        names = [f"{task.folder.name}-seed{seed}" if task is not None else f"seed{seed}"
                 for task in tasks for seed in seeds]
        try:
            check_sample_ids(names)
        except InputError as err:
            raise InputError(f"{err} (sample ids are <task folder name>-seed<seed>: rename the task folder)") from None
        warn_frames(model, tasks)
        for task in tasks:  # prepare everything first: bad input fails before anything is written
            for seed in seeds:
                inputs = prepare(model, args, seed, task)
                name = f"{task.folder.name}-seed{seed}" if task is not None else f"seed{seed}"
                # what the run knows (folder, prompt) is recorded over anything the metadata file says
                meta = {} if task is None else {**task.metadata, "folder": str(task.folder), "prompt": task.prompt}
                jobs.append((name, inputs, meta))
        shapes: dict[tuple, list[str]] = {}
        for name, inputs, _ in jobs:
            shapes.setdefault(tuple(inputs.latents.shape[1:]), []).append(name)
        if len(shapes) > 1:  # one store holds one geometry, so that samples stack
            listing = "; ".join(f"{'x'.join(map(str, shape[-2:]))}: {names[0]}{' ...' if len(names) > 1 else ''}"
                                for shape, names in shapes.items())
            raise InputError(f"the tasks have {len(shapes)} different sizes ({listing}); "
                             "capture each size into its own store (e.g. --task data/tasks/maze5_*)")
        plan = spec.resolve(num_layers=model.num_layers, num_steps=num_steps, guidance=jobs[0][1].do_guidance)
        out = shard_path(args.out, ctx.rank, ctx.world_size) if ctx.enabled else args.out
        written = skipped = 0
        mine = ctx.deal(jobs)
        for name, inputs, meta in tqdm(mine, desc="capturing", disable=len(mine) < 2):
            result = capture(model, inputs, spec, out, num_steps=num_steps, shift=args.shift, sample_ids=[name],
                             tasks=[meta], save_video=not args.no_video, compression=args.compression,
                             progress=True)
            written += len(result.written)
            skipped += len(result.skipped)
        print(f"{out}: wrote {written} samples, {skipped} already complete; "
              f"{len(plan.sites)} sites x {len(plan.steps)} steps each")
        ctx.barrier()
        if ctx.enabled and ctx.is_main:
            shards = [p for p in shard_paths(args.out, ctx.world_size) if p.exists()]
            merge_shards(shards, args.out)
            print(f"{args.out}: merged {len(shards)} shards")
    finally:
        shutdown()
    return 0
