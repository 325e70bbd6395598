"""Patching metrics on hand-painted videos of a hand-built pair whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import Maze, MazePair, PATH, label_grid, render_labels, shortest_routes
from interp.tasks.patch_metrics import answer, flips_to_clean, normalise, route_preference

ROWS = ["#########", "#.......#", "#.#####.#", "#.......#", "#########",
        "#.#.#.#.#", "#########", "#.#.#.#.#", "#########"]
PX = 3


def hand_maze(close_top: bool = False) -> Maze:
    walls = np.array([[ch == "#" for ch in row] for row in ROWS])
    walls[1, 2] = close_top
    routes = shortest_routes(walls, (1, 1), (1, 5))
    return Maze(size=4, walls=walls, start=(1, 1), goal=(1, 5), routes=tuple(routes), seed=7, extra_openings=0.0)


PAIR = MazePair(hand_maze(), hand_maze(close_top=True), "wall", [(1, 2)], requested_seed=7)


def painted(maze: Maze, amounts: dict, frames: int = 3) -> np.ndarray:
    """A video of ``maze``: bare first frame, the last frames with units painted between floor
    (amount 0) and path colour (amount 1)."""
    video = render_labels(np.stack([label_grid(maze, upto=0)] * frames), px_per_unit=PX).astype(float)
    floor, path = np.array([255, 255, 255]), np.array([0, 90, 255])
    for (r, c), a in amounts.items():
        video[1:, r * PX:(r + 1) * PX, c * PX:(c + 1) * PX] = floor + a * (path - floor)
    return np.round(video).astype(np.uint8)


def route_of(route, a: float = 1.0) -> dict:
    return {u: a for u in route[1:-1]}


CLEAN = painted(PAIR.clean, route_of(PAIR.clean_route))
CORRUPT = painted(PAIR.corrupt, route_of(PAIR.corrupt_route))


def test_clean_and_corrupt_runs_give_plus_and_minus_one():
    clean, corrupt = route_preference(CLEAN, PAIR), route_preference(CORRUPT, PAIR)
    assert (clean.value, clean.clean_amount, clean.corrupt_amount, clean.reason) == (1.0, 1.0, 0.0, "")
    assert (corrupt.value, corrupt.clean_amount, corrupt.corrupt_amount) == (-1.0, 0.0, 1.0)
    assert normalise(clean.value, corrupt.value, clean.value) == 1.0
    assert normalise(corrupt.value, corrupt.value, clean.value) == 0.0


def test_partial_paint_gives_the_painted_amounts():
    video = painted(PAIR.clean, {**route_of(PAIR.clean_route, 0.5), **route_of(PAIR.corrupt_route, 0.25)})
    result = route_preference(video, PAIR)
    assert result.clean_amount == pytest.approx(0.5, abs=0.01)
    assert result.corrupt_amount == pytest.approx(0.25, abs=0.01)
    assert result.value == pytest.approx(0.25, abs=0.02)
    assert normalise(result.value, -1.0, 1.0) == pytest.approx(0.625, abs=0.01)


def test_answer_and_flip():
    clean, corrupt = answer(CLEAN, PAIR.clean), answer(CORRUPT, PAIR.corrupt)
    assert clean.valid and clean.route_index == 0 and clean.units == frozenset(PAIR.clean_route)
    assert corrupt.valid and corrupt.units == frozenset(PAIR.corrupt_route)
    assert flips_to_clean(CLEAN, PAIR) is True
    assert flips_to_clean(CORRUPT, PAIR) is False
    both = painted(PAIR.clean, {**route_of(PAIR.clean_route), **route_of(PAIR.corrupt_route)})
    assert not answer(both, PAIR.clean).valid and not flips_to_clean(both, PAIR)
    assert route_preference(both, PAIR).value == 0.0
    faint = painted(PAIR.clean, route_of(PAIR.clean_route, 0.4))      # below the 0.5 threshold
    assert not flips_to_clean(faint, PAIR) and flips_to_clean(faint, PAIR, threshold=0.3)


def test_batches_single_frames_and_model_space_floats():
    batch = np.stack([CLEAN, CORRUPT])
    assert [r.value for r in route_preference(batch, PAIR)] == [1.0, -1.0]
    assert flips_to_clean(batch, PAIR) == [True, False]
    assert [a.valid for a in answer(batch, PAIR.clean)] == [True, False]
    assert route_preference(CLEAN[-1], PAIR).value == 1.0         # one x0_hat frame
    model_space = CORRUPT.astype(np.float32) / 127.5 - 1.0
    assert route_preference(model_space, PAIR).value == -1.0


@pytest.mark.filterwarnings("ignore:All-NaN slice")
@pytest.mark.parametrize("video, reason", [
    (np.random.default_rng(0).integers(0, 256, CLEAN.shape, dtype=np.uint8), "does not show this maze"),
    (np.zeros((3, 5, 5, 3), np.uint8), "too small"),
    (np.zeros((3, 27, 50, 3), np.uint8), "square"),
    (np.full(CLEAN.shape, np.nan, np.float32), "NaN"),
    (np.zeros((27, 27), np.uint8), "not frames x height x width"),
    ("garbage", "unreadable"),
])
def test_damaged_videos_never_raise(video, reason):
    result = route_preference(video, PAIR)
    assert reason in result.reason and math.isfinite(result.value) and -1 <= result.value <= 1
    assert all(math.isfinite(v) for v in (result.clean_amount, result.corrupt_amount, result.first_frame_agreement))
    decoded = answer(video, PAIR.clean)
    assert not decoded.valid and reason in decoded.reason
    assert flips_to_clean(video, PAIR) is False


def test_normalise_guards_its_denominator():
    assert normalise(0.25, -0.5, 1.0) == 0.5
    assert normalise(1.5, 0.0, 1.0) == 1.5                     # overshoot is kept
    with pytest.raises(InputError, match="do not separate|does not separate"):
        normalise(0.3, 0.2, 0.2)
    with pytest.raises(InputError, match="finite"):
        normalise(float("nan"), 0.0, 1.0)


def test_painted_route_units_are_where_the_decoder_reads_them():
    labels = label_grid(PAIR.clean)
    assert {tuple(u) for u in np.argwhere(labels == PATH)} == set(PAIR.clean_route[1:-1])


def test_goal_pair_reads_each_run_against_the_maze_it_shows():
    moved = Maze(size=4, walls=PAIR.clean.walls, start=(1, 1), goal=(3, 3),
                 routes=tuple(shortest_routes(PAIR.clean.walls, (1, 1), (3, 3))), seed=7, extra_openings=0.0)
    pair = MazePair(PAIR.clean, moved, "goal", [(1, 5), (3, 3)], requested_seed=7)
    clean, corrupt = painted(pair.clean, route_of(pair.clean_route)), painted(moved, route_of(moved.route))
    assert route_preference(clean, pair).value == 1.0 and route_preference(corrupt, pair).value == -1.0
    assert flips_to_clean(clean, pair) and not flips_to_clean(corrupt, pair)
    # the patched run that matters: the corrupt maze as input, the clean route drawn
    patched = painted(moved, route_of(pair.clean_route))
    assert route_preference(patched, pair).value == 1.0 and flips_to_clean(patched, pair)


@pytest.mark.parametrize("kind", ["wall", "goal"])
def test_generated_pairs_survive_blur(kind):
    from PIL import Image, ImageFilter

    from interp.tasks import ground_truth_video, make_pairs

    def blurred(video):
        return np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(1.0))) for f in video])

    for pair in make_pairs(6, 3, seed=0, kind=kind):
        clean = blurred(ground_truth_video(pair.clean, 4, px_per_unit=3))
        corrupt = blurred(ground_truth_video(pair.corrupt, 4, px_per_unit=3))
        assert route_preference(clean, pair).value > 0.9 and route_preference(corrupt, pair).value < -0.9
        assert flips_to_clean(clean, pair) and not flips_to_clean(corrupt, pair)
