"""Figures of the claim experiments: per-step curves with 95% bands, and step histograms.

Every figure carries a title, axis labels with units, integer step ticks, a colour key and n.

Example:
    >>> import tempfile
    >>> path = plot_curves(tempfile.mkdtemp() + "/c.png", {"5x5": ([0, 1], [1.0, 2.0], [0.5, 1.5], [1.5, 2.5], 8)},
    ...                    title="t", xlabel="denoising step", ylabel="routes")
    >>> path.suffix
    '.png'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interp.viz.figure import finish, pyplot


def _figure(panels: int):
    plt = pyplot()
    fig, axes = plt.subplots(1, panels, figsize=(5.6 * panels, 4.0), squeeze=False)
    return plt, fig, list(axes[0])


def _finish(plt, fig, axes, path, title) -> Path:
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    return finish(fig, path, dpi=110)


def _draw(ax, series: dict, *, xlabel: str, ylabel: str, title: str | None = None, ylim=None, style: str = "-o"):
    for i, (label, (x, mean, low, high, n)) in enumerate(series.items()):
        colour = f"C{i}"
        ax.plot(x, mean, style, ms=3, color=colour, label=f"{label} (n={n})")
        if low is not None:
            ax.fill_between(x, low, high, color=colour, alpha=0.15)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    if ylim:
        ax.set_ylim(*ylim)


def plot_curves(path, series: dict, *, title: str, xlabel: str, ylabel: str, ylim=None) -> Path:
    """One panel; ``series``: ``{label: (x, mean, ci_low, ci_high, n)}`` (bands may be ``None``)."""
    plt, fig, (ax,) = _figure(1)
    _draw(ax, series, xlabel=xlabel, ylabel=ylabel, ylim=ylim)
    return _finish(plt, fig, [ax], path, title)


def plot_panels(path, panels: list[dict], *, title: str) -> Path:
    """Several panels side by side; each a dict with ``series``, ``xlabel``, ``ylabel``, ``title``
    and optionally ``ylim`` or ``hist`` (``{label: values}``, drawn as step histograms)."""
    plt, fig, axes = _figure(len(panels))
    for ax, panel in zip(axes, panels):
        if "hist" in panel:
            top = max([max(v) for v in panel["hist"].values() if len(v)] + [1])
            bins = np.arange(-0.5, top + 1.5)
            for i, (label, values) in enumerate(panel["hist"].items()):
                ax.hist(values, bins=bins, histtype="step", lw=2, color=f"C{i}", label=f"{label} (n={len(values)})")
            ax.set(xlabel=panel["xlabel"], ylabel=panel["ylabel"])
            ax.set_title(panel["title"], fontsize=10)
        else:
            _draw(ax, panel["series"], xlabel=panel["xlabel"], ylabel=panel["ylabel"], title=panel["title"],
                  ylim=panel.get("ylim"))
    return _finish(plt, fig, axes, path, title)
