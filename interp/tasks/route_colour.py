"""Route colour per grid unit, read with the scorer's own decoder.

Every frame is read by :func:`interp.tasks.score.unit_colours`, as the scorer reads it (mean
colour of the centre of each unit, per-frame calibration on the maze's wall and off-route floor
colours, deblurring measured on the first frame; units named in ``exclude`` are kept out of the
calibration), and each unit gets two readings:

* its **label** (nearest palette colour, as the scorer decides it);
* its **route colour amount** in [0, 1]: the position of its colour along the segment from the
  palette's floor colour (0) to its path colour (1),

      t(u) = clip(<c(u) - floor, path - floor> / |path - floor|^2, 0, 1),

  set to 0 when the colour lies nearer to the wall-floor segment or to the start or goal colour
  than to the floor-path segment. Without that gate black walls would read as route colour
  (black projects past the path colour on the floor-path line).

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> maze = generate_maze(5, seed=0)
    >>> reading = read_units(ground_truth_video(maze, 4), maze)
    >>> reading.amount.shape, float(reading.amount[-1][maze.route[1]])
    ((4, 11, 11), 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interp.errors import check_choice
from interp.tasks.maze import Maze
from interp.tasks.render import FLOOR, GOAL, PALETTES, START, WALL, palette_array
from interp.tasks.score import MIN_AGREEMENT, nearest_label, unit_colours
from interp.tasks.video_io import to_uint8

PATH_INDEX = 4  # row of the path colour in palette_array


@dataclass
class UnitReading:
    """Labels and route colour amount of every unit of every frame.

    Attributes:
        labels: uint8 ``[F, U, U]`` scorer labels (0 floor, 1 wall, 2 start, 3 goal, 4 path).
        amount: float32 ``[F, U, U]`` route colour amount in [0, 1].
        first_frame_agreement: share of units whose wall / not-wall label in frame 0 matches the
            maze (the scorer's sanity measure; below :data:`MIN_AGREEMENT` the video does not
            show this maze).
    """

    labels: np.ndarray
    amount: np.ndarray
    first_frame_agreement: float

    @property
    def shows_maze(self) -> bool:
        """True when the first frame agrees with the maze on at least 90% of units."""
        return self.first_frame_agreement >= MIN_AGREEMENT


def _segment_distance(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position ``t`` in [0, 1] along segment ``a -> b`` and squared distance to it."""
    axis = b - a
    t = np.clip(((x - a) @ axis) / max(float(axis @ axis), 1e-6), 0.0, 1.0)
    return t, ((x - a - t[..., None] * axis) ** 2).sum(-1)


def route_amount(colours: np.ndarray, palette: str = "default") -> np.ndarray:
    """Route colour amount in [0, 1] of RGB colours ``[..., 3]`` (0..255 scale).

    Example:
        >>> route_amount(np.array([[255, 255, 255], [0, 90, 255], [0, 0, 0], [128, 172, 255]])).round(2)
        array([0. , 1. , 0. , 0.5], dtype=float32)
    """
    check_choice("palette", palette, tuple(PALETTES))
    pal = palette_array(palette).astype(np.float32)
    x = np.asarray(colours, dtype=np.float32)
    t, to_route = _segment_distance(x, pal[FLOOR], pal[PATH_INDEX])
    _, to_grey = _segment_distance(x, pal[WALL], pal[FLOOR])
    to_marks = np.minimum(((x - pal[START]) ** 2).sum(-1), ((x - pal[GOAL]) ** 2).sum(-1))
    keep = to_route <= np.minimum(to_grey, to_marks)
    return np.where(keep, t, 0.0).astype(np.float32)


def read_units(video, maze: Maze, *, palette: str = "default", deblur: bool | None = None, exclude=()) -> UnitReading:
    """Decode ``video`` (``[F, H, W, 3]`` or one ``[H, W, 3]`` frame) into unit labels and amounts.

    Args:
        video: uint8 frames, or floats as :func:`interp.tasks.video_io.to_uint8` reads them.
        maze: the maze the video should show.
        palette: palette the maze is drawn in.
        deblur: undo blur measured on the first frame; default True for videos of two or more
            frames and False for one frame (a lone final frame is not the bare maze the blur is
            measured on).
        exclude: units ``(row, col)`` kept out of the calibration references (units that may
            legitimately differ from ``maze``, such as the other maze's route in a pair).

    Raises:
        InputError: frames that are not square or smaller than the grid (as the scorer).
    """
    frames = to_uint8(video)
    if deblur is None:
        deblur = len(frames) > 1
    colours = unit_colours(frames, maze, palette=palette, deblur=deblur, exclude=exclude)
    pal = palette_array(palette)
    labels = nearest_label(colours, pal)
    amount = route_amount(colours, palette)
    agreement = float(((labels[0] == WALL) == maze.walls).mean())
    return UnitReading(labels=labels, amount=amount, first_frame_agreement=agreement)
