"""Figures of a patching grid: a layer x step heatmap per region and metric, and effect maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interp.viz.figure import finish, pyplot

METRIC_LABELS = {
    "preference": "restored route preference (0 = corrupted run, 1 = clean run)",
    "flip": "share of pairs whose answer flips to the clean route",
}


def plot_grid(grid, metric: str, out: str | Path, *, title: str | None = None) -> Path:
    """One heatmap per region of ``grid.normalised(metric)`` (``flip``: the raw share), layers down, steps across."""
    plt = pyplot()

    regions = grid.coords["region"]
    layers, steps = grid.coords["layer"], grid.coords["step"]
    n = len(grid.coords["pair"])
    data = grid.values[metric].mean(axis=-1) if metric == "flip" else grid.normalised(metric)
    width = max(3.6, 0.28 * len(steps) + 1.6)
    fig, axes = plt.subplots(1, len(regions), figsize=(width * len(regions) + 1.4, max(3.4, 0.28 * len(layers) + 2.0)),
                             squeeze=False, constrained_layout=True)
    for ax, name, values in zip(axes[0], regions, data):
        image = ax.imshow(values, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-1, vmax=1,
                          interpolation="nearest")
        ax.set_title(f"region: {name}")
        ax.set_xlabel("denoising step patched")
        ax.set_ylabel(f"layer patched ({grid.meta.get('site', 'resid_post')})")
        ax.set_xticks(range(len(steps)), [str(s) for s in steps], fontsize=7)
        ax.set_yticks(range(len(layers)), [str(l) for l in layers], fontsize=7)
    fig.colorbar(image, ax=axes[0].tolist(), label=METRIC_LABELS.get(metric, metric), shrink=0.9)
    read = "final video" if grid.meta.get("read_at", "final") == "final" else "x0_hat of the patched step"
    fig.suptitle(title or f"Activation patching, clean into corrupted: {n} maze pairs, read from the {read}")
    return finish(fig, out, dpi=120, bbox_inches="tight", tight=False)


def plot_effects(maps: list[tuple[str, np.ndarray]], out: str | Path, *, title: str) -> Path:
    """Per-unit maps (``[U, U]``) of the change a patch makes to one pair's final frame, one panel
    per cell, on one colour scale."""
    plt = pyplot()

    limit = max(1e-6, max(float(np.abs(m).max()) for _, m in maps))
    fig, axes = plt.subplots(1, len(maps), figsize=(3.0 * len(maps) + 1.2, 3.4), squeeze=False,
                             constrained_layout=True)
    for ax, (label, values) in zip(axes[0], maps):
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("maze column (grid units)")
        ax.set_ylabel("maze row (grid units)")
    fig.colorbar(image, ax=axes[0].tolist(), label="route colour amount, patched - corrupted run", shrink=0.9)
    fig.suptitle(title)
    return finish(fig, out, dpi=120, bbox_inches="tight", tight=False)
