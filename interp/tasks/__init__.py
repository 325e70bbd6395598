"""Maze tasks: make them, draw them, export them in the VBVR-Bench layout and score videos.

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> video = ground_truth_video(generate_maze(5, seed=0), num_frames=6)
    >>> video.shape
    (6, 22, 22, 3)
    >>> from interp.tasks import score_video
    >>> score_video(video, generate_maze(5, seed=0)).exact
    True
"""

from __future__ import annotations

from interp.lazy import lazy_attributes
from interp.tasks.maze import Maze, generate_maze, shortest_routes
from interp.tasks.pairs import MazePair, load_pair, make_pair, make_pairs, save_pair
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
    "MazeScore",
    "score_video",
    "score_output",
    "score_video_images",
    "Task",
    "save_task",
    "load_task",
    "read_video",
    "write_video",
    "make_tasks",
    "find_tasks",
]

# scoring and file I/O pull in scipy and Pillow: loaded on first use, so data workers that only
# generate and render stay light
_LAZY = {
    "MazeScore": "score",
    "score_video": "score",
    "score_output": "score",
    "score_video_images": "score",
    "Task": "vbvr",
    "save_task": "vbvr",
    "load_task": "vbvr",
    "read_video": "video_io",
    "write_video": "video_io",
    "make_tasks": "folders",
    "find_tasks": "folders",
}


__getattr__ = lazy_attributes(globals(), {name: f"interp.tasks.{module}" for name, module in _LAZY.items()})
