"""Every figure's backend and finish, in one place: matplotlib drawing to files, and one helper that
labels a figure (title with its n, axis units, colour key) and writes it all at once.

Every plotting module takes ``plt = pyplot()`` and ends with :func:`finish`, so the backend is
chosen once (files, never a window: figures are drawn on machines without a display) and every
figure is labelled and saved the same way (:func:`interp.outputs.save_figure`: no partial PNG).

Example:
    >>> import tempfile
    >>> plt = pyplot()
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0.2, 0.9], label="organism")
    >>> path = finish(fig, tempfile.mkdtemp() + "/line.png", title="Accuracy by step", n=12,
    ...               xlabel="step (of 20)", ylabel="share of mazes", legend=True)
    >>> ax.get_title(), path.suffix
    ('Accuracy by step (n=12)', '.png')
"""

from __future__ import annotations

from pathlib import Path

from interp.outputs import save_figure


def pyplot():
    """``matplotlib.pyplot`` on the file backend (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def titled(title: str, n=None) -> str:
    """``title (n=N)``: every figure names the sample size behind it."""
    return title if n is None else f"{title} (n={n})"


def finish(fig, path, *, ax=None, title: str | None = None, suptitle: str | None = None, n=None,
           xlabel: str | None = None, ylabel: str | None = None, legend=None, grid: bool = False,
           dpi: int = 120, tight: bool = True, bbox_inches: str | None = None) -> Path:
    """Label ``fig`` and write it to ``path``, then close it.

    Args:
        ax: the panel ``title``, ``xlabel`` (with its units), ``ylabel``, ``legend`` and ``grid``
            apply to (default: the figure's first panel).
        title / suptitle: the panel's title / the whole figure's; ``n`` is appended to the one given.
        legend: ``True`` for the panel's colour key, or a dict of ``ax.legend`` options.
        tight: ``fig.tight_layout()`` before saving; ``bbox_inches="tight"`` crops to the drawing.
    """
    ax = ax if ax is not None else (fig.axes[0] if fig.axes else None)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(titled(title, None if suptitle is not None else n))
    if suptitle is not None:
        fig.suptitle(titled(suptitle, n))
    if legend:
        ax.legend(**(legend if isinstance(legend, dict) else {}))
    if grid:
        ax.grid(alpha=0.3)
    if tight:
        fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=dpi, **({"bbox_inches": bbox_inches} if bbox_inches else {}))
    pyplot().close(fig)
    return Path(path)


__all__ = ["pyplot", "titled", "finish"]
