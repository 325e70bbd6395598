"""Maze glue for patching sweeps: a batched route metric and the regions of a minimal pair.

:class:`PairMetric` scores a batch of decoded videos against their pairs in one vectorised pass:
each unit's route colour amount (:func:`interp.metrics.route_colour.route_amount`, the scorer's
palette geometry) is read from the final frame's unit colours (:func:`interp.tasks.score.sample_units`),
without the scorer's per-frame calibration, which a sweep over thousands of cells cannot afford
and the organism's clean palette colours do not need. ``tests/interventions/test_patching.py``
checks it against :func:`interp.tasks.patch_metrics.route_preference` (the calibrated reading).

* ``preference``: mean amount on clean-only route units minus on corrupt-only route units;
* ``flip``: 1 when the painted units (amount >= ``ROUTE_THRESHOLD``, 0.5; start and goal aside)
  are exactly the clean route's, else 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interp.interventions.where import Tokens
from interp.metrics.route_colour import route_amount
from interp.tasks.pairs import MazePair
from interp.tasks.patch_metrics import ROUTE_THRESHOLD
from interp.tasks.score import sample_units


class PairMetric:
    """``metric(videos [R, F, H, W, 3] uint8, pair indices) -> {"preference", "flip"}`` for ``pairs``."""

    def __init__(self, pairs: Sequence[MazePair], *, palette: str = "default") -> None:
        self.pairs = list(pairs)
        self.palette = palette
        units = self.pairs[0].clean.units
        self.clean_only = np.zeros((len(pairs), units, units), bool)
        self.corrupt_only = np.zeros_like(self.clean_only)
        self.clean_route = np.zeros_like(self.clean_only)
        self.floor = np.zeros_like(self.clean_only)
        for i, pair in enumerate(self.pairs):
            for unit in pair.clean_only:
                self.clean_only[i][unit] = True
            for unit in pair.corrupt_only:
                self.corrupt_only[i][unit] = True
            for unit in pair.clean_route:
                self.clean_route[i][unit] = True
            self.floor[i] = ~(pair.clean.walls & pair.corrupt.walls)
            for maze in (pair.clean, pair.corrupt):
                self.floor[i][maze.start] = self.floor[i][maze.goal] = self.clean_route[i][maze.start] = \
                    self.clean_route[i][maze.goal] = False

    def amounts(self, videos: np.ndarray) -> np.ndarray:
        """Route colour amount of every unit of every final frame: ``[R, U, U]``."""
        frames = np.asarray(videos)[:, -1]
        return route_amount(sample_units(frames, self.clean_only.shape[-1]), self.palette)

    def __call__(self, videos: np.ndarray, rows: Sequence[int]) -> dict[str, np.ndarray]:
        rows = np.asarray(rows)
        amount = self.amounts(videos)
        clean_only, corrupt_only = self.clean_only[rows], self.corrupt_only[rows]
        preference = (amount * clean_only).sum((1, 2)) / clean_only.sum((1, 2)).clip(1) \
            - (amount * corrupt_only).sum((1, 2)) / corrupt_only.sum((1, 2)).clip(1)
        painted = (amount >= ROUTE_THRESHOLD) & self.floor[rows]
        flip = np.all(painted == (self.clean_route[rows] & self.floor[rows]), axis=(1, 2))
        return {"preference": preference.astype(float), "flip": flip.astype(float)}


def changed_region(pairs: Sequence[MazePair], grid: tuple[int, int, int], *, px_per_unit: int,
                   pixels_per_token: tuple[int, int]):
    """A region function for :func:`~interp.interventions.patching.patch_sweep`: the tokens of a
    ``(frames, rows, cols)`` grid that cover pair ``p``'s changed units, in every frame."""
    f, h, w = grid
    ph, pw = pixels_per_token

    def region(p: int) -> Tokens:
        cube = np.zeros((f, h, w), bool)
        for r, c in pairs[p].changed_units:
            rows = slice(r * px_per_unit // ph, ((r + 1) * px_per_unit - 1) // ph + 1)
            cols = slice(c * px_per_unit // pw, ((c + 1) * px_per_unit - 1) // pw + 1)
            cube[:, rows, cols] = True
        return Tokens.from_mask(cube.reshape(-1))

    return region
