"""Noise at a step vs noise at a frame: where is the denoising run most sensitive?

Gaussian noise of absolute standard deviation ``--strengths`` (model space: the organism's pixels
in [-1, 1], where x_T is unit Gaussian) is added to the latents entering a step
(:mod:`interp.causal.noise`): to all frames at one step (for each of ``--steps``), to one frame at
every step (for each frame), and to one frame at one step (``--grid-steps``, at the middle
strength). The scaled arms (``--ratios``) add noise of std ``ratio * sigma_s`` instead, the same
signal-to-noise change at every step, since a fixed std is a far larger dose at late steps where
x_t holds little noise. Outcomes: exact accuracy and the VBVR-style maze score of the final video.
Propagation: debiased linear CKA (:mod:`interp.causal.cka`) between perturbed and clean
``resid_post`` of every block at every later step, per maze over its tokens, for noise at each of
``--cka-steps`` (fixed std and scaled, middle strength and ratio) and one frame at every step.

Example::

    python experiments/noise_step_vs_frame.py --preset cpu
    python experiments/noise_step_vs_frame.py --preset gpu --device cuda
"""

from __future__ import annotations

import sys
import time

import numpy as np

PRESETS = {
    "cpu": dict(size=5, count=2, strengths=[1.0], ratios=[1.0], steps=[0, 10], grid_steps=[10], cka_count=1,
                cka_steps=[0, 10], batch=64, device="cpu", dtype="float32"),
    "gpu": dict(size=7, count=160, strengths=[0.5, 1.0, 2.0], ratios=[0.5, 1.0, 2.0], steps=[0, 3, 6, 9, 12, 15, 18],
                grid_steps=[0, 8, 16], cka_count=32, cka_steps=[0, 3, 6, 9, 12, 15, 18], batch=1536, device="cuda",
                dtype="bfloat16"),
}
CLAIM = ("Noise injected into all frames at one denoising step hurts far more than noise injected into one frame "
         "at every step, and sensitivity peaks in the middle of the schedule (steps 20-30 of 50).")


def add_options(p):
    from interp.causal.maze_runs import maze_options

    maze_options(p, first_seed=30_000)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--count", type=int, default=None)
    p.add_argument("--strengths", type=float, nargs="+", default=None, help="noise standard deviations (>= 0)")
    p.add_argument("--ratios", type=float, nargs="+", default=None,
                   help="scaled arms: noise std as a multiple of the step's own sigma (>= 0; none: --ratios with no value)")
    p.add_argument("--steps", type=int, nargs="+", default=None, help="steps for noise at a step")
    p.add_argument("--frames", type=int, nargs="+", default=None, help="frames for noise at a frame (default all)")
    p.add_argument("--grid-steps", type=int, nargs="+", default=None, help="steps of the frame x step grid")
    p.add_argument("--cka-count", type=int, default=None)
    p.add_argument("--cka-steps", type=int, nargs="+", default=None)
    p.add_argument("--cka-frame", type=int, default=2)


def validate(args, num_frames):
    from interp.causal.noise import check_frame, check_std, check_step
    from interp.errors import check_range

    check_range("--num-steps", args.num_steps, 1, 1000)
    check_range("--count", args.count, 1, 100_000)
    check_range("--cka-count", args.cka_count, 1, 100_000)
    for s in args.steps + args.grid_steps + args.cka_steps:
        check_step(s, args.num_steps)
    args.frames = list(range(num_frames)) if args.frames is None else args.frames
    for f in args.frames + [args.cka_frame]:
        check_frame(f, num_frames)
    for std in args.strengths + list(args.ratios):
        check_std(std)


