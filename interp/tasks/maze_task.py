"""The maze as a pair task: minimal maze pairs, their token regions, route metric and summary.

:class:`MazePairTask` is the maze's implementation of :class:`~interp.tasks.interface.PairTask`:
the causal machinery (:func:`interp.causal.pair_patch.patch_pairs`, ``cos patch``) runs it like
any other task and names no maze.

:class:`PairMetric` scores a batch of decoded videos against their pairs in one vectorised pass:
each unit's route colour amount (:func:`interp.tasks.route_colour.route_amount`, the scorer's
palette geometry) is read from the final frame's unit colours (:func:`interp.tasks.score.sample_units`),
without the scorer's per-frame calibration, which a sweep over thousands of cells cannot afford
and the organism's clean palette colours do not need. ``tests/interventions/test_patching.py``
checks it against :func:`interp.tasks.patch_metrics.route_preference` (the calibrated reading).

* ``preference``: mean amount on clean-only route units minus on corrupt-only route units;
* ``flip``: 1 when the painted units (amount >= ``ROUTE_THRESHOLD``, 0.5; start and goal aside)
  are exactly the clean route's, else 0.

Example:
    >>> from interp.tasks import make_pairs
    >>> task = MazePairTask(make_pairs(5, 2, seed=0), regions_text="all,changed")
    >>> task.num_pairs(), task.describe()["task"]
    (2, 'maze-pairs')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from interp.errors import InputError
from interp.interventions.where import Tokens
from interp.tasks.route_colour import route_amount
from interp.tasks.pairs import MazePair
from interp.tasks.patch_metrics import ROUTE_THRESHOLD
from interp.tasks.score import sample_units

#: The regions a maze pair can patch (``cos patch --region``).
REGIONS = "all, changed (the changed units' tokens), frame:K (one frame), grid:K (a K x K grid of patches)"


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


def parse_regions(text: str, grid, pairs, px_per_unit: int, pixels_per_token) -> dict:
    """Region name -> Tokens or a per-pair function; ``grid:K`` expands to K*K named patches."""
    f, h, w = grid
    out = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, _, arg = part.partition(":")
        if part == "all":
            out["all"] = Tokens.all()
        elif part == "changed":
            out["changed"] = changed_region(pairs, grid, px_per_unit=px_per_unit, pixels_per_token=pixels_per_token)
        elif name == "frame" and arg.isdigit() and int(arg) < f:
            out[part] = Tokens.in_frames(int(arg))
        elif name == "grid" and arg.isdigit() and 1 <= int(arg) <= min(h, w):
            k = int(arg)
            rows = [(i * h // k, (i + 1) * h // k) for i in range(k)]
            cols = [(j * w // k, (j + 1) * w // k) for j in range(k)]
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    out[f"grid{k}:{i},{j}"] = Tokens.region(rows=r, cols=c)
        else:
            raise InputError(f"unknown region {part!r}: valid are {REGIONS} with frame 0..{f - 1}, "
                             f"grid 1..{min(h, w)}")
    if not out:
        raise InputError(f"no region given: choose from {REGIONS}")
    return out


@dataclass
class MazePairTask:
    """Minimal maze pairs on a maze-solving organism, as a :class:`~interp.tasks.interface.PairTask`.

    Attributes:
        pairs: the :class:`~interp.tasks.pairs.MazePair` list (clean and corrupted maze of each).
        regions_text: the regions to patch, a comma list of :data:`REGIONS`.
    """

    pairs: list
    regions_text: str = "all,changed"
    name: str = "maze-pairs"

    def num_pairs(self) -> int:
        return len(self.pairs)

    def first_frames(self, model, which: str) -> np.ndarray:
        """uint8 ``[P, H, W, 3]``: each pair's ``which`` maze as ``model``'s first frame. On the walker both
        mazes of a pair show the agent on the start and the clean maze's key (a wall change can move the
        key a plain maze gets, :func:`interp.organism.walk_frames.as_walk_first_frame`), so the pair still
        differs in the changed wall only."""
        from interp.organism.evaluate import first_frames
        from interp.tasks.walk_score import scorer_for

        frames = first_frames([getattr(p, which) for p in self.pairs], model.organism)
        if scorer_for(model) is None:
            return frames
        from interp.organism.walk_frames import as_walk_first_frame, default_key

        px = model.organism.config.px_per_unit
        return np.stack([as_walk_first_frame(f, px, key=default_key(p.clean.walls, p.clean.start, p.clean.goal))
                         for f, p in zip(frames, self.pairs)])

    def inputs(self, model, which: str, seeds: Sequence[int]):
        """Each pair's ``which`` maze drawn as the model's first frame (:meth:`first_frames`), pair ``p`` with
        seed ``seeds[p]``."""
        return model.prepare(first_frame=self.first_frames(model, which), seeds=list(seeds))

    def regions(self, model, inputs) -> dict:
        return parse_regions(self.regions_text, model.token_grid(inputs.latents.shape), self.pairs,
                             model.organism.config.px_per_unit, model.pixels_per_token)

    def metric(self, model, clean_run, corrupt_run) -> PairMetric:
        """The route metric; it needs no reference run (the pairs' routes are known)."""
        return PairMetric(self.pairs)

    def answer_map(self, metric: PairMetric, videos) -> np.ndarray:
        """Per-unit route colour of each final frame ``[R, U, U]``: what an effect map shows."""
        return metric.amounts(videos)

    def summarise(self, grid) -> dict:
        """The grid's cells with normalised preference (95% bootstrap interval) and flip share."""
        grid.meta.update(clean_flip_share=float(grid.clean["flip"].mean()),
                         corrupt_flip_share=float(grid.corrupt["flip"].mean()))
        normalised = grid.normalised("preference")
        low, high = grid.interval("preference", resamples=500)
        flips = grid.values["flip"].mean(axis=-1)
        cells = []
        for r, region in enumerate(grid.coords["region"]):
            for i, layer in enumerate(grid.coords["layer"]):
                for j, step in enumerate(grid.coords["step"]):
                    cells.append({"region": region, "layer": layer, "step": step,
                                  "preference": _num(normalised[r, i, j]),
                                  "ci95": [_num(low[r, i, j]), _num(high[r, i, j])],
                                  "flip_share": _num(flips[r, i, j])})
        return {"n_pairs": len(grid.coords["pair"]), "meta": grid.meta, "cells": cells,
                "clean_preference": _num(grid.clean["preference"].mean()),
                "corrupt_preference": _num(grid.corrupt["preference"].mean())}

    def describe(self) -> dict:
        return {"task": self.name, "kind": "maze", "pairs": self.num_pairs(), "regions": self.regions_text}


def _num(value) -> float | None:
    value = float(value)
    return None if value != value else round(value, 4)
