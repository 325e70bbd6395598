"""Maze metrics for activation patching: how far a video leans to the clean or corrupt route.

All readings come from the **final frame**, decoded with the scorer's decoder (see
:mod:`interp.tasks.route_colour`): each grid unit's *route colour amount* is 0 for floor colour
and 1 for the palette's path colour. Inputs may be one video ``[F, H, W, 3]``, a batch
``[B, F, H, W, 3]`` (a list of results comes back) or one frame ``[H, W, 3]`` (an x0_hat frame;
decoded without deblurring); uint8, or floats as :func:`interp.tasks.video_io.to_uint8` reads them.

Damaged input (noise, a wrong shape, NaN) never raises: the result carries a failing value
(preference 0, answer not valid, no flip) and a ``reason``. A video whose first frame agrees with
the maze's walls on fewer than 90% of units is still measured, with that reason recorded.

Example:
    >>> from interp.tasks import ground_truth_video, make_pair
    >>> pair = make_pair(5, seed=0)
    >>> clean = route_preference(ground_truth_video(pair.clean, 4), pair)
    >>> corrupt = route_preference(ground_truth_video(pair.corrupt, 4), pair)
    >>> clean.value, corrupt.value, normalise(0.0, corrupt.value, clean.value)
    (1.0, -1.0, 0.5)
    >>> flips_to_clean(ground_truth_video(pair.clean, 4), pair)
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from interp.errors import InputError
from interp.tasks.maze import Maze, Unit
from interp.tasks.pairs import MazePair

ROUTE_THRESHOLD = 0.5  # route colour amount from which a unit counts as painted


@dataclass
class RoutePreference:
    """Route colour on clean-only minus corrupt-only route units, final frame.

    Attributes:
        value: ``clean_amount - corrupt_amount`` in [-1, 1]; 0 when the video could not be read.
        clean_amount: mean route colour amount over ``pair.clean_only``.
        corrupt_amount: mean route colour amount over ``pair.corrupt_only``.
        first_frame_agreement: the scorer's share of units whose wall / not-wall label in frame 0
            fits the clean maze (0 when unreadable).
        reason: "" when the video was read and shows the maze, else why not.
    """

    value: float
    clean_amount: float
    corrupt_amount: float
    first_frame_agreement: float
    reason: str = ""

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict:
        """JSON-safe dict of all fields."""
        return asdict(self)


@dataclass
class Answer:
    """The route a video draws in its final frame.

    Attributes:
        units: painted units (route colour amount >= threshold) plus the maze's start and goal.
        valid: ``units`` equal one shortest route of the maze exactly, and the video shows the
            maze (first-frame agreement >= 90%).
        route_index: index in ``maze.routes`` of that route, else None.
        reason: "" when the video was read and shows the maze, else why not.
    """

    units: frozenset
    valid: bool
    route_index: int | None
    reason: str = ""

    def to_dict(self) -> dict:
        """JSON-safe dict; units sorted as ``[row, col]`` lists."""
        return {"units": [list(u) for u in sorted(self.units)], "valid": self.valid,
                "route_index": self.route_index, "reason": self.reason}


def _is_batch(video) -> bool:
    return getattr(video, "ndim", None) == 5 or (isinstance(video, (list, tuple)) and np.ndim(video[0]) == 4)


def _pair_units(pair: MazePair) -> set:
    """Units that may differ between the two mazes' videos: both routes and the changed units."""
    return set(pair.clean_route) | set(pair.corrupt_route) | set(pair.changed_units)


def _read(video, maze: Maze, palette: str, exclude=()):
    """(reading, reason): the reading None when the video cannot be decoded at all."""
    from interp.tasks.route_colour import read_units

    try:
        return read_units(video, maze, palette=palette, exclude=exclude), ""
    except (InputError, ValueError, TypeError) as err:
        return None, f"unreadable video: {err}"


def _not_shown(reading) -> str:
    if reading.shows_maze:
        return ""
    return (f"video does not show this maze: its first frame agrees with the maze's walls on "
            f"{reading.first_frame_agreement:.0%} of units (need 90%)")


