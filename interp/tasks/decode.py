"""Reading a maze video's grid units: each unit's colour, calibrated to the palette and deblurred, and its label.

:func:`decode_labels` turns every frame into unit labels (wall, floor, start, goal, path), which
:mod:`interp.tasks.score` scores.

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> from interp.tasks.render import PATH
    >>> maze = generate_maze(5, seed=0)
    >>> labels = decode_labels(ground_truth_video(maze, 3), maze)
    >>> labels.shape, bool((labels[-1] == PATH).any()), bool((labels[0] == PATH).any())
    ((3, 11, 11), True, False)
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg

from interp.errors import InputError, check_choice
from interp.tasks.maze import Maze
from interp.tasks.render import FLOOR, GOAL, PALETTES, PATH, START, WALL, palette_array
from interp.tasks.video_io import to_uint8

SAMPLE_OFFSETS = (0.3, 0.5, 0.7)  # where in a unit (as a fraction of its side) colours are read


def sample_units(video: np.ndarray, units: int) -> np.ndarray:
    """Mean colour of the central region of every unit: float ``[F, U, U, 3]``.

    Unit ``(r, c)`` spans rows ``r * H / U .. (r + 1) * H / U`` (not assumed integer); colours
    are read at fractions :data:`SAMPLE_OFFSETS` of it on both axes and averaged, so a slightly
    rescaled video decodes like the original and edges blurred into a unit count little.
    """
    _, H, W, _ = video.shape
    offsets = np.asarray(SAMPLE_OFFSETS)
    rows = np.clip(((np.arange(units)[:, None] + offsets) * H / units).astype(int), 0, H - 1)
    cols = np.clip(((np.arange(units)[:, None] + offsets) * W / units).astype(int), 0, W - 1)
    k = len(offsets)
    samples = video[:, rows.reshape(-1)][:, :, cols.reshape(-1)].astype(np.float32)
    return samples.reshape(video.shape[0], units, k, units, k, 3).mean(axis=(2, 4))


def affine_to_palette(colours: np.ndarray, seen_wall, seen_floor, palette: np.ndarray) -> np.ndarray:
    """Map colours per channel so that ``seen_wall`` lands on the palette's wall colour and
    ``seen_floor`` on its floor colour (undoes brightness, contrast and tint drift)."""
    want_wall, want_floor = palette[WALL].astype(np.float32), palette[FLOOR].astype(np.float32)
    out = colours.astype(np.float32, copy=True)
    for ch in range(3):
        spread_seen, spread_want = seen_floor[ch] - seen_wall[ch], want_floor[ch] - want_wall[ch]
        # only channels where walls and floor differ clearly say anything about the drift
        if abs(spread_want) > 50 and spread_seen * np.sign(spread_want) > 25:
            out[..., ch] = (out[..., ch] - seen_wall[ch]) * (spread_want / spread_seen) + want_wall[ch]
    return out


def _calibrate(colours: np.ndarray, maze: Maze, palette: np.ndarray, exclude=()) -> np.ndarray:
    """Calibrate every frame on its own median colours over the maze's wall units and over the
    floor units that lie on no shortest route (a correct answer never covers those); units in
    ``exclude`` are kept out of both references."""
    skip = np.zeros_like(maze.walls)
    for unit in exclude:
        skip[tuple(unit)] = True
    walls = maze.walls & ~skip
    floor = ~maze.walls & ~skip
    floor[maze.start] = floor[maze.goal] = False
    off_route = floor.copy()
    for route in maze.routes:
        off_route[tuple(np.array(route).T)] = False
    reference = off_route if off_route.sum() >= 3 else floor
    out = np.empty_like(colours, dtype=np.float32)
    for f, frame in enumerate(colours):
        seen_wall, seen_floor = np.median(frame[walls], axis=0), np.median(frame[reference], axis=0)
        out[f] = affine_to_palette(frame, seen_wall, seen_floor, palette)
    return out


def _neighbours(grid: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """The 3 x 3 neighbourhood of every unit, ``[9, U, U, 3]``, ``fill`` outside the grid."""
    U = grid.shape[0]
    padded = np.empty((U + 2, U + 2, grid.shape[-1]), np.float32)
    padded[:] = fill
    padded[1:-1, 1:-1] = grid
    return np.stack([padded[1 + dr : 1 + dr + U, 1 + dc : 1 + dc + U] for dr in (-1, 0, 1) for dc in (-1, 0, 1)])


def _deblur(colours: np.ndarray, maze: Maze, palette: np.ndarray, strength: float = 0.05) -> np.ndarray:
    """Undo blur between neighbouring units, with the blur measured on the first frame.

    The first frame should show the bare maze, whose labels the metadata gives; a 3 x 3 kernel
    over units is fitted by least squares so that blurring the ideal first frame reproduces the
    observed one, and every frame is then deconvolved with it (Tikhonov-regularised toward the
    observed colours). A sharp video fits the identity kernel and is left as it is; a kernel that
    does not look like a blur (the first frame is not the bare maze) is not used.
    """
    F, U = colours.shape[0], maze.units
    ideal = palette.astype(np.float32)[np.where(maze.walls, WALL, FLOOR)]
    ideal[maze.start], ideal[maze.goal] = palette[START], palette[GOAL]
    fill = palette[WALL].astype(np.float32)
    design = _neighbours(ideal, fill).reshape(9, -1).T
    # normal equations: a 9 x 9 system (lstsq on the tall matrix is far slower on busy cores)
    design = design.astype(np.float64)
    kernel = np.linalg.pinv(design.T @ design) @ (design.T @ colours[0].reshape(-1))
    identity = np.zeros(9)
    identity[4] = 1.0
    if np.abs(kernel - identity).max() < 0.05 or not (0.25 <= kernel[4] <= 1.5 and 0.7 <= kernel.sum() <= 1.3):
        return colours
    n = U * U
    index = np.arange(n).reshape(U, U)
    rows, cols = np.meshgrid(np.arange(U), np.arange(U), indexing="ij")
    entries = ([], [], [])
    for weight, (dr, dc) in zip(kernel, [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]):
        r2, c2 = rows + dr, cols + dc
        inside = (r2 >= 0) & (r2 < U) & (c2 >= 0) & (c2 < U)
        entries[0].append(index[inside])
        entries[1].append(index[r2[inside], c2[inside]])
        entries[2].append(np.full(int(inside.sum()), weight))
    rows_, cols_, values = (np.concatenate(e) for e in entries)
    blur = sparse.csr_matrix((values, (rows_, cols_)), shape=(n, n))
    # contributions from outside the grid are the fill colour, a constant: move them to the left side
    outside = (_neighbours(np.zeros((U, U, 3), np.float32), fill).reshape(9, n, 3) * kernel[:, None, None]).sum(0)
    observed = colours.reshape(F, n, 3).transpose(1, 0, 2).reshape(n, -1).astype(np.float64)
    target = observed - np.tile(outside, (1, F))
    lhs = (blur.T @ blur + strength * sparse.identity(n)).tocsc()
    sharp = splinalg.splu(lhs).solve(blur.T @ target + strength * observed)
    return sharp.reshape(n, F, 3).transpose(1, 0, 2).reshape(colours.shape).astype(np.float32)


def nearest_label(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Label of the nearest palette colour (Euclidean in RGB) for every colour: uint8 ``[...]``.

    Blends of the wall and floor colours (the greys of blurred or anti-aliased edges) are
    measured against the whole wall-floor segment, so a grey is wall or floor (whichever end is
    nearer), never a far-off colour such as the path's that happens to be nearer than both ends.
    """
    pal = palette.astype(np.float32)
    x = colours.astype(np.float32)
    dist = ((x[..., None, :] - pal) ** 2).sum(-1)
    wall, floor = pal[WALL], pal[FLOOR]
    axis = floor - wall
    t = np.clip(((x - wall) @ axis) / max(float(axis @ axis), 1e-6), 0.0, 1.0)
    on_segment = ((x - wall - t[..., None] * axis) ** 2).sum(-1)
    labels = dist.argmin(-1).astype(np.uint8)
    blend = on_segment < dist[..., [START, GOAL, PATH]].min(-1)
    labels[blend] = np.where(t[blend] < 0.5, WALL, FLOOR)
    return labels


def decode_labels(video, maze: Maze, *, palette: str = "default", deblur: bool = True) -> np.ndarray:
    """Decode every frame into unit labels uint8 ``[F, U, U]`` (see :func:`score_video`)."""
    return nearest_label(unit_colours(video, maze, palette=palette, deblur=deblur), palette_array(palette))


def unit_colours(video, maze: Maze, *, palette: str = "default", deblur: bool = True, exclude=()) -> np.ndarray:
    """Calibrated (and, with ``deblur``, deblurred) mean colour of every unit of every frame,
    float ``[F, U, U, 3]`` on the palette's scale; ``exclude`` units stay out of the calibration."""
    check_choice("palette", palette, tuple(PALETTES))
    frames = to_uint8(video)
    _, H, W, _ = frames.shape
    U = maze.units
    if abs(H / W - 1.0) > 0.1:
        raise InputError(f"video frames are {W}x{H} (width x height) but a maze of {U}x{U} units is square")
    if min(H, W) < U:
        raise InputError(f"video frames of {W}x{H} px are too small for a maze of {U}x{U} units")
    pal = palette_array(palette)
    colours = _calibrate(sample_units(frames, U), maze, pal, exclude)
    if deblur:
        colours = _deblur(colours, maze, pal)
    return colours
