"""Scorer: perfect on ground truth, the right sub-score drops for each corruption, robust decoding."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from interp.errors import InputError
from interp.tasks import (
    FLOOR,
    GOAL,
    PATH,
    WALL,
    generate_maze,
    ground_truth_video,
    label_grid,
    render_labels,
    shortest_routes,
)
from interp.tasks.score import decode_labels, score_video, score_video_images


def blur(video, sigma):
    return np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(sigma))) for f in video])


def resize(video, height, width):
    return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.BILINEAR)) for f in video])


def video_of(maze, last_labels, px=2):
    """A two-frame video: the bare maze, then ``last_labels``."""
    return render_labels(np.stack([label_grid(maze, upto=0), last_labels]), px_per_unit=px)


def loopy_maze(size=7):
    """A maze with a floor unit next to the route that lies on no shortest route (a wrong branch)."""
    for seed in range(100):
        maze = generate_maze(size, seed, extra_openings=0.3)
        on_routes = {u for r in maze.routes for u in r}
        for r, c in maze.route[1:-1]:
            for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if not maze.walls[rr, cc] and (rr, cc) not in on_routes:
                    return maze, (rr, cc)
    raise AssertionError("no maze with a side branch")


@pytest.mark.parametrize("size,px", [(4, 1), (5, 2), (7, 3), (9, 2), (12, 5)])
def test_ground_truth_scores_perfectly(size, px):
    for seed in range(4):
        maze = generate_maze(size, seed, extra_openings=0.3)
        for index in range(len(maze.routes)):
            video = ground_truth_video(maze, 6, route_index=index, px_per_unit=px)
            s = score_video(video, maze)
            assert s.exact and s.valid_route and s.vbvr_score == 1.0 and s.walls_preserved == 1.0
            assert s.matched_route == index and s.route_iou == 1.0
            assert s.progress[0] == 0.0 and s.progress[-1] == 1.0
            assert all(a <= b for a, b in zip(s.progress, s.progress[1:]))
        as_float = video.astype(np.float32) / 255.0
        assert score_video(as_float * 2 - 1, maze).exact and score_video(as_float, maze).exact


def test_wall_crossed():
    maze = generate_maze(7, seed=3)
    labels = label_grid(maze)
    r, c = maze.route[len(maze.route) // 2]
    wall = next((rr, cc) for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)) if maze.walls[rr, cc])
    labels[wall] = PATH
    s = score_video(video_of(maze, labels), maze)
    n_path = maze.route_length - 2 + 1
    assert s.avoids_walls == pytest.approx(1 - 1 / n_path)
    assert not s.exact and not s.valid_route
    assert s.connected == 1.0 and s.touches_start_goal == 1.0
    assert s.walls_preserved == pytest.approx(1 - 1 / maze.walls.sum())
    assert s.vbvr_score == pytest.approx(0.45 * (1 - 1 / n_path) + 0.30 + 0.20 + 0.05 * s.walls_preserved)


def test_gap_in_route():
    maze = generate_maze(7, seed=4)
    labels = label_grid(maze)
    labels[maze.route[len(maze.route) // 2]] = FLOOR
    s = score_video(video_of(maze, labels), maze)
    assert s.connected == 0.0 and not s.exact and not s.valid_route
    assert s.avoids_walls == 1.0 and s.touches_start_goal == 1.0 and s.walls_preserved == 1.0
    assert s.vbvr_score == pytest.approx(0.80)
    assert s.progress[-1] == pytest.approx(1 - 1 / (maze.route_length - 2))


def test_wrong_branch():
    maze, side = loopy_maze()
    labels = label_grid(maze)
    labels[side] = PATH
    s = score_video(video_of(maze, labels), maze)
    assert not s.exact and s.valid_route and s.vbvr_score == 1.0
    assert s.route_iou == pytest.approx(maze.route_length / (maze.route_length + 1))


def test_moved_goal():
    maze = generate_maze(8, seed=5)
    goal = maze.goal
    # the farthest cell centre from the real goal that the start can reach
    centres = [(r, c) for r in range(1, maze.units, 2) for c in range(1, maze.units, 2) if (r, c) != maze.start]
    other = max(centres, key=lambda u: abs(u[0] - goal[0]) + abs(u[1] - goal[1]))
    route = shortest_routes(maze.walls, maze.start, other)[0]
    labels = np.where(maze.walls, WALL, FLOOR).astype(np.uint8)
    labels[tuple(np.array(route[1:-1]).T)] = PATH
    labels[maze.start], labels[other] = 2, GOAL
    s = score_video(video_of(maze, labels), maze)
    assert s.touches_start and not s.touches_goal and s.touches_start_goal == 0.5
    assert not s.exact and not s.valid_route
    assert s.vbvr_score == pytest.approx(0.45 + 0.15 + 0.20 + 0.05)
    pixels = score_video_images(video_of(maze, labels, px=3))
    assert pixels.touches_start and not pixels.touches_goal and pixels.connected == 1.0


def test_empty_and_erased_walls():
    maze = generate_maze(6, seed=6)
    s = score_video(ground_truth_video(maze, 3)[:1], maze)
    assert s.path_size == 0 and s.vbvr_score == pytest.approx(0.05) and not s.exact
    labels = label_grid(maze)
    labels[maze.walls] = FLOOR
    s = score_video(video_of(maze, labels), maze)
    assert s.walls_preserved == 0.0 and s.exact and s.vbvr_score == pytest.approx(0.95)


@pytest.mark.parametrize(
    "px,change",
    [
        (2, lambda v: blur(v, 0.5)),
        (2, lambda v: blur(v, 1.0)),  # leaves ~40% of a unit's own colour: needs the deblurring step
        (4, lambda v: blur(v, 1.0)),
        (2, lambda v: resize(v, 24, 24)),  # 22 px -> 24 px: 2.18 px per unit
        (3, lambda v: resize(v, 30, 31)),  # 33 px -> 30 x 31: shrunk, slightly off square
        (2, lambda v: np.clip(v * 0.7 + np.array([40, 25, 10]), 0, 255).astype(np.uint8)),  # dull, tinted
        (2, lambda v: np.clip(v * np.linspace(1.0, 0.5, len(v))[:, None, None, None], 0, 255).astype(np.uint8)),  # darkening
    ],
)
def test_robust_decoding_still_scores(px, change):
    for seed in range(5):
        maze = generate_maze(5, seed, extra_openings=0.2)
        video = change(ground_truth_video(maze, 6, px_per_unit=px))
        s = score_video(video, maze)
        assert s.exact and s.vbvr_score == 1.0, (seed, s)


def test_decoding_equals_rendered_labels():
    maze = generate_maze(9, seed=2)
    video = ground_truth_video(maze, 4, px_per_unit=3)
    labels = decode_labels(video, maze)
    assert np.array_equal(labels[-1], label_grid(maze)) and np.array_equal(labels[0], label_grid(maze, upto=0))


def test_video_that_does_not_fit_the_maze():
    maze = generate_maze(5, seed=0)
    video = ground_truth_video(maze, 3)
    with pytest.raises(InputError, match="square"):
        score_video(resize(video, 22, 40), maze)
    with pytest.raises(InputError, match="does not show this maze"):
        score_video(ground_truth_video(generate_maze(7, seed=0), 3), maze)
    loose = score_video(ground_truth_video(generate_maze(7, seed=0), 3), maze, strict=False)
    assert loose.first_frame_agreement < 0.9 and not loose.exact
    with pytest.raises(InputError, match="too small"):
        score_video(video[:, :8, :8], maze)
    with pytest.raises(InputError, match="palette"):
        score_video(video, maze, palette="neon")


def test_image_mode_on_pixels():
    maze = generate_maze(6, seed=1)
    video = ground_truth_video(maze, 6, px_per_unit=4)
    s = score_video_images(video)
    assert s.mode == "image" and s.vbvr_score == 1.0 and s.exact is None and s.progress is None
    wide = resize(video, 240, 416)  # a stretched, non-square frame like a real model's output
    assert score_video_images(wide).vbvr_score == 1.0
    dull = np.clip(video * 0.5 + np.array([60, 40, 20]), 0, 255).astype(np.uint8)  # fails uncalibrated
    assert score_video_images(dull).vbvr_score == 1.0
    assert score_video_images(dull[-1:], first_frame=video[0]).vbvr_score == 1.0
    labels = label_grid(maze)
    labels[maze.route[len(maze.route) // 2]] = FLOOR
    gap = video_of(maze, labels, px=4)
    assert score_video_images(gap).connected == 0.0 and score_video_images(gap).vbvr_score == pytest.approx(0.8)
    labels = label_grid(maze)
    r, c = maze.route[2]
    wall = next((rr, cc) for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)) if maze.walls[rr, cc])
    labels[wall] = PATH
    s = score_video_images(video_of(maze, labels, px=4))
    n_path = maze.route_length - 1
    assert s.avoids_walls == pytest.approx(1 - 1 / n_path) and s.touches_start_goal == 1.0
    assert s.walls_preserved == pytest.approx(1 - 1 / maze.walls.sum())
    # the first frame may come from the task instead of the video
    s = score_video_images(video[-1:], first_frame=video[0])
    assert s.vbvr_score == 1.0
    with pytest.raises(InputError, match="first frame"):
        score_video_images(video, first_frame=video[0, :10])


def test_deblurring_is_what_rescues_heavy_blur():
    results = {True: [], False: []}
    for seed in range(6):
        maze = generate_maze(9, seed, extra_openings=0.2)
        video = blur(ground_truth_video(maze, 4, px_per_unit=2), 1.0)
        for deblur in results:
            results[deblur].append(score_video(video, maze, deblur=deblur).exact)
    assert all(results[True]) and not all(results[False])