def _read_pair(video, pair: MazePair, palette: str):
    """Decode against the maze of the pair that the video's first frame shows.

    Both mazes are tried; the one whose bare-maze labels (walls, floor, start, goal) agree with
    more units of the decoded first frame wins (clean on a tie), so that the blur measured on the
    first frame is measured against the right maze.
    """
    from interp.tasks.render import label_grid

    exclude = _pair_units(pair)
    best, best_score, reason = None, -1.0, ""
    for maze in (pair.clean, pair.corrupt):
        reading, reason = _read(video, maze, palette, exclude)
        if reading is None:
            return None, reason
        score = float((reading.labels[0] == label_grid(maze, upto=0)).mean())
        if score > best_score:
            best, best_score = reading, score
    return best, _not_shown(best)


def _mean(amount: np.ndarray, units) -> float:
    return float(np.mean([amount[u] for u in units])) if units else 0.0


def route_preference(video, pair: MazePair, *, palette: str = "default"):
    """:class:`RoutePreference` of a video (a list of them for a batch); see the module docstring.

    The video is decoded against the maze of the pair that its first frame shows (the one whose
    bare-maze labels agree with more units of the decoded first frame; clean on a tie), with both
    routes and the changed units kept out of the colour calibration.
    """
    if _is_batch(video):
        return [route_preference(v, pair, palette=palette) for v in video]
    reading, reason = _read_pair(video, pair, palette)
    if reading is None:
        return RoutePreference(0.0, 0.0, 0.0, 0.0, reason)
    amount, agreement = reading.amount[-1], reading.first_frame_agreement
    clean, corrupt = _mean(amount, pair.clean_only), _mean(amount, pair.corrupt_only)
    return RoutePreference(round(clean - corrupt, 6), round(clean, 6), round(corrupt, 6), agreement, reason)


def normalise(value: float, corrupt_value: float, clean_value: float, *, min_gap: float = 1e-6) -> float:
    """Rescale ``value`` so that the corrupted run gives 0 and the clean run 1.

    ``(value - corrupt_value) / (clean_value - corrupt_value)``. When the two baselines differ
    by less than ``min_gap`` the pair does not separate the runs and the ratio means nothing:
    :class:`InputError` (never a division by zero or an infinite result).

    Example:
        >>> normalise(0.25, corrupt_value=-0.5, clean_value=1.0)
        0.5
    """
    values = [float(v) for v in (value, corrupt_value, clean_value)]
    if not np.isfinite(values).all():
        raise InputError(f"normalise needs finite numbers, got value {value}, corrupt {corrupt_value}, clean {clean_value}")
    gap = values[2] - values[1]
    if abs(gap) < min_gap:
        raise InputError(
            f"clean ({clean_value}) and corrupt ({corrupt_value}) baselines differ by {abs(gap):.3g} < {min_gap}: "
            "the metric does not separate the two runs, so a normalised value is undefined")
    return (values[0] - values[1]) / gap


def _match(units: frozenset, maze: Maze) -> int | None:
    for i, route in enumerate(maze.routes):
        if units == frozenset(route):
            return i
    return None


def answer(video, maze: Maze, *, palette: str = "default", threshold: float = ROUTE_THRESHOLD, exclude=()):
    """:class:`Answer` of a video (a list of them for a batch): the painted route and whether it
    is a shortest route of ``maze``. ``exclude``: units kept out of the colour calibration."""
    if _is_batch(video):
        return [answer(v, maze, palette=palette, threshold=threshold, exclude=exclude) for v in video]
    reading, reason = _read(video, maze, palette, exclude)
    if reading is None:
        return Answer(frozenset(), False, None, reason)
    return _answer_of(reading, maze, threshold, _not_shown(reading))


def _answer_of(reading, maze: Maze, threshold: float, reason: str) -> Answer:
    rows, cols = np.nonzero(reading.amount[-1] >= threshold)
    units: frozenset[Unit] = frozenset(zip(rows.tolist(), cols.tolist())) | {maze.start, maze.goal}
    index = _match(units, maze)
    return Answer(units, index is not None and not reason, index, reason)


def flips_to_clean(video, pair: MazePair, *, palette: str = "default", threshold: float = ROUTE_THRESHOLD):
    """True when the video's answer is the clean maze's route (a list for a batch).

    The video is decoded against the maze of the pair its first frame shows (see
    :func:`route_preference`); a damaged video gives False.
    """
    if _is_batch(video):
        return [flips_to_clean(v, pair, palette=palette, threshold=threshold) for v in video]
    reading, reason = _read_pair(video, pair, palette)
    if reading is None or reason:
        return False
    return _answer_of(reading, pair.clean, threshold, reason).units == frozenset(pair.clean_route)
