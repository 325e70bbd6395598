"""Noise at a step vs noise at a frame: where is the denoising run most sensitive?

Gaussian noise of absolute standard deviation ``--strengths`` (model space: the organism's pixels
in [-1, 1], where x_T is unit Gaussian) is added to the latents entering a step
(:mod:`interp.causal.noise`): to all frames at one step (for each of ``--steps``), to one frame at
every step (for each frame), and to one frame at one step (``--grid-steps``, at the middle
strength). Outcomes: exact accuracy and the VBVR-style maze score of the final video.
Propagation: debiased linear CKA (:mod:`interp.causal.cka`) between perturbed and clean
``resid_post`` of every block at every later step, per maze over its tokens.

Example::

    python experiments/noise_step_vs_frame.py --preset cpu
    python experiments/noise_step_vs_frame.py --preset gpu --device cuda
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

PRESETS = {
    "cpu": dict(size=5, count=2, strengths=[1.0], steps=[0, 10], grid_steps=[10], cka_count=1, cka_steps=[0],
                batch=64, device="cpu", dtype="float32"),
    "gpu": dict(size=7, count=300, strengths=[0.5, 1.0, 2.0], steps=[0, 3, 6, 9, 12, 15, 18],
                grid_steps=[0, 8, 16], cka_count=32, cka_steps=[0, 6, 12], batch=1536, device="cuda",
                dtype="bfloat16"),
}
CLAIM = ("Noise injected into all frames at one denoising step hurts far more than noise injected into one frame "
         "at every step, and sensitivity peaks in the middle of the schedule (steps 20-30 of 50).")


def parse(argv):
    from interp.causal.runs import parse_preset, script_parser

    p = script_parser(__doc__.split("\n")[0], PRESETS, name="noise_step_vs_frame", first_seed=30_000)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--count", type=int, default=None)
    p.add_argument("--strengths", type=float, nargs="+", default=None, help="noise standard deviations (>= 0)")
    p.add_argument("--steps", type=int, nargs="+", default=None, help="steps for noise at a step")
    p.add_argument("--frames", type=int, nargs="+", default=None, help="frames for noise at a frame (default all)")
    p.add_argument("--grid-steps", type=int, nargs="+", default=None, help="steps of the frame x step grid")
    p.add_argument("--cka-count", type=int, default=None)
    p.add_argument("--cka-steps", type=int, nargs="+", default=None)
    p.add_argument("--cka-frame", type=int, default=2)
    return parse_preset(p, PRESETS, argv)


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
    for std in args.strengths:
        check_std(std)


def conditions(args):
    """(name, start step, interventions builder(samples)) of every perturbed arm."""
    from interp.causal.noise import noise_at_frame, noise_at_step

    mid = args.strengths[len(args.strengths) // 2]
    out = []
    for std in args.strengths:
        for s in args.steps:
            out.append((f"step{s}/std{std:g}", s, lambda rows, s=s, std=std: noise_at_step(
                s, std, num_steps=args.num_steps, samples=rows)))
        for f in args.frames:
            out.append((f"frame{f}/std{std:g}", 0, lambda rows, f=f, std=std: noise_at_frame(
                f, std, num_steps=args.num_steps, num_frames=len(args.frames_all), samples=rows)))
    for f in args.frames:
        for s in args.grid_steps:
            out.append((f"frame{f}@step{s}/std{mid:g}", s, lambda rows, f=f, s=s: noise_at_frame(
                f, mid, num_steps=args.num_steps, num_frames=len(args.frames_all), steps=[s], samples=rows)))
    return out


def accuracy_runs(model, args):
    """Exact and VBVR flags per condition over all mazes, run from each condition's start step."""
    from interp.causal import maze as M
    from interp.causal.runs import chunks, clean_run, loop_value, maze_inputs
    from interp.interventions import run

    palette = model.organism.config.palette
    conds = conditions(args)
    starts = sorted({c[1] for c in conds})
    flags = {name: {"exact": [], "vbvr": []} for name, _, _ in conds}
    flags["clean"] = {"exact": [], "vbvr": []}
    mazes_all, inputs_all = maze_inputs(model, size=args.size, count=args.count, first_seed=args.first_seed)
    for chunk in chunks(args.count, args.batch):
        mazes = [mazes_all[i] for i in chunk]
        inputs = inputs_all.take(list(chunk))
        clean = clean_run(model, inputs, ["x_t"], num_steps=args.num_steps, steps=starts)
        res, _ = M.outcomes(clean.video, mazes, palette=palette)
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
                res, _ = M.outcomes(out.video, [mazes[i] for i in order], palette=palette)
                for j, (name, _, _) in enumerate(part):
                    flags[name]["exact"] += res.exact[j * n:(j + 1) * n].tolist()
                    flags[name]["vbvr"] += res.vbvr[j * n:(j + 1) * n].tolist()
    return flags


