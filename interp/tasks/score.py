"""Scoring maze videos: did the video draw a shortest route without breaking the maze?

Two modes share one set of rules (the VBVR-Bench maze rules):

* :func:`score_video` knows the maze (walls, start, goal, all shortest routes). It decodes every
  frame into grid-unit labels and scores units; it also says whether the final frame is *exactly*
  one of the shortest routes and how much of that route each frame has drawn.
* :func:`score_video_images` knows only pixels (a real model's 480x832 output of a VBVR-Bench
  task): walls, start and goal come from the first frame, the path from the last, and the same
  rules are applied to pixels.

VBVR partial score = 0.45 ``avoids_walls`` + 0.30 ``touches_start_goal`` + 0.20 ``connected``
+ 0.05 ``walls_preserved`` (definitions in :class:`MazeScore`).

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> maze = generate_maze(5, seed=0)
    >>> s = score_video(ground_truth_video(maze, 6), maze)
    >>> s.exact, s.vbvr_score, s.progress[0], s.progress[-1]
    (True, 1.0, 0.0, 1.0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from interp.errors import InputError, check_choice, check_range
from interp.tasks.decode import (  # noqa: F401 (SAMPLE_OFFSETS, sample_units, unit_colours: read from here too)
    SAMPLE_OFFSETS, affine_to_palette, decode_labels, nearest_label, sample_units, unit_colours,
)
from interp.tasks.maze import Maze
from interp.tasks.render import FLOOR, GOAL, PALETTES, PATH, START, WALL, palette_array
from interp.tasks.video_io import to_uint8

WEIGHTS = {"avoids_walls": 0.45, "touches_start_goal": 0.30, "connected": 0.20, "walls_preserved": 0.05}
MIN_AGREEMENT = 0.9
_FOUR = ndimage.generate_binary_structure(2, 1)
_EIGHT = ndimage.generate_binary_structure(2, 2)


@dataclass
class MazeScore:
    """Scores of one video. Grid-mode counts are units; image-mode counts are pixels.

    Attributes:
        mode: ``"grid"`` (:func:`score_video`) or ``"image"`` (:func:`score_video_images`).
        vbvr_score: ``0.45 avoids_walls + 0.30 touches_start_goal + 0.20 connected
            + 0.05 walls_preserved``, in [0, 1].
        avoids_walls: fraction of path units not on a wall; 0 when nothing is drawn.
        touches_start_goal: (touches_start + touches_goal) / 2.
        touches_start: some path unit is the start or 4-adjacent to it (image mode: a path pixel
            lies within ``touch_px`` pixels of a start pixel).
        touches_goal: the same for the goal.
        connected: 1 when the path units form exactly one connected component (4-connected for
            units, 8-connected for pixels), else 0.
        walls_preserved: fraction of wall units (of the maze; image mode: wall pixels of the first
            frame) still wall in the last frame.
        path_size: path units (pixels) in the last frame.
        exact: path units + start + goal equal one shortest route exactly (grid mode only).
        valid_route: no path unit on a wall and start and goal joined by a 4-connected chain of
            path units (grid mode only).
        matched_route: index in ``maze.routes`` of the route with the highest overlap
            (intersection over union) with path + start + goal (grid mode only).
        route_iou: that overlap.
        progress: per frame, the fraction of the matched route's units between start and goal
            that are drawn as path (grid mode only).
        first_frame_agreement: fraction of units whose wall/not-wall label in the decoded first
            frame equals the maze's (grid mode only).
        failure: why a model's video could not be scored at all (see :func:`score_output`);
            None for every scored video.
    """

    mode: str
    vbvr_score: float
    avoids_walls: float
    touches_start_goal: float
    touches_start: bool
    touches_goal: bool
    connected: float
    walls_preserved: float
    path_size: int
    exact: bool | None = None
    valid_route: bool | None = None
    matched_route: int | None = None
    route_iou: float | None = None
    progress: list[float] | None = None
    first_frame_agreement: float | None = None
    failure: str | None = None

    def to_dict(self) -> dict:
        """JSON-safe dict of all fields."""
        return asdict(self)


def _vbvr_fields(avoids, t_start, t_goal, connected, walls, path) -> dict:
    """The sub-scores both modes share, and their weighted VBVR maze score."""
    touches = (t_start + t_goal) / 2
    parts = {"avoids_walls": float(avoids), "touches_start_goal": float(touches), "connected": connected,
             "walls_preserved": walls}
    score = float(round(sum(WEIGHTS[k] * v for k, v in parts.items()), 10))
    return {"vbvr_score": score, **parts, "touches_start": t_start, "touches_goal": t_goal,
            "path_size": int(path.sum())}


def _touches(path: np.ndarray, point_mask: np.ndarray, structure: np.ndarray, reach: int = 1) -> bool:
    if not point_mask.any():
        return False
    return bool((path & ndimage.binary_dilation(point_mask, structure, iterations=reach)).any())


def _one_component(path: np.ndarray, structure: np.ndarray) -> float:
    return 1.0 if path.any() and ndimage.label(path, structure)[1] == 1 else 0.0


def score_labels(labels: np.ndarray, maze: Maze) -> MazeScore:
    """Score decoded unit labels ``[F, U, U]`` (or one ``[U, U]`` grid) against ``maze``."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels[None]
    if labels.shape[1:] != maze.walls.shape:
        raise InputError(f"labels of shape {labels.shape[1:]} do not fit a maze of {maze.walls.shape}")
    last = labels[-1]
    walls = maze.walls
    path = last == PATH
    start, goal = np.zeros_like(walls), np.zeros_like(walls)
    start[maze.start] = goal[maze.goal] = True
    drawn = path | start | goal

    on_wall = int((path & walls).sum())
    avoids = 1.0 - on_wall / path.sum() if path.any() else 0.0
    t_start, t_goal = _touches(path, start, _FOUR), _touches(path, goal, _FOUR)
    connected = _one_component(path, _FOUR)
    preserved = float((last[walls] == WALL).mean())

    comp, _ = ndimage.label(drawn, _FOUR)
    valid = on_wall == 0 and comp[maze.start] == comp[maze.goal]
    masks = np.zeros((len(maze.routes),) + walls.shape, bool)
    for i, route in enumerate(maze.routes):
        r, c = np.array(route).T
        masks[i, r, c] = True
    inter = (masks & drawn).sum((1, 2))
    union = (masks | drawn).sum((1, 2))
    iou = inter / union
    best = int(iou.argmax())
    exact = bool((masks == drawn).all((1, 2)).any())
    r, c = np.array(maze.routes[best][1:-1]).T
    progress = [float(v) for v in (labels[:, r, c] == PATH).mean(axis=1)]
    agreement = float(((labels[0] == WALL) == walls).mean())
    return MazeScore(
        mode="grid",
        **_vbvr_fields(avoids, t_start, t_goal, connected, preserved, path),
        exact=exact,
        valid_route=bool(valid),
        matched_route=best,
        route_iou=float(iou[best]),
        progress=progress,
        first_frame_agreement=agreement,
    )


