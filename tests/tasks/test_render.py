"""Rendering: labels, palettes, and the progressive ground-truth video."""

from __future__ import annotations

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import (
    FLOOR,
    GOAL,
    PALETTES,
    PATH,
    START,
    WALL,
    generate_maze,
    ground_truth_video,
    label_grid,
    render_labels,
    render_maze,
)


def test_label_grid_marks_route_and_keeps_start_goal():
    maze = generate_maze(6, seed=1)
    labels = label_grid(maze)
    assert labels.dtype == np.uint8 and labels.shape == (13, 13)
    assert labels[maze.start] == START and labels[maze.goal] == GOAL
    path = {tuple(u) for u in np.argwhere(labels == PATH)}
    assert path == set(maze.route[1:-1])
    assert ((labels == WALL) == maze.walls).all()
    part = label_grid(maze, upto=4)
    assert {tuple(u) for u in np.argwhere(part == PATH)} == set(maze.route[1:4])
    with pytest.raises(InputError, match="upto"):
        label_grid(maze, upto=maze.route_length + 1)


@pytest.mark.parametrize("px", [1, 2, 3])
@pytest.mark.parametrize("palette", sorted(PALETTES))
def test_render_colours_each_unit_block(px, palette):
    maze = generate_maze(5, seed=2)
    labels = label_grid(maze)
    image = render_maze(maze, palette=palette, px_per_unit=px)
    assert image.shape == (11 * px, 11 * px, 3) and image.dtype == np.uint8
    names = ("floor", "wall", "start", "goal", "path")
    for (r, c), lab in np.ndenumerate(labels):
        block = image[r * px : (r + 1) * px, c * px : (c + 1) * px]
        assert (block == PALETTES[palette][names[lab]]).all()


def test_ground_truth_video_draws_route_progressively():
    maze = generate_maze(7, seed=3)
    video = ground_truth_video(maze, 8, px_per_unit=2)
    assert video.shape == (8, 30, 30, 3)
    blue = np.array(PALETTES["default"]["path"])
    drawn = [(v[::2, ::2] == blue).all(-1) for v in video]
    assert not drawn[0].any()
    assert np.array_equal(video[0], render_maze(maze, upto=0))
    assert np.array_equal(video[-1], render_maze(maze))
    for a, b in zip(drawn, drawn[1:]):
        assert (a <= b).all() and b.sum() >= a.sum()
    assert drawn[-1].sum() == maze.route_length - 2


def test_ground_truth_video_other_route_and_bad_input():
    for seed in range(50):
        maze = generate_maze(7, seed, extra_openings=0.4)
        if len(maze.routes) > 1:
            break
    last = ground_truth_video(maze, 3, route_index=1)[-1]
    assert np.array_equal(last, render_maze(maze, route=1))
    assert not np.array_equal(last, render_maze(maze, route=0))
    with pytest.raises(InputError, match="num_frames"):
        ground_truth_video(maze, 1)
    with pytest.raises(InputError, match="palette"):
        ground_truth_video(maze, 4, palette="neon")
    with pytest.raises(InputError, match="labels"):
        render_labels(np.full((3, 3), 9))
    assert FLOOR == 0 and PATH == 4