def accuracy_runs(model, args):
    """Exact and VBVR flags per condition over all mazes, run from each condition's start step."""
    from interp.tasks import maze_answers as M
    from interp.causal.noise import noise_arms
    from interp.causal.maze_runs import chunks, clean_run, loop_value, maze_inputs
    from interp.interventions import run
    from interp.tasks.walk_score import scorer_for

    palette = model.organism.config.palette
    scorer = scorer_for(model)        # a walker's answers are read as walks (route and walk)
    conds = noise_arms(args.strengths, args.steps, args.frames, args.grid_steps, num_steps=args.num_steps,
                       num_frames=len(args.frames_all), ratios=args.ratios, sigmas=args.sigmas)
    starts = sorted({c[1] for c in conds})
    flags = {name: {"exact": [], "vbvr": []} for name, _, _ in conds}
    flags["clean"] = {"exact": [], "vbvr": []}
    mazes_all, inputs_all = maze_inputs(model, size=args.size, count=args.count, first_seed=args.first_seed)
    for chunk in chunks(args.count, args.batch):
        mazes = [mazes_all[i] for i in chunk]
        inputs = inputs_all.take(list(chunk))
        clean = clean_run(model, inputs, ["x_t"], num_steps=args.num_steps, steps=starts)
        res, _ = M.outcomes(clean.video, mazes, palette=palette, scorer=scorer)
        flags["clean"]["exact"] += res.exact.tolist()
        flags["clean"]["vbvr"] += res.vbvr.tolist()
        n = len(mazes)
        for start in starts:
            group = [c for c in conds if c[1] == start]
            per_run = max(1, args.batch // n)
            for lo in range(0, len(group), per_run):
                part = group[lo:lo + per_run]
                order = [i for _ in part for i in range(n)]
                x_t = loop_value(clean.cache, "x_t", start, inputs.latents)[order]
                edits = [e for j, c in enumerate(part) for e in c[2](list(range(j * n, (j + 1) * n)))]
                out = run(model, inputs.take(order, latents=x_t), edits, num_steps=args.num_steps, start_step=start,
                          progress=False)
                res, _ = M.outcomes(out.video, [mazes[i] for i in order], palette=palette, scorer=scorer)
                for j, (name, _, _) in enumerate(part):
                    flags[name]["exact"] += res.exact[j * n:(j + 1) * n].tolist()
                    flags[name]["vbvr"] += res.vbvr[j * n:(j + 1) * n].tolist()
    return flags


def cka_maps(model, args):
    """1 - CKA (perturbed vs clean resid_post) per condition: array ``[layers, steps]`` (NaN before the noise)."""
    from interp.causal.cka import CkaCollector
    from interp.causal.noise import middle_strength, noise_at_frame, noise_at_step, noise_at_step_scaled
    from interp.causal.maze_runs import clean_run, loop_value, maze_inputs
    from interp.interventions import At, Collect, Intervention, run

    mid = middle_strength(args.strengths)
    layers = range(model.num_layers)
    sites = [f"blocks.{k}.resid_post" for k in layers]
    _, inputs = maze_inputs(model, size=args.size, count=args.cka_count, first_seed=args.first_seed + 500_000)
    clean = clean_run(model, inputs, sites + ["x_t"], num_steps=args.num_steps)
    conds = [(f"all frames at step {s}", s, noise_at_step(s, mid, num_steps=args.num_steps)) for s in args.cka_steps]
    if args.ratios:
        rel = middle_strength(args.ratios)
        conds += [(f"all frames at step {s}, {rel:g} sigma", s, noise_at_step_scaled(s, rel, sigmas=args.sigmas))
                  for s in args.cka_steps]
    conds.append((f"frame {args.cka_frame} at every step", 0,
                  noise_at_frame(args.cka_frame, mid, num_steps=args.num_steps, num_frames=len(args.frames_all))))
    maps = {}
    for name, start, edits in conds:
        collector = CkaCollector(clean.cache)
        collects = [Intervention(At(site, steps=list(range(start, args.num_steps)), branch="cond"), Collect())
                    for site in sites]
        x_t = loop_value(clean.cache, "x_t", start, inputs.latents)
        run(model, inputs.take(range(args.cka_count), latents=x_t), edits + collects, num_steps=args.num_steps,
            start_step=start, collector=collector, decode=False, progress=False)
        grid = np.full((model.num_layers, args.num_steps), np.nan)
        for (site, step), value in collector.values.items():
            grid[int(site.split(".")[1]), step] = 1.0 - value
        maps[name] = grid
    return maps


def figures(record, args, out):
    from interp.causal.noise import middle_strength
    from interp.causal.plots import noise_accuracy_figure, noise_cka_figure, noise_scaled_figure

    table = record["figures"]
    maps = {k: np.array(g, dtype=float) for k, g in record["cka_dissimilarity"].items()}    # None: no value
    args.ratios = getattr(args, "ratios", None) or []          # records from before the scaled arms
    scaled = [("noise_scaled.png", lambda: noise_scaled_figure(
        table, out / "noise_scaled.png", size=args.size, strengths=args.strengths, ratios=args.ratios,
        steps=args.steps, frames=args.frames, num_steps=args.num_steps))] if args.ratios else []
    return scaled + [
        ("noise_accuracy.png", lambda: noise_accuracy_figure(
            table, out / "noise_accuracy.png", size=args.size, strengths=args.strengths, steps=args.steps,
            frames=args.frames, grid_steps=args.grid_steps, num_steps=args.num_steps)),
        ("noise_cka.png", lambda: noise_cka_figure(
            maps, out / "noise_cka.png", size=args.size, std=middle_strength(args.strengths),
            num_steps=args.num_steps, count=args.cka_count))]


def verdict(table, args):
    from interp.causal.verdicts import noise_verdict

    return noise_verdict(table, strengths=args.strengths, steps=args.steps, frames=args.frames,
                         num_steps=args.num_steps)


def scaled_verdict(table, args) -> dict:
    """The verdict of the matched arm (noise scaled to each step's sigma), beside the fixed-std one."""
    from interp.causal.verdicts import noise_scaled_verdict

    if not args.ratios:
        return {}
    v, why = noise_scaled_verdict(table, ratios=args.ratios, steps=args.steps, frames=args.frames,
                                  num_steps=args.num_steps)
    return {"scaled_verdict": {"verdict": v, "why": why, "rule": " ".join(noise_scaled_verdict.__doc__.split("\n\n")[1].split())}}


def measure(args) -> dict:
    import torch

    from interp.causal.maze_runs import load
    from interp.sampling import schedule
    from interp.stats import mean_ci, share

    t0 = time.time()
    torch.manual_seed(0)
    model = load(args.model, args.device, args.dtype)
    args.frames_all = list(range(model.organism.config.num_frames))
    args.sigmas = [round(float(x), 6) for x in schedule(model, args.num_steps)[2][:args.num_steps]]
    validate(args, len(args.frames_all))
    flags = accuracy_runs(model, args)
    table = {}
    for name, f in flags.items():
        table[f"{name}/exact"] = share(f["exact"])
        table[f"{name}/vbvr"] = mean_ci(f["vbvr"])
    print(f"accuracy runs done in {time.time() - t0:.0f} s", flush=True)
    maps = cka_maps(model, args)
    _, why = verdict(table, args)
    return {"figures": table, "reading": why, "device": model.device, **scaled_verdict(table, args),
            "cka_dissimilarity": {k: np.where(np.isnan(g), None, np.round(g, 4)).tolist() for k, g in maps.items()},
            "cka_count": args.cka_count}


def main(argv=None):
    from interp.experiment import Experiment

    return Experiment("noise_step_vs_frame", CLAIM, PRESETS, measure, figures, options=add_options,
                      description=__doc__.split("\n")[0]).main(argv)


if __name__ == "__main__":
    from interp.results import script_main

    sys.exit(script_main(main))
