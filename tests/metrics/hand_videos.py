"""A hand-built maze and hand-painted x0_hat videos whose Chain-of-Steps answers are known."""

from __future__ import annotations

import numpy as np

from interp.tasks import FLOOR, Maze, label_grid, render_labels, shortest_routes

# 4x4 cells, 9x9 units. Start (1,1). Goal (1,5): the top row is the one shortest route, the way
# round (down column 1, along row 3, up column 7) a longer detour. Goal (3,7): two shortest routes.
ROWS = ["#########", "#.......#", "#.#####.#", "#.......#", "#########",
        "#.#.#.#.#", "#########", "#.#.#.#.#", "#########"]
TOP = [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]
ROUND = [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (3, 4), (3, 5), (3, 6), (3, 7), (2, 7), (1, 7), (1, 6), (1, 5)]
PX = 3
FLOOR_RGB, PATH_RGB = np.array([255, 255, 255]), np.array([0, 90, 255])


def hand_maze(goal=(1, 5)) -> Maze:
    walls = np.array([[ch == "#" for ch in row] for row in ROWS])
    routes = shortest_routes(walls, (1, 1), goal)
    return Maze(size=4, walls=walls, start=(1, 1), goal=goal, routes=tuple(routes), seed=7, extra_openings=0.0)


def frames(maze: Maze, paint: dict, num_frames: int = 3, hide_start: bool = False) -> np.ndarray:
    """One x0_hat video: frame 0 the bare maze, later frames with ``paint`` ({unit: amount})."""
    grids = np.stack([label_grid(maze, upto=0)] * num_frames)
    if hide_start:
        grids[:, maze.start[0], maze.start[1]] = FLOOR
    video = render_labels(grids, px_per_unit=PX).astype(float)
    for (r, c), a in paint.items():
        video[1:, r * PX:(r + 1) * PX, c * PX:(c + 1) * PX] = FLOOR_RGB + a * (PATH_RGB - FLOOR_RGB)
    return np.round(video).astype(np.uint8)


def inner(route, amount: float = 1.0) -> dict:
    """Paint for the units of ``route`` between start and goal."""
    return {u: amount for u in route[1:-1]}


def steps(*videos) -> np.ndarray:
    """Stack per-step videos into ``[S, F, H, W, 3]``."""
    return np.stack(videos)