def score_video(
    video, maze: Maze, *, palette: str = "default", strict: bool = True, deblur: bool = True
) -> MazeScore:
    """Score a video of ``maze`` unit by unit.

    Args:
        video: frames ``[F, H, W, 3]`` (or one ``[H, W, 3]`` frame): uint8 0..255, or float in
            ``[0, 1]``, or float in ``[-1, 1]`` (recognised by any value below -0.05).
        maze: the maze the video should solve.
        palette: palette the maze was drawn with.
        strict: refuse a video whose first frame does not show this maze (below). With False it
            is scored anyway, which suits noisy estimates such as an early step's x0 prediction;
            ``first_frame_agreement`` then tells how far to trust the result.
        deblur: measure blur on the first frame and undo it (see below).

    Decoding: the unit size is ``H / U`` by ``W / U`` pixels, not assumed integer; each unit's
    colour is the mean over its central region; colours are calibrated per video so that the
    first frame's median wall and floor colours land on the palette's (undoing brightness,
    contrast and tint drift); each unit takes the nearest palette colour's label.

    Raises:
        InputError: frames not square, smaller than the grid, or a first frame that does not
            show this maze (fewer than 90% of units agree on wall / not wall).
    """
    labels = decode_labels(video, maze, palette=palette, deblur=deblur)
    result = score_labels(labels, maze)
    if strict and result.first_frame_agreement < MIN_AGREEMENT:
        raise InputError(
            f"video does not show this maze: its first frame agrees with the maze's walls on "
            f"{result.first_frame_agreement:.0%} of {maze.units}x{maze.units} units (need {MIN_AGREEMENT:.0%}); "
            "check the task folder, grid size and palette"
        )
    return result