def cka_maps(model, args):
    """1 - CKA (perturbed vs clean resid_post) per condition: array ``[layers, steps]`` (NaN before the noise)."""
    from interp.causal.cka import CkaCollector
    from interp.causal.noise import noise_at_frame, noise_at_step
    from interp.causal.runs import clean_run, loop_value, maze_inputs
    from interp.interventions import At, Collect, Intervention, run

    mid = args.strengths[len(args.strengths) // 2]
    layers = range(model.num_layers)
    sites = [f"blocks.{k}.resid_post" for k in layers]
    _, inputs = maze_inputs(model, size=args.size, count=args.cka_count, first_seed=args.first_seed + 500_000)
    clean = clean_run(model, inputs, sites + ["x_t"], num_steps=args.num_steps)
    conds = [(f"all frames at step {s}", s, noise_at_step(s, mid, num_steps=args.num_steps)) for s in args.cka_steps]
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
    return maps, mid


def mean_ci(values):
    values = np.asarray(values, float)
    if not len(values):
        return {"value": None, "ci95": [None, None], "n": 0}
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    m = float(values.mean())
    return {"value": round(m, 4), "ci95": [round(m - half, 4), round(m + half, 4)], "n": len(values)}


def figure(table, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mid = args.strengths[len(args.strengths) // 2]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    cmap = plt.get_cmap("viridis")
    for r, metric in enumerate(("exact", "vbvr")):
        clean = table[f"clean/{metric}"]["value"]
        for c, (kind, items) in enumerate((("step", args.steps), ("frame", args.frames))):
            ax = axes[r][c]
            for j, item in enumerate(items):
                fs = [table[f"{kind}{item}/std{s:g}/{metric}"] for s in args.strengths]
                ax.errorbar(args.strengths, [f["value"] for f in fs],
                            yerr=[[f["value"] - f["ci95"][0] for f in fs], [f["ci95"][1] - f["value"] for f in fs]],
                            marker="o", capsize=2, color=cmap(j / max(1, len(items) - 1)), label=f"{kind} {item}")
            ax.axhline(clean, color="k", ls=":", label="no noise")
            ax.set_xlabel("noise std (model space, pixels in [-1, 1])")
            ax.set_ylabel("exact accuracy" if metric == "exact" else "VBVR-style score")
            ax.set_ylim(-0.02, 1.02)
            where = "all frames at one step" if kind == "step" else "one frame at every step"
            ax.set_title(f"{metric}: noise in {where} (n={table[f'clean/{metric}']['n']})", fontsize=10)
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        ax = axes[r][2]
        grid = np.array([[table[f"frame{f}@step{s}/std{mid:g}/{metric}"]["value"] for s in args.grid_steps]
                         for f in args.frames], float)
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="magma", aspect="auto")
        ax.set_xticks(range(len(args.grid_steps)), args.grid_steps)
        ax.set_yticks(range(len(args.frames)), args.frames)
        ax.set_xlabel(f"step (of {args.num_steps})")
        ax.set_ylabel("frame")
        ax.set_title(f"{metric}: one frame at one step, std {mid:g}", fontsize=10)
        fig.colorbar(im, ax=ax, label="exact accuracy" if metric == "exact" else "VBVR-style score")
    fig.suptitle(f"Noise at a step vs at a frame, {args.size}x{args.size} mazes (95% CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def cka_figure(maps, args, mid, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # one colour scale per panel: a step's noise leaves ~0.02-0.04, a frame noised at every step ~0.7
    fig, axes = plt.subplots(1, len(maps), figsize=(4.8 * len(maps), 3.9), squeeze=False)
    for ax, (name, grid) in zip(axes[0], maps.items()):
        im = ax.imshow(grid, vmin=0, vmax=np.nanmax(grid) or 1.0, cmap="viridis", aspect="auto", origin="lower")
        ax.set_title(f"noise std {mid:g}: {name}", fontsize=9)
        ax.set_xlabel(f"step (of {args.num_steps})")
        ax.set_xticks(range(0, args.num_steps, 2))
        ax.set_ylabel("block (resid_post)")
        ax.set_yticks(range(grid.shape[0]))
        fig.colorbar(im, ax=ax, label="1 - debiased CKA vs clean", fraction=0.05)
    fig.suptitle(f"Propagation of noise, {args.size}x{args.size} mazes, n={args.cka_count} (blank: before the noise)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def verdict(table, args):
    """Compare, at the largest strength, the worst step (noise in all frames at one step) with each
    frame (noise at every step); locate the peak sensitivity at the middle strength (the largest
    strength can floor several steps at 0, which leaves the peak undefined)."""
    top, mid = max(args.strengths), args.strengths[len(args.strengths) // 2]
    step_acc = {s: table[f"step{s}/std{top:g}/exact"] for s in args.steps}
    worst_step = min(step_acc, key=lambda s: step_acc[s]["value"])
    worst = step_acc[worst_step]
    frames = {f: table[f"frame{f}/std{top:g}/exact"] for f in args.frames}
    milder = [f for f in args.frames if frames[f]["ci95"][0] > worst["ci95"][1]]
    peak = min(args.steps, key=lambda s: table[f"step{s}/std{mid:g}/exact"]["value"])
    middle = 0.3 * args.num_steps <= peak <= 0.7 * args.num_steps
    facts = (f"at std {top:g} the worst step ({worst_step}) leaves exact {worst['value']:.3f}; noise in one frame at "
             "every step leaves " + ", ".join(f"frame {f}: {frames[f]['value']:.3f}" for f in args.frames)
             + f"; at std {mid:g} sensitivity peaks at step {peak} of {args.num_steps}")
    if len(milder) == len(args.frames) and middle:
        return "holds", f"noise at one step hurts more than at any one frame and peaks mid-schedule; {facts}"
    if milder or middle:
        return "partly", (f"noise at one step hurts more than noise at frames {milder} only"
                          + ("" if middle else ", and sensitivity peaks late, not mid-schedule") + f"; {facts}")
    return "does not hold", f"noise at one step does not hurt more than noise at a frame; {facts}"


def main(argv=None):
    t0 = time.time()
    args = parse(argv)
    import torch
    from interp.causal.runs import draw, load, replot_args, rewrite_verdict
    from interp.results import share, write_result

    out = Path(args.out)
    if args.replot:
        record = replot_args(args, out)
        table = record["figures"]
        maps = {k: np.array(g, dtype=float) for k, g in record["cka_dissimilarity"].items()}
        mid = args.strengths[len(args.strengths) // 2]
        draw([("noise_accuracy.png", lambda: figure(table, args, out / "noise_accuracy.png")),
              ("noise_cka.png", lambda: cka_figure(maps, args, mid, out / "noise_cka.png"))])
        rewrite_verdict(out, record, *verdict(table, args))
        return 0

    torch.manual_seed(0)
    model = load(args.model, args.device, args.dtype)
    args.frames_all = list(range(model.organism.config.num_frames))
    validate(args, len(args.frames_all))
    flags = accuracy_runs(model, args)
    table = {}
    for name, f in flags.items():
        table[f"{name}/exact"] = share(f["exact"])
        table[f"{name}/vbvr"] = mean_ci(f["vbvr"])
    print(f"accuracy runs done in {time.time() - t0:.0f} s", flush=True)
    maps, mid = cka_maps(model, args)
    out.mkdir(parents=True, exist_ok=True)
    images = draw([("noise_accuracy.png", lambda: figure(table, args, out / "noise_accuracy.png")),
                   ("noise_cka.png", lambda: cka_figure(maps, args, mid, out / "noise_cka.png"))])
    v, why = verdict(table, args)
    settings = {k: v for k, v in vars(args).items() if k != "replot"}
    write_result(out, name="noise_step_vs_frame", claim=CLAIM, verdict=v, why=why, figures=table,
                 preset=args.preset, images=images, device=str(model.device),
                 seconds=time.time() - t0,
                 extra={"cka_dissimilarity": {k: np.where(np.isnan(g), None, np.round(g, 4)).tolist()
                                              for k, g in maps.items()},
                        "cka_count": args.cka_count, "settings": settings})
    print(f"{out}/result.json: {v}")
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    sys.exit(script_main(main))
