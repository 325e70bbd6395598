"""``cos ensemble``: solve tasks with a seed ensemble (K seeds merged early, continued as one).

Examples::

    cos ensemble --model organism --task data/tasks --k 3 --merge x0_renoise --at 2 --out ens
    cos ensemble --task data/tasks/maze9_s0 --k 5 --merge xt_mean --at 0-3 --seed 100 --device cuda --out ens5
    cos ensemble --model /models/Wan2.1-T2V-1.3B --prompt "a maze" --frames 33 --k 3 --merge x0_mean --at 5 --out wan

Per task it writes the merged video (``<task>.mp4`` or ``.gif``) and, for maze tasks, scores it
against the single run of the reference seed; ``ensemble.json`` holds the interventions (JSON),
the NFE of each method and the scores.
"""

from __future__ import annotations

import argparse

OPERATOR_HELP = "xt_mean, x0_mean, x0_renoise or x0_median"


def register(subparsers) -> None:
    parser = subparsers.add_parser("ensemble", help="seed ensemble: merge K seeds' latents early, continue as one")
    parser.add_argument("--model", default="organism", help="'organism' or a local diffusers/organism folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--task", nargs="+", metavar="DIR", help="task folders, or folders holding task folders")
    source.add_argument("--prompt", help="text prompt (diffusers models with a text encoder)")
    parser.add_argument("--image", help="first frame for image-to-video models (with --prompt)")
    parser.add_argument("--k", type=int, default=3, help="seeds merged per task (at least 2)")
    parser.add_argument("--merge", default="x0_renoise", help=f"merge operator: {OPERATOR_HELP}")
    parser.add_argument("--at", default="2", help="merge step(s), e.g. 2 or 0-3 (a window)")
    parser.add_argument("--seed", type=int, default=0, help="first seed; the ensemble uses seed .. seed+k-1")
    parser.add_argument("--ref", type=int, default=0, help="which of the k seeds continues (0..k-1)")
    parser.add_argument("--num-steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--shift", type=float, default=None, help="flow shift (default: the model's)")
    parser.add_argument("--guidance", type=float, default=5.0, help="CFG scale for diffusers models")
    parser.add_argument("--height", type=int, default=480, help="video height (diffusers models)")
    parser.add_argument("--width", type=int, default=832, help="video width (diffusers models)")
    parser.add_argument("--frames", type=int, default=81, help="video frames (diffusers models)")
    parser.add_argument("--no-single", action="store_true", help="skip the single-seed run it is compared with")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from interp.cli.options import check_device, check_num_steps, check_shift, parse_ints
    from interp.ensemble import OPERATORS, baseline_nfe, check_merge
    from interp.errors import InputError, check_choice, check_finite, check_range

    check_choice("--merge", args.merge, tuple(OPERATORS))
    if args.k < 2:
        raise InputError(f"--k {args.k} is not valid: an ensemble merges at least 2 seeds (choose --k 2 or more)")
    check_range("--k", args.k, 2, 1024)
    check_range("--seed", args.seed, 0, 2**31 - 1)
    steps = parse_ints(args.at, "merge step", 0, 10_000)
    check_num_steps(args.num_steps)
    check_shift(args.shift)
    check_finite("--guidance", args.guidance, 0, 100)
    check_device(args.device)

    from interp.cli.trace import prepare, warn_frames
    from interp.tasks.folders import find_tasks
    from interp.ensemble import ensemble_run, merge_interventions, seed_groups
    from interp.interventions import dumps, run as run_loop
    from interp.models import load_model
    from interp.models.capabilities import check_command
    from interp.outputs import claim_folder, write_json
    from interp.tasks.video_io import has_ffmpeg

    tasks = find_tasks(args.task) if args.task else [None]
    names = [task.folder.name if task is not None else "prompt" for task in tasks]
    ext = ".mp4" if has_ffmpeg() else ".gif"
    videos = [f"{name}{ext}" for name in names] + ([] if args.no_single else
                                                  [f"{name}-seed{args.seed + args.ref}{ext}" for name in names])
    out = claim_folder(args.out, ["ensemble.json", *videos], overwrite=args.overwrite)
    model = load_model(args.model, device=args.device)
    check_command(model, "ensemble", merge=args.merge)
    organism = getattr(model, "organism", None)
    num_steps = args.num_steps or (organism.config.num_inference_steps if organism is not None else 50)
    check_merge(args.merge, args.k, steps, num_steps, args.ref)  # the schedule is known only now
    warn_frames(model, tasks)
    seeds = [args.seed + i for i in range(args.k)]
    jobs = [(task, [prepare(model, args, s, task) for s in seeds]) for task in tasks]  # bad input fails first
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for task, per_seed in tqdm(jobs, desc="ensembles", disable=len(jobs) < 2):
        inputs = _stack(per_seed)
        result = ensemble_run(model, inputs, k=args.k, operator=args.merge, steps=steps, num_steps=num_steps,
                              shift=args.shift, ref=args.ref, progress=True)
        name = task.folder.name if task is not None else "prompt"
        record = {"task": name, "seeds": seeds, "reference_seed": seeds[args.ref], "nfe": result.nfe,
                  "video": _save(out / name, result.video[0])}
        if not args.no_single:
            single = run_loop(model, per_seed[args.ref], num_steps=num_steps, shift=args.shift, progress=True)
            record["single_video"] = _save(out / f"{name}-seed{seeds[args.ref]}", single.video[0])
            record["single_nfe"] = baseline_nfe("single", num_steps, 1, guidance=inputs.do_guidance)
        maze = getattr(task, "maze", None) if task is not None else None
        if maze is not None and organism is not None:
            from functools import partial

            from interp.tasks.score import score_output
            from interp.tasks.walk_score import scorer_for

            # a walker's answer is read as a walk (route and walk); the maze organism's by the maze scorer
            score = scorer_for(model) or partial(score_output, palette=organism.config.palette)
            record["exact"] = bool(score(result.video[0], maze).exact)
            if not args.no_single:
                record["single_exact"] = bool(score(single.video[0], maze).exact)
        records.append(record)
    groups = seed_groups(1, args.k)
    summary = {"model": str(args.model), "k": args.k, "merge": args.merge, "steps": list(steps),
               "num_steps": num_steps, "ref": args.ref,
               "interventions": json.loads(dumps(merge_interventions(model, args.merge, groups, steps=steps,
                                                                     num_steps=num_steps, shift=args.shift, ref=args.ref,
                                                                     inputs=jobs[0][1][0]))),
               "command": args.command_line, "tasks": records}
    scored = [r for r in records if "exact" in r]
    if scored:
        summary["exact"] = sum(r["exact"] for r in scored) / len(scored)
        if not args.no_single:
            summary["single_exact"] = sum(r["single_exact"] for r in scored) / len(scored)
    write_json(out / "ensemble.json", summary)
    line = f"{out}: {len(records)} task(s), k={args.k}, {args.merge} at step(s) {args.at}, {records[0]['nfe']} NFE each"
    if scored:
        line += f"; exact {summary['exact']:.0%}" + ("" if args.no_single else f" (one seed: {summary['single_exact']:.0%})")
    print(line)
    return 0


def _stack(inputs_list):
    """One batch from single-sample loop inputs (the seeds of one task), row i = seed i."""
    import torch

    from interp.models.base import LoopInputs

    first = inputs_list[0]

    def cat(values):
        return torch.cat(values) if isinstance(values[0], torch.Tensor) else values[0]

    return LoopInputs(
        latents=torch.cat([i.latents for i in inputs_list]),
        cond={key: cat([i.cond[key] for i in inputs_list]) for key in first.cond},
        uncond=None if first.uncond is None else {key: cat([i.uncond[key] for i in inputs_list]) for key in first.uncond},
        latent_condition=None if first.latent_condition is None else torch.cat([i.latent_condition for i in inputs_list]),
        guidance_scale=first.guidance_scale, guidance_scale_2=first.guidance_scale_2,
        seeds=[s for i in inputs_list for s in (i.seeds or [])], extras=dict(first.extras),
    )


def _save(stem, video) -> str:
    from interp.tasks.video_io import has_ffmpeg, write_video

    path = write_video(stem.with_suffix(".mp4" if has_ffmpeg() else ".gif"), video)
    return path.name
