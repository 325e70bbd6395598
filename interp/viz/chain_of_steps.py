"""One maze's Chain-of-Steps on one figure: x0_hat at a few steps beside its route-colour curve.

Left, the step x frame grid of x0_hat for a readable subset of steps (:func:`pick_rows`), with a
colour key of the maze palette; right, per step, how strongly x0_hat's last frame paints the
final route, the other shortest routes and the rest of the floor, and the step from which the
decoded answer stays fixed. Built for the maze organism (``cos demo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from interp.errors import InputError
from interp.viz.figure import finish, pyplot

KEY_ORDER = ("wall", "floor", "start", "goal", "path")


def pick_rows(num_steps: int, commit_step: int, max_rows: int = 7) -> list[int]:
    """Steps worth drawing: evenly up to the commit, the commit itself and the last step.

    Example:
        >>> pick_rows(20, 8)
        [0, 2, 4, 5, 7, 8, 19]
        >>> pick_rows(20, 0)
        [0, 19]
    """
    if num_steps < 1:
        raise InputError(f"num_steps must be at least 1, got {num_steps}")
    commit = min(max(commit_step, 0), num_steps - 1)
    before = np.linspace(0, commit - 1, max(0, min(commit, max_rows - 2))).round().astype(int).tolist() if commit else []
    return sorted(set(before) | {commit, num_steps - 1})


def plot_chain_of_steps(frames: np.ndarray, steps: Sequence[int], sigmas: Sequence[float] | None, curves: dict,
                        path: str | Path, *, palette: dict, title: str, note: str = "") -> Path:
    """Save the figure.

    Args:
        frames: uint8 ``[R, F, H, W, 3]``, x0_hat of the drawn steps.
        steps: the step of each row.
        sigmas: noise level of x_t at each drawn step (or None).
        curves: ``final``, ``alternative``, ``other`` (one value per step, all steps) and ``commit_step``.
        palette: name -> RGB of the maze colours (the key).
        title: the figure's title; ``note`` a line under it (n, seeds).
    """
    from matplotlib.patches import Patch

    plt = pyplot()

    frames = np.asarray(frames)
    if frames.ndim != 5 or len(frames) != len(steps):
        raise InputError(f"frames must be [rows, frames, H, W, 3] with one row per step; got {frames.shape} "
                         f"for {len(steps)} steps")
    rows, cols = frames.shape[:2]
    fig = plt.figure(figsize=(1.25 * cols + 5.6, max(4.5, 1.25 * rows + 1.2)), layout="constrained")
    outer = fig.add_gridspec(1, 2, width_ratios=[1.25 * cols + 0.6, 5.0])
    grid = outer[0].subgridspec(rows, cols, wspace=0.04, hspace=0.08)
    for i, step in enumerate(steps):
        for j in range(cols):
            ax = fig.add_subplot(grid[i, j])
            ax.imshow(frames[i, j], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("frame 0 (given)" if j == 0 else (f"frame {j} (last)" if j == cols - 1 else f"frame {j}"),
                             fontsize=8)
            if j == 0:
                sigma = "" if sigmas is None else f"\nσ = {sigmas[i]:.2f}"
                ax.set_ylabel(f"step {step}{sigma}", fontsize=8, rotation=0, ha="right", va="center")
    key = [Patch(facecolor=np.asarray(palette[name]) / 255, edgecolor="0.4", label=name)
           for name in KEY_ORDER if name in palette]
    fig.legend(handles=key, loc="outside lower left", ncol=len(key), fontsize=8, title="colour key", title_fontsize=8,
               frameon=False)

    ax = fig.add_subplot(outer[1])
    x = np.arange(len(curves["final"]))
    ax.plot(x, curves["final"], "-o", ms=3, color="tab:blue", label="final route")
    ax.plot(x, curves["alternative"], "--o", ms=3, color="tab:orange", label="other shortest route(s)")
    ax.plot(x, curves["other"], ":", color="0.4", label="rest of the floor")
    commit = curves["commit_step"]
    if commit < len(x):
        ax.axvline(commit, color="k", lw=0.8, ls="-.")
        ax.annotate(f"answer fixed\nfrom step {commit}", (commit, 0.5), xytext=(6, 0), textcoords="offset points",
                    fontsize=8, va="center")
    for step in steps:
        ax.axvline(step, color="0.9", lw=2, zorder=0)
    ax.set_xticks(x[:: max(1, len(x) // 10)])
    ax.set_xlim(-0.5, len(x) - 0.5)
    ax.set_ylim(-0.03, 1.05)
    ax.set_xlabel("denoising step (grey bars: rows drawn on the left)")
    ax.set_ylabel("route colour in x0_hat's last frame\n(mean affinity: 0 floor, 1 route colour)")
    ax.set_title("Chain-of-Steps curve of this maze", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    fig.suptitle(title, fontsize=10)
    sigma_note = "x0_hat = x_t − σ·v is the model's estimate of the finished video at that step; " \
                 "σ = noise level of x_t (1 pure noise, 0 clean)."
    fig.text(0.99, 0.0, sigma_note + (f"\n{note}" if note else ""), fontsize=7.5, va="top", ha="right",
             transform=fig.transFigure)
    return finish(fig, path, dpi=110, bbox_inches="tight", tight=False)
