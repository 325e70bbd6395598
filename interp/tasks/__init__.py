"""Maze tasks: make them, draw them, export them in the VBVR-Bench layout and score videos.

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> video = ground_truth_video(generate_maze(5, seed=0), num_frames=6)
    >>> video.shape
    (6, 22, 22, 3)
"""

from interp.tasks.maze import Maze, generate_maze, shortest_routes
from interp.tasks.render import (
    FLOOR,
    GOAL,
    LABELS,
    PALETTES,
    PATH,
    START,
    WALL,
    ground_truth_video,
    label_grid,
    render_labels,
    render_maze,
)

__all__ = [
    "Maze",
    "generate_maze",
    "shortest_routes",
    "FLOOR",
    "WALL",
    "START",
    "GOAL",
    "PATH",
    "LABELS",
    "PALETTES",
    "label_grid",
    "render_labels",
    "render_maze",
    "ground_truth_video",
]
