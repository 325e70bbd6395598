"""Figures of the causal maze experiments, drawn from their figures tables (see :mod:`interp.causal.verdicts`).

Shares carry their 95% Wilson interval as error bars, the VBVR-style score its mean +- 1.96
standard errors; every panel names n. Each function writes one PNG at ``path``.

Example:
    >>> import tempfile
    >>> figure = {"value": 0.5, "ci95": [0.3, 0.7], "n": 20}
    >>> table = {f"step0/layer{k}/{o}": figure for k in (0, 1) for o in ("other", "own", "broken")}
    >>> layer_swap_figure(table, tempfile.mkdtemp() + "/swap.png", size=5, layers=[0, 1], steps=[0], num_steps=4)
"""

from __future__ import annotations

import numpy as np

from interp.causal.noise import middle_strength
from interp.causal.verdicts import ERASE_ARMS, ERASE_OUTCOMES, SWAP_OUTCOMES
from interp.viz.figure import finish, pyplot


def erase_outcomes_figure(table: dict, path, *, sizes, steps, num_steps: int) -> None:
    """Share of mazes whose answer changed, changed to another valid route, or broke, per erase step,
    arm and size."""
    plt = pyplot()
    colours = {"unchosen": "tab:orange", "chosen": "tab:blue", "control": "tab:grey", "matched": "tab:green"}
    fig, axes = plt.subplots(len(ERASE_OUTCOMES), len(sizes), figsize=(4.2 * len(sizes), 8.5), squeeze=False,
                             sharex=True, sharey=True)
    for c, size in enumerate(sizes):
        for r, outcome in enumerate(ERASE_OUTCOMES):
            ax = axes[r][c]
            for j, arm in enumerate(ERASE_ARMS):
                xs, ys, lo, hi = [], [], [], []
                for s in steps:
                    f = table.get(f"{size}/step{s}/{arm}/{outcome}", {"n": 0})   # older records: no matched arm
                    if f["n"]:
                        xs.append(s + (j - 1) * 0.15)
                        ys.append(f["value"])
                        lo.append(f["value"] - f["ci95"][0])
                        hi.append(f["ci95"][1] - f["value"])
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, color=colours[arm], label=arm)
            n = max(table[f"{size}/step{s}/unchosen/{outcome}"]["n"] for s in steps)
            ax.set_title(f"{size}x{size}: {outcome.replace('_', ' ')} (n <= {n} mazes)", fontsize=10)
            ax.set_xticks(steps)
            ax.set_ylim(-0.02, 1.02)
            if r == len(ERASE_OUTCOMES) - 1:
                ax.set_xlabel(f"erase step (of {num_steps})")
            if c == 0:
                ax.set_ylabel("share of mazes")
    axes[0][-1].legend(title="erased units", loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("Erasing early candidates from x0_hat: does the final answer change? (95% Wilson CI)")
    finish(fig, path, dpi=120, bbox_inches="tight")


def probe_projection_figure(table: dict, path, *, sizes, layer: int, step: int) -> None:
    """Share of mazes whose answer changed or broke when the route probe's direction (or a random one)
    is projected out of the candidate tokens at ``layer``, ``step``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.8 + 2.2 * len(sizes), 3.6))
    width = 0.2
    for j, (arm, colour) in enumerate((("probe", "tab:red"), ("random", "tab:grey"))):
        for k, outcome in enumerate(("changed", "broke")):
            xs, ys, err = [], [], [[], []]
            for c, size in enumerate(sizes):
                f = table[f"{size}/probe/{arm}/{outcome}"]
                if f["n"]:
                    xs.append(c + (2 * j + k - 1.5) * width)
                    ys.append(f["value"])
                    err[0].append(f["value"] - f["ci95"][0])
                    err[1].append(f["ci95"][1] - f["value"])
            ax.bar(xs, ys, width, yerr=err, capsize=3, color=colour, alpha=1.0 if k == 0 else 0.45,
                   label=f"{arm} direction: {outcome}")
    ax.set_xticks(range(len(sizes)), [f"{s}x{s}\nn={table[f'{s}/probe/probe/changed']['n']}" for s in sizes])
    ax.set_ylabel("share of mazes")
    ax.set_ylim(0, 1)
    ax.set_title(f"Projecting out of candidate tokens at layer {layer}, step {step}")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    finish(fig, path, dpi=120, bbox_inches="tight")


def noise_accuracy_figure(table: dict, path, *, size: int, strengths, steps, frames, grid_steps,
                          num_steps: int) -> None:
    """Exact accuracy and VBVR-style score against noise strength, for noise in all frames at one
    step and in one frame at every step; and the frame x step grid at the middle strength."""
    plt = pyplot()
    mid = middle_strength(strengths)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    cmap = plt.get_cmap("viridis")
    for r, metric in enumerate(("exact", "vbvr")):
        clean = table[f"clean/{metric}"]["value"]
        for c, (kind, items) in enumerate((("step", steps), ("frame", frames))):
            ax = axes[r][c]
            for j, item in enumerate(items):
                fs = [table[f"{kind}{item}/std{s:g}/{metric}"] for s in strengths]
                ax.errorbar(strengths, [f["value"] for f in fs],
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
        grid = np.array([[table[f"frame{f}@step{s}/std{mid:g}/{metric}"]["value"] for s in grid_steps]
                         for f in frames], float)
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="magma", aspect="auto")
        ax.set_xticks(range(len(grid_steps)), grid_steps)
        ax.set_yticks(range(len(frames)), frames)
        ax.set_xlabel(f"step (of {num_steps})")
        ax.set_ylabel("frame")
        ax.set_title(f"{metric}: one frame at one step, std {mid:g}", fontsize=10)
        fig.colorbar(im, ax=ax, label="exact accuracy" if metric == "exact" else "VBVR-style score")
    fig.suptitle(f"Noise at a step vs at a frame, {size}x{size} mazes (95% CI)")
    finish(fig, path, dpi=110, bbox_inches="tight")


def noise_cka_figure(maps: dict, path, *, size: int, std: float, num_steps: int, count: int) -> None:
    """One panel per perturbation: 1 - CKA of each block's ``resid_post`` against the clean run,
    ``maps[name]`` an array ``[blocks, steps]`` (NaN before the noise, drawn blank)."""
    plt = pyplot()
    # one colour scale per panel: a step's noise leaves ~0.02-0.04, a frame noised at every step ~0.7
    cols = min(4, len(maps))
    rows = -(-len(maps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[len(maps):]:
        ax.axis("off")
    for ax, (name, grid) in zip(axes.flat, maps.items()):
        im = ax.imshow(grid, vmin=0, vmax=np.nanmax(grid) or 1.0, cmap="viridis", aspect="auto", origin="lower")
        ax.set_title(f"noise std {std:g}: {name}", fontsize=9)
        ax.set_xlabel(f"step (of {num_steps})")
        ax.set_xticks(range(0, num_steps, 2))
        ax.set_ylabel("block (resid_post)")
        ax.set_yticks(range(grid.shape[0]))
        fig.colorbar(im, ax=ax, label="1 - debiased CKA vs clean", fraction=0.05)
    fig.suptitle(f"Propagation of noise, {size}x{size} mazes, n={count} (blank: before the noise)")
    finish(fig, path, dpi=110, bbox_inches="tight")


def noise_scaled_figure(table: dict, path, *, size: int, strengths, ratios, steps, frames, num_steps: int) -> None:
    """Exact accuracy against the noised step: a fixed std (left) beside a std scaled to the step's
    own sigma (middle), and one frame at every step at each scaled ratio (right)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    cmap = plt.get_cmap("viridis")
    clean = table["clean/exact"]
    for ax, (label, key, levels) in zip(axes[:2], (("fixed std", "std", strengths), ("std = ratio x sigma_s", "rel", ratios))):
        for j, level in enumerate(levels):
            fs = [table[f"step{s}/{key}{level:g}/exact"] for s in steps]
            ax.errorbar(steps, [f["value"] for f in fs],
                        yerr=[[f["value"] - f["ci95"][0] for f in fs], [f["ci95"][1] - f["value"] for f in fs]],
                        marker="o", capsize=2, color=cmap(j / max(1, len(levels) - 1)),
                        label=f"{'std' if key == 'std' else 'ratio'} {level:g}")
        ax.axhline(clean["value"], color="k", ls=":", label="no noise")
        ax.set_xlabel(f"step noised, all frames (of {num_steps})")
        ax.set_ylabel("exact accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{label} (n={clean['n']})", fontsize=10)
        ax.legend(fontsize=7)
    ax = axes[2]
    width = 0.8 / max(1, len(ratios))
    for j, r in enumerate(ratios):
        fs = [table[f"frame{f}/rel{r:g}/exact"] for f in frames]
        ax.bar(np.arange(len(frames)) + j * width, [f["value"] for f in fs], width,
               yerr=[[f["value"] - f["ci95"][0] for f in fs], [f["ci95"][1] - f["value"] for f in fs]],
               color=cmap(j / max(1, len(ratios) - 1)), capsize=2, label=f"ratio {r:g}")
    ax.axhline(clean["value"], color="k", ls=":", label="no noise")
    ax.set_xticks(np.arange(len(frames)) + 0.4 - width / 2, [str(f) for f in frames])
    ax.set_xlabel("frame noised at every step (std = ratio x sigma_s)")
    ax.set_ylabel("exact accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("one frame at every step, scaled", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle(f"Noise at a step: fixed std vs scaled to the step's sigma, {size}x{size} mazes (95% CI)")
    finish(fig, path, dpi=110, bbox_inches="tight")


def layer_swap_figure(table: dict, path, *, size: int, layers, steps, num_steps: int, site: str = "resid_post",
                      every_step: bool = False) -> None:
    """Stacked shares of answers that follow the other maze, keep their own, or break, per swapped
    block, one panel per swap step; with the share whose x0_hat leaned to the other route, when measured."""
    plt = pyplot()
    colours = {"other": "tab:red", "own": "tab:blue", "broken": "tab:grey"}
    fig, axes = plt.subplots(1, len(steps), figsize=(6 * len(steps), 4), squeeze=False, sharey=True)
    for ax, s in zip(axes[0], steps):
        bottom = np.zeros(len(layers))
        for o in SWAP_OUTCOMES:
            vals = np.array([table[f"step{s}/layer{k}/{o}"]["value"] for k in layers], float)
            ax.bar(layers, vals, bottom=bottom, color=colours[o], label=o)
            bottom += vals
        other = [table[f"step{s}/layer{k}/other"] for k in layers]
        ax.errorbar(layers, [f["value"] for f in other],
                    yerr=[[f["value"] - f["ci95"][0] for f in other], [f["ci95"][1] - f["value"] for f in other]],
                    fmt="none", ecolor="k", capsize=3)
        if f"step{s}/layer{layers[0]}/x0_other" in table:
            ax.plot(layers, [table[f"step{s}/layer{k}/x0_other"]["value"] for k in layers], "kD--",
                    label="x0_hat at the swapped step\ncloser to the other route")
        ax.set_xticks(layers)
        ax.set_xlabel(f"block k whose {site} is swapped")
        when = f"every step from {s}" if every_step else f"step {s}"
        ax.set_title(f"swap at {when} of {num_steps} (n={other[0]['n']} mazes)")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("share of mazes")
    axes[0][-1].legend(title="final answer", loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"Layer swap, {size}x{size} mazes: whose route does the answer draw? (bars: 95% CI of 'other')")
    finish(fig, path, dpi=110, bbox_inches="tight")
