"""Drawing mazes: unit labels, colour palettes, images and ground-truth videos.

Each grid unit gets one label (floor, wall, start, goal, path); a palette maps labels to RGB and
every unit becomes a ``px_per_unit x px_per_unit`` square. A ground-truth video shows the bare
maze in frame 0 and draws the route progressively until the last frame shows all of it.

Example:
    >>> from interp.tasks import generate_maze, render_maze, label_grid, PATH
    >>> maze = generate_maze(5, seed=0)
    >>> render_maze(maze, px_per_unit=2).shape
    (22, 22, 3)
    >>> int((label_grid(maze) == PATH).sum()) == maze.route_length - 2   # start, goal keep labels
    True
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from interp.errors import InputError, check_choice, check_range
from interp.tasks.maze import Maze

FLOOR, WALL, START, GOAL, PATH = 0, 1, 2, 3, 4
LABELS = ("floor", "wall", "start", "goal", "path")

PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    # saturated, far apart in RGB so that nearest-colour decoding survives blur and drift
    "default": {
        "floor": (255, 255, 255),
        "wall": (0, 0, 0),
        "start": (0, 200, 0),
        "goal": (230, 0, 0),
        "path": (0, 90, 255),
    },
    # Okabe-Ito colours, distinguishable with the common colour-vision deficiencies
    "colorblind": {
        "floor": (255, 255, 255),
        "wall": (0, 0, 0),
        "start": (0, 158, 115),
        "goal": (213, 94, 0),
        "path": (0, 114, 178),
    },
}

MAX_PX_PER_UNIT = 64


def palette_array(palette: str = "default") -> np.ndarray:
    """The palette as uint8 ``[5, 3]``, row ``i`` the colour of label ``i``."""
    check_choice("palette", palette, tuple(PALETTES))
    colours = PALETTES[palette]
    return np.array([colours[name] for name in LABELS], dtype=np.uint8)


def _route_units(maze: Maze, route) -> tuple:
    if route is None:
        return maze.route
    if isinstance(route, (int, np.integer)):
        check_range("route index", int(route), 0, len(maze.routes) - 1)
        return maze.routes[int(route)]
    return tuple((int(r), int(c)) for r, c in route)


def label_grid(maze: Maze, route: Sequence | int | None = None, upto: int | None = None) -> np.ndarray:
    """Labels uint8 ``[U, U]``: walls, floor, start, goal, and PATH on the route's first units.

    Args:
        maze: the maze.
        route: units to draw (default ``maze.route``) or an index into ``maze.routes``.
        upto: draw the first ``upto`` units of the route (default all); start and goal keep
            their own labels.

    Example:
        >>> from interp.tasks import generate_maze
        >>> maze = generate_maze(4, seed=0)
        >>> int((label_grid(maze, upto=0) == PATH).sum())
        0
    """
    units = _route_units(maze, route)
    if upto is None:
        upto = len(units)
    check_range("upto", upto, 0, len(units))
    labels = np.where(maze.walls, WALL, FLOOR).astype(np.uint8)
    if upto:
        rows, cols = np.array(units[:upto]).T
        U = maze.units
        if rows.min() < 0 or cols.min() < 0 or rows.max() >= U or cols.max() >= U:
            raise InputError(f"route leaves the {U}x{U} grid")
        labels[rows, cols] = PATH
    labels[maze.start] = START
    labels[maze.goal] = GOAL
    return labels


def render_labels(labels: np.ndarray, *, palette: str = "default", px_per_unit: int = 2) -> np.ndarray:
    """Colour a label grid: uint8 ``[U * px, U * px, 3]`` (or ``[F, ...]`` for a stack of grids)."""
    check_range("px_per_unit", px_per_unit, 1, MAX_PX_PER_UNIT)
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= len(LABELS)):
        raise InputError(f"labels must lie in 0..{len(LABELS) - 1}, got {labels.min()}..{labels.max()}")
    image = palette_array(palette)[labels]
    if px_per_unit > 1:
        image = image.repeat(px_per_unit, axis=-3).repeat(px_per_unit, axis=-2)
    return image


def render_maze(
    maze: Maze,
    *,
    route: Sequence | int | None = None,
    upto: int | None = None,
    palette: str = "default",
    px_per_unit: int = 2,
) -> np.ndarray:
    """Image uint8 ``[H, W, 3]`` of the maze with (part of) a route drawn; see :func:`label_grid`."""
    return render_labels(label_grid(maze, route, upto), palette=palette, px_per_unit=px_per_unit)


def frame_counts(route_length: int, num_frames: int) -> list[int]:
    """Route units drawn in each frame: 0 in frame 0, all in the last, evenly in between."""
    return [round(f * route_length / (num_frames - 1)) for f in range(num_frames)]


def ground_truth_video(
    maze: Maze,
    num_frames: int,
    *,
    route_index: int = 0,
    palette: str = "default",
    px_per_unit: int = 2,
) -> np.ndarray:
    """The solution video uint8 ``[F, H, W, 3]``.

    Frame 0 is the bare maze (start and goal shown); frame ``f`` draws the first
    ``round(f * L / (F - 1))`` units of the route of length ``L``; the last frame shows it whole.

    Example:
        >>> from interp.tasks import generate_maze
        >>> video = ground_truth_video(generate_maze(5, seed=0), 6, px_per_unit=3)
        >>> video.shape, video.dtype.name
        ((6, 33, 33, 3), 'uint8')
    """
    check_range("num_frames", num_frames, 2, 10_000)
    check_range("route_index", route_index, 0, len(maze.routes) - 1)
    route = maze.routes[route_index]
    base = np.where(maze.walls, WALL, FLOOR).astype(np.uint8)
    grids = np.repeat(base[None], num_frames, axis=0)
    rows, cols = np.array(route).T
    for f, upto in enumerate(frame_counts(len(route), num_frames)):
        grids[f, rows[:upto], cols[:upto]] = PATH
    grids[:, maze.start[0], maze.start[1]] = START
    grids[:, maze.goal[0], maze.goal[1]] = GOAL
    return render_labels(grids, palette=palette, px_per_unit=px_per_unit)
