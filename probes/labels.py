"""Per-token label matrices for the samples of a trace store.

Joins :mod:`probes.targets` (what a label means on the maze grid) with the store (which maze a
sample solved, where each stored token sits, what the model finally drew).

Example:
    >>> from interp.store import TraceStore                               # doctest: +SKIP
    >>> store = TraceStore.open("trace.h5")                               # doctest: +SKIP
    >>> labels = label_matrix(store, store.sample_ids(), ["wall", "route"],
    ...                       store.token_grid("blocks.0.resid_post"))    # doctest: +SKIP
    >>> labels["wall"].shape                                              # [N_samples, T]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from interp.errors import InputError
from interp.tasks.score import decode_labels
from probes.targets import check_targets, token_values, unit_targets


def sample_maze(store, sample_id: str):
    """The :class:`interp.tasks.Maze` a sample was traced on (from its ``task`` metadata)."""
    from interp.tasks import Maze

    task = store.meta(sample_id).get("task") or {}
    maze = task.get("maze", task)  # a task folder's metadata nests the maze; a bare Maze dict does not
    if not isinstance(maze, dict) or "walls" not in maze:
        raise InputError(f"sample {sample_id!r} has no maze in its task metadata: maze targets need one")
    return Maze.from_dict(maze)


def sample_palette(store, sample_id: str) -> str:
    """The palette the sample's task was drawn with (``"default"`` when not recorded)."""
    task = store.meta(sample_id).get("task") or {}
    return str(task.get("palette", "default"))


def final_output_labels(store, sample_id: str, maze, *, site: str = "x0", palette: str = "default") -> np.ndarray:
    """Decode the model's final clean estimate (``x0`` at the last captured step) to unit labels.

    Needs pixel-space ``x0`` (3 channels in ``[-1, 1]``, one token per pixel, as the organism
    stores it); returns int ``[F, units, units]``.
    """
    if site not in store.sites():
        raise InputError(f"the final_output targets need the {site!r} site in the store; it has {store.sites()}")
    grid = store.token_grid(site)
    last = int(store.steps()[-1])
    x0 = store.read(sample_id, site, steps=[last], branch=None)[0]
    if x0.shape[-1] != 3 or (grid < 0).any():
        raise InputError(f"site {site!r} holds {x0.shape[-1]} channels per token: decoding labels needs "
                         "pixel-space RGB x0 with every token kept (the organism's layout)")
    F_, H, W = (int(grid[:, j].max()) + 1 for j in range(3))
    video = np.zeros((F_, H, W, 3), np.float32)
    video[grid[:, 0], grid[:, 1], grid[:, 2]] = x0
    # the scorer's own decoder, so "the model's output" means what the scorer reads
    return decode_labels(np.clip(video, -1.0, 1.0), maze, palette=palette).astype(np.int64)


def label_matrix(store, sample_ids, targets, token_grid: np.ndarray) -> dict[str, np.ndarray]:
    """Labels ``[N_samples, T]`` per target for the tokens described by ``token_grid`` ``[T, 3]``.

    Class targets are int64 with ``-1`` = masked; ``distance`` is float64 with ``NaN`` = masked.
    """
    records = check_targets(targets)
    needs_output = any(t.needs_output for t in records)
    rows: dict[str, list[np.ndarray]] = {t.name: [] for t in records}
    for sample_id in sample_ids:
        maze = sample_maze(store, sample_id)
        final = None
        if needs_output:
            final = final_output_labels(store, sample_id, maze, palette=sample_palette(store, sample_id))
        grids = unit_targets(maze, final)
        for t in records:
            rows[t.name].append(token_values(grids[t.name], token_grid))
    return {name: np.stack(values) for name, values in rows.items()}
