"""Figure of Chain-of-Steps metrics over steps: candidate routes, and shares of samples.

Example:
    >>> import tempfile
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> from interp.metrics.cos import cos_metrics
    >>> from interp.metrics.cos_aggregate import aggregate
    >>> maze = generate_maze(5, seed=0)
    >>> result = aggregate([cos_metrics(np.stack([ground_truth_video(maze, 3, px_per_unit=3)] * 3), maze)])
    >>> plot_cos_metrics({"all": result}, tempfile.mkdtemp() + "/cos.png").suffix
    '.png'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interp.viz.figure import finish, pyplot

SHARES = (("answer_correct", "answer correct", "-"), ("scaffold_correct", "walls, start, goal correct", "--"),
          ("self_correction", "wrong now, right at the end", ":"))


def plot_cos_metrics(groups: dict, path, *, threshold: float | None = None) -> Path:
    """Two panels per-step: mean candidate routes (95% bootstrap band) and shares of samples
    (95% Wilson bands), one colour per group (e.g. maze size). ``groups``: ``{label: aggregate}``."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    total = 0
    for i, (label, result) in enumerate(groups.items()):
        colour = f"C{i}"
        steps = np.asarray(result["steps"])
        n = result["n"]
        total += n
        c = result["per_step"]["candidates"]
        left.plot(steps, c["mean"], "-o", ms=3, color=colour, label=f"{label} (n={n})")
        left.fill_between(steps, c["ci95_low"], c["ci95_high"], color=colour, alpha=0.15)
        for key, name, style in SHARES:
            d = result["per_step"][key]
            right.plot(steps, d["mean"], style, color=colour, label=f"{label}: {name} (n={n})")
            right.fill_between(steps, d["ci95_low"], d["ci95_high"], color=colour, alpha=0.08)
    left.set(xlabel="denoising step", ylabel="candidate routes drawn (mean)",
             title="start-goal routes through route-coloured units")
    right.set(xlabel="denoising step", ylabel="share of samples", ylim=(-0.03, 1.03),
              title="answer and scaffold in x0_hat")
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.title.set_fontsize(10)
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylim(bottom=0)
    note = f"n = {total} samples" + (f", route colour threshold {threshold}" if threshold is not None else "")
    fig.suptitle(f"Chain-of-Steps metrics per denoising step ({note}; bands: 95% intervals)", fontsize=11)
    return finish(fig, path, dpi=120)