def score_output(video, maze: Maze, *, palette: str = "default", deblur: bool = True) -> MazeScore:
    """Judge a video a model generated for ``maze``: a video that cannot be scored is a failure, not an error.

    :func:`score_video` checks a user's input and refuses a video that does not show the maze.
    A model's output is different: when an intervention or a bad checkpoint damages it (noise,
    NaNs, another picture), that is the model failing the task. The result is then a zero score
    with ``failure`` saying why, so an evaluation or experiment records it and goes on.

    Example:
        >>> import numpy as np
        >>> from interp.tasks import generate_maze
        >>> score = score_output(np.zeros((4, 22, 22, 3), np.uint8), generate_maze(5, seed=0))
        >>> score.exact, score.vbvr_score, score.failure.startswith("video does not show this maze")
        (False, 0.0, True)
    """
    try:
        return score_video(video, maze, palette=palette, deblur=deblur)
    except (ValueError, FloatingPointError) as err:  # InputError is a ValueError
        return failed_score(str(err))


def failed_score(reason: str) -> MazeScore:
    """The score of a model's video that could not be scored at all, with the reason."""
    return MazeScore(mode="grid", vbvr_score=0.0, avoids_walls=0.0, touches_start_goal=0.0, touches_start=False,
                     touches_goal=False, connected=0.0, walls_preserved=0.0, path_size=0, exact=False,
                     valid_route=False, failure=reason)


def score_video_images(
    video, *, first_frame=None, palette: str = "default", tolerance_px: int = 0, touch_px: int | None = None
) -> MazeScore:
    """Score a video from pixels alone, when the maze's grid is unknown.

    Every pixel takes the label of the nearest palette colour, after a per-channel colour
    calibration of each frame: its median colours over the first frame's wall-coloured and
    floor-coloured pixels are mapped onto the palette's wall and floor. Walls, start and goal are the
    wall-, start- and goal-coloured pixels of ``first_frame`` (default: the video's first frame);
    the path is the path-coloured pixels of the last frame. The rules of :class:`MazeScore` then
    apply to pixels: ``avoids_walls`` counts path pixels on wall pixels (walls eroded by
    ``tolerance_px`` pixels first, to forgive anti-aliased edges), touching means a path pixel
    within ``touch_px`` pixels (Chebyshev distance) of a start (goal) pixel; the default is half
    the marker's side (square root of its pixel count; at least 2), because the blended border
    between marker and path in a resampled video can be several pixels wide;
    ``connected`` uses 8-connectivity. ``exact``, ``valid_route``, ``progress`` stay None.

    Example:
        >>> from interp.tasks import generate_maze, ground_truth_video
        >>> score_video_images(ground_truth_video(generate_maze(5, seed=0), 6, px_per_unit=4)).vbvr_score
        1.0
    """
    check_choice("palette", palette, tuple(PALETTES))
    check_range("tolerance_px", tolerance_px, 0, 1000)
    frames = to_uint8(video)
    if touch_px is not None:
        check_range("touch_px", touch_px, 1, 1000)
    first = frames[0] if first_frame is None else to_uint8(first_frame)[0]
    if first.shape != frames.shape[1:]:
        raise InputError(f"first frame is {first.shape[1]}x{first.shape[0]} but the video is {frames.shape[2]}x{frames.shape[1]}")
    pal = palette_array(palette)
    # wall and floor pixels of the first frame calibrate both frames: the last frame's own colours
    # at those pixels (medians; the path covers a minority of the floor) fix its drift
    rough = nearest_label(first, pal)
    wall_px, floor_px = rough == WALL, rough == FLOOR

    def calibrated(frame: np.ndarray) -> np.ndarray:
        if not (wall_px.any() and floor_px.any()):
            return frame
        seen_wall, seen_floor = np.median(frame[wall_px], axis=0), np.median(frame[floor_px], axis=0)
        return affine_to_palette(frame, seen_wall, seen_floor, pal)

    first_labels = nearest_label(calibrated(first), pal)
    last_labels = nearest_label(calibrated(frames[-1]), pal)
    walls = first_labels == WALL
    path = last_labels == PATH
    hard_walls = ndimage.binary_erosion(walls, _EIGHT, iterations=tolerance_px) if tolerance_px else walls
    avoids = 1.0 - (path & hard_walls).sum() / path.sum() if path.any() else 0.0
    marks = first_labels == START, first_labels == GOAL
    # default reach: half a marker's side, so blended colour borders between marker and path
    # (a few pixels wide in upscaled video) do not count as a gap
    reach = [touch_px or max(2, round(0.5 * float(np.sqrt(m.sum())))) for m in marks]
    t_start = _touches(path, marks[0], _EIGHT, reach[0])
    t_goal = _touches(path, marks[1], _EIGHT, reach[1])
    connected = _one_component(path, _EIGHT)
    preserved = float((last_labels[walls] == WALL).mean()) if walls.any() else 0.0
    return MazeScore(
        mode="image",
        **_vbvr_fields(avoids, t_start, t_goal, connected, preserved, path),
    )
