"""Maze glue for the causal tests: units <-> tokens, candidates in x0_hat, and what a run's answer did
(:func:`outcomes`, and after a layer swap :func:`swap_outcome`).

A maze of ``U x U`` grid units is drawn at ``px`` pixels per unit. On the organism the loop sites
(``x_t``, ``x0``) have one token per pixel of each frame and block sites one token per unit; a
unit's **answer colour** is the route colour amount (:func:`interp.metrics.route_colour.route_amount`)
of its mean colour in the final frame, read without calibration (the organism's colours are the
palette's), as :class:`interp.tasks.maze_task.PairMetric` reads it.

Example:
    >>> import numpy as np
    >>> units = np.zeros((1, 5, 5), bool); units[0, 1, 2] = True
    >>> bool(pixel_mask(units, num_frames=2, px=2).reshape(1, 2, 10, 10)[0, 1, 2:4, 4:6].all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from interp.tasks.route_colour import route_amount
from interp.tasks.score import sample_units

PAINTED = 0.5


def pixel_mask(units: np.ndarray, *, num_frames: int, px: int, frames: Sequence[int] | None = None) -> np.ndarray:
    """Bool ``[B, F * H * W]`` over loop-site tokens covering the chosen units ``[B, U, U]`` in ``frames`` (default all)."""
    units = np.asarray(units, bool)
    cube = np.repeat(np.repeat(units, px, axis=1), px, axis=2)             # [B, H, W]
    out = np.zeros((units.shape[0], num_frames) + cube.shape[1:], bool)
    for f in (range(num_frames) if frames is None else frames):
        out[:, f] = cube
    return out.reshape(units.shape[0], -1)


def unit_pixel_tokens(unit, *, units: int, num_frames: int, px: int) -> np.ndarray:
    """Loop-site token indices of one unit ``(row, col)`` in every frame, ordered by (frame, dy, dx)."""
    side = units * px
    r, c = unit
    f, dy, dx = np.meshgrid(np.arange(num_frames), np.arange(px), np.arange(px), indexing="ij")
    return (f * side * side + (r * px + dy) * side + c * px + dx).reshape(-1)


def paired_tokens(source: np.ndarray, target: np.ndarray, *, num_frames: int, px: int) -> np.ndarray:
    """``[P, 3]`` (source token, target token, unit pair) pairing the units of two ``[U, U]`` sets of
    equal size, in row-major order, pixel by pixel: the pairs :func:`interp.causal.erase.matched_change` reads."""
    src, dst = np.argwhere(source), np.argwhere(target)
    if len(src) != len(dst):
        raise ValueError(f"paired units need sets of equal size, got {len(src)} and {len(dst)}")
    units = source.shape[0]
    rows = [np.stack([unit_pixel_tokens(a, units=units, num_frames=num_frames, px=px),
                      unit_pixel_tokens(b, units=units, num_frames=num_frames, px=px)], 1) for a, b in zip(src, dst)]
    return np.concatenate([np.concatenate([r, np.full((len(r), 1), j)], 1) for j, r in enumerate(rows)]) \
        if rows else np.zeros((0, 3), int)


def unit_token_mask(units: np.ndarray, *, num_frames: int) -> np.ndarray:
    """Bool ``[B, F * U * U]`` over block tokens (one per unit and frame) covering ``units`` ``[B, U, U]``."""
    units = np.asarray(units, bool)
    return np.repeat(units[:, None], num_frames, axis=1).reshape(units.shape[0], -1)


def unit_block_mask(model, units: np.ndarray, latent_shape, *, frames: Sequence[int] | None = None) -> np.ndarray:
    """Bool ``[B, T]`` over a pixel-space model's block tokens (:meth:`token_grid` order) covering the units
    ``[B, U, U]`` in video ``frames`` (default all): a token covers a unit when its patch holds any of the
    unit's pixels in any of the video frames it packs (the walker's temporal patch packs 4 frames into one
    token frame, so its 16 frames make 4 token frames; the maze organism's packs 1).

    Example:
        >>> from types import SimpleNamespace as NS
        >>> walker = NS(patch_size=(4, 2, 2), pixels_per_token=(2, 2), organism=NS(config=NS(px_per_unit=2)),
        ...             token_grid=lambda shape: (shape[-3] // 4, shape[-2] // 2, shape[-1] // 2))
        >>> units = np.zeros((1, 5, 5), bool); units[0, 1, 2] = True
        >>> mask = unit_block_mask(walker, units, (1, 3, 16, 10, 10), frames=[5, 6])
        >>> mask.shape, np.argwhere(mask.reshape(4, 5, 5)).tolist()
        ((1, 100), [[1, 1, 2]])
    """
    units = np.asarray(units, bool)
    ft, ht, wt = model.token_grid(tuple(latent_shape))
    pt = model.patch_size[0]
    ph, pw = model.pixels_per_token
    num_frames, height, width = tuple(latent_shape)[-3:]
    pixels = pixel_mask(units, num_frames=num_frames, px=model.organism.config.px_per_unit, frames=frames)
    pixels = pixels.reshape(len(units), ft, pt, ht, ph, wt, pw)
    return pixels.any(axis=(2, 4, 6)).reshape(len(units), -1)


def answer_amount(frames_uint8: np.ndarray, units: int, palette: str = "default") -> np.ndarray:
    """Route colour amount of every unit of the last frame: ``[B, U, U]`` from uint8 ``[B, F, H, W, 3]``."""
    return route_amount(sample_units(np.asarray(frames_uint8)[:, -1], units), palette)


def floor_units(maze) -> np.ndarray:
    """Bool ``[U, U]``: floor units other than start and goal."""
    floor = ~np.asarray(maze.walls, bool)
    floor[maze.start] = floor[maze.goal] = False
    return floor


def route_interiors(maze) -> list[frozenset]:
    """Each shortest route's units between start and goal."""
    return [frozenset(route[1:-1]) for route in maze.routes]


def painted_set(amount: np.ndarray, maze) -> frozenset:
    """Units painted (amount >= 0.5) in one ``[U, U]`` reading, start and goal aside."""
    painted = amount >= PAINTED
    painted[maze.start] = painted[maze.goal] = False
    return frozenset(map(tuple, np.argwhere(painted).tolist()))


@dataclass
class Outcome:
    """What one run's final answer did, per sample (bool arrays unless stated)."""

    exact: np.ndarray          # a shortest route of its own maze, exactly (the scorer)
    valid: np.ndarray          # the scorer's valid route: no wall painted, start and goal joined
    vbvr: np.ndarray           # float: VBVR-style partial score
    changed: np.ndarray        # painted units differ from the reference answer's
    changed_valid: np.ndarray  # changed, and still an exact shortest route of its maze
    broke: np.ndarray          # the reference was exact and this is not

    def to_lists(self) -> dict:
        return {k: getattr(self, k).tolist() for k in self.__dataclass_fields__}


def outcomes(videos: np.ndarray, mazes: Sequence, reference: Sequence[frozenset] | None = None,
             reference_exact: np.ndarray | None = None, palette: str = "default",
             scorer=None) -> tuple[Outcome, list[frozenset]]:
    """Score ``videos`` (uint8 ``[B, F, H, W, 3]``) of ``mazes`` and compare with a reference answer.

    Returns the :class:`Outcome` and each video's painted set. A video the scorer cannot read is a
    failed solve (:func:`interp.tasks.score.score_output`), never an error. ``scorer``: how answers
    are read (:func:`interp.tasks.walk_score.scorer_for` the model; ``None``: the maze scorer).
    """
    scores = score_all(videos, mazes, palette, scorer)
    units = mazes[0].units
    amounts = answer_amount(videos, units, palette)
    painted = [painted_set(a, m) for a, m in zip(amounts, mazes)]
    exact = np.array([bool(s.exact) for s in scores])
    valid = np.array([bool(s.valid_route) for s in scores])
    vbvr = np.array([float(s.vbvr_score) for s in scores])
    if reference is None:
        changed = np.zeros(len(videos), bool)
    else:
        changed = np.array([p != r for p, r in zip(painted, reference)])
    ref_exact = np.ones(len(videos), bool) if reference_exact is None else np.asarray(reference_exact, bool)
    return Outcome(exact, valid, vbvr, changed, changed & exact, ref_exact & ~exact), painted


def _score(item):
    from interp.tasks.score import score_output

    video, maze, palette, scorer = item
    return score_output(video, maze, palette=palette) if scorer is None else scorer(video, maze)


def score_all(videos, mazes, palette: str = "default", scorer=None) -> list:
    """:func:`interp.tasks.score.score_output` (or ``scorer``) of every video; in worker processes when
    there are many videos and cores (scoring is CPU work that a GPU run would otherwise wait on)."""
    import os

    items = [(v, m, palette, scorer) for v, m in zip(videos, mazes)]
    workers = min(12, (os.cpu_count() or 1) - 2)
    if len(items) < 256 or workers < 2:
        return [_score(item) for item in items]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_score, items, chunksize=32)


def candidates(x0_frames: np.ndarray, mazes: Sequence, threshold: float, palette: str = "default") -> np.ndarray:
    """Bool ``[B, U, U]``: floor units (start and goal aside) whose route colour amount in the final
    frame of x0_hat (uint8 ``[B, F, H, W, 3]``) is at least ``threshold``: the routes an early
    estimate draws, faint or not."""
    amount = answer_amount(x0_frames, mazes[0].units, palette)
    return np.stack([(a >= threshold) & floor_units(m) for a, m in zip(amount, mazes)])


def equal_arms(sets: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[dict[str, np.ndarray], int]:
    """The same number of units from each arm's ``[U, U]`` set: ``k = min`` of their sizes, drawn
    at random from each; returns the chosen sets and ``k`` (0: the maze cannot take part)."""
    k = min(int(s.sum()) for s in sets.values())
    out = {}
    for name, s in sets.items():
        chosen = np.zeros_like(s)
        if k:
            where = np.argwhere(s)
            pick = where[rng.choice(len(where), size=k, replace=False)]
            chosen[tuple(pick.T)] = True
        out[name] = chosen
    return out, k


def swap_outcome(amount, x0_amount, own_maze, other_maze) -> dict[str, bool]:
    """How one swapped run ended, from each unit's route-colour ``amount`` in its final video and
    ``x0_amount`` in its x0_hat at the swapped step (both read on ``own_maze``'s units).

    ``other``: the painted route is the partner maze's and not its own; ``own``: it is its own;
    ``broken``: neither. ``closer_other``: the painted units overlap the partner's first route more
    than its own (intersection over union); ``x0_other`` / ``x0_own``: the same for the x0_hat.
    """
    painted = painted_set(amount, own_maze)
    own_routes, other_routes = route_interiors(own_maze), route_interiors(other_maze)
    follows, keeps = painted in other_routes, painted in own_routes
    early = painted_set(x0_amount, own_maze)
    return {"other": follows and not keeps, "own": keeps, "broken": not follows and not keeps,
            "closer_other": _iou(painted, other_routes[0]) > _iou(painted, own_routes[0]),
            "x0_other": _iou(early, other_routes[0]) > _iou(early, own_routes[0]),
            "x0_own": _iou(early, own_routes[0]) > _iou(early, other_routes[0])}


def _iou(a, b) -> float:
    return len(a & b) / max(1, len(a | b))

