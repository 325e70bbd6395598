"""Targets on hand-made mazes, against labels worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import PATH, Maze, ground_truth_video, label_grid, shortest_routes
from interp.tasks.score import decode_labels
from probes.targets import check_targets, dead_end_units, token_values, unit_targets

# 4 x 4 cells on a 9 x 9 unit grid. Cell (r, c) sits at unit (2r + 1, 2c + 1). The top row is a
# corridor from start (1, 1) to goal (1, 7); a long branch leaves the start down the left side,
# along the bottom, up the right side, then curls into the middle and ends at cell (2, 2).
TREE = [((0, 0), (0, 1)), ((0, 1), (0, 2)), ((0, 2), (0, 3)), ((0, 0), (1, 0)), ((1, 0), (2, 0)),
        ((2, 0), (3, 0)), ((3, 0), (3, 1)), ((3, 1), (3, 2)), ((3, 2), (3, 3)), ((3, 3), (2, 3)),
        ((2, 3), (1, 3)), ((1, 3), (1, 2)), ((1, 2), (1, 1)), ((1, 1), (2, 1)), ((2, 1), (2, 2))]
# opening cell (1, 3) to the goal cell (0, 3) makes the outer branch a second (longer) way round
LOOP = TREE + [((1, 3), (0, 3))]


def make_maze(passages) -> Maze:
    walls = np.ones((9, 9), bool)
    walls[1::2, 1::2] = False
    for (r0, c0), (r1, c1) in passages:
        walls[r0 + r1 + 1, c0 + c1 + 1] = False
    routes = shortest_routes(walls, (1, 1), (1, 7))
    return Maze(size=4, walls=walls, start=(1, 1), goal=(1, 7), routes=tuple(routes), seed=0, extra_openings=0.0)


TOP_ROW = {(1, c) for c in range(1, 8)}


def units(mask) -> set:
    return {tuple(map(int, u)) for u in zip(*np.nonzero(mask))}


def test_tree_maze_labels():
    maze = make_maze(TREE)
    t = unit_targets(maze)
    assert int((t["wall"] == 0).sum()) == 31  # 16 cells + 15 passages
    assert units(t["start"] == 1) == {(1, 1)} and units(t["goal"] == 1) == {(1, 7)}
    assert units(t["route"] == 1) == TOP_ROW
    assert units(t["route"] == -1) == units(maze.walls)  # masked on walls
    # no loops: every floor unit off the route is a dead end
    assert units(t["dead_end"] == 1) == units(~maze.walls) - TOP_ROW
    d = t["distance"]
    expected = {(1, 7): 0, (1, 1): 6, (2, 1): 7, (7, 1): 12, (7, 7): 18, (3, 7): 22, (3, 3): 26, (5, 5): 30}
    assert {u: int(d[u]) for u in expected} == expected
    assert np.isnan(d[0, 0]) and np.nanmax(d) == 30
    # the tree is one long path: its two ends, cells (2, 2) and (0, 3) (the goal), are tips and
    # every other cell has two open sides; passages and walls are masked
    sides = t["open_sides"]
    assert units(sides == 0) == {(5, 5), (1, 7)}
    assert units(sides == 2) == set()
    assert units(sides == 1) == {(2 * r + 1, 2 * c + 1) for r in range(4) for c in range(4)} - {(5, 5), (1, 7)}
    assert units(sides >= 0) == {(2 * r + 1, 2 * c + 1) for r in range(4) for c in range(4)}


def test_loop_maze_labels():
    maze = make_maze(LOOP)
    t = unit_targets(maze)
    assert units(t["route"] == 1) == TOP_ROW  # the way round is longer: not a shortest route
    # the outer loop is a simple route to the goal; only the inner branch is a dead end
    inner = {(3, 6), (3, 5), (3, 4), (3, 3), (4, 3), (5, 3), (5, 4), (5, 5)}
    assert units(t["dead_end"] == 1) == inner
    # the new passage makes cell (1, 3) a junction (up, down, left) and the goal a corner
    assert units(t["open_sides"] == 2) == {(3, 7)}
    assert units(t["open_sides"] == 0) == {(5, 5)}
    d = t["distance"]
    expected = {(2, 7): 1, (7, 7): 6, (3, 6): 3, (5, 5): 10, (7, 2): 11, (7, 1): 12, (2, 1): 7}
    assert {u: int(d[u]) for u in expected} == expected


def test_dead_end_loop_inside_dead_region():
    # a loop hanging off the start is still a dead end: there is no second way to the goal
    maze = make_maze(TREE + [((2, 2), (2, 3))])
    assert units(dead_end_units(maze.walls, maze.start, maze.goal)) == units(~maze.walls) - TOP_ROW


def test_final_output_from_decoded_video():
    maze = make_maze(LOOP)
    video = ground_truth_video(maze, 4, px_per_unit=3)
    labels = decode_labels(video, maze)
    assert labels.shape == (4, 9, 9)
    np.testing.assert_array_equal(labels[-1], label_grid(maze))
    # model space [-1, 1] with a little noise decodes the same
    noisy = video / 127.5 - 1 + np.random.default_rng(0).normal(0, 0.1, video.shape)
    np.testing.assert_array_equal(decode_labels(np.clip(noisy, -1, 1), maze), labels)
    t = unit_targets(maze, labels)
    assert units(t["route_chosen"] == 1) == units(label_grid(maze) == PATH)
    assert t["final_output"].shape == (4, 9, 9)


def test_token_values_follow_the_grid():
    maze = make_maze(TREE)
    t = unit_targets(maze, decode_labels(ground_truth_video(maze, 2, px_per_unit=2), maze))
    grid = np.array([[0, 1, 1], [1, 1, 2], [1, 0, 0], [0, -1, -1], [1, 9, 9]])
    np.testing.assert_array_equal(token_values(t["wall"], grid), [0, 0, 1, -1, -1])
    np.testing.assert_array_equal(token_values(t["final_output"], grid), [2, 4, 1, -1, -1])
    dist = token_values(t["distance"], grid)
    assert dist[0] == 6 and np.isnan(dist[2]) and np.isnan(dist[3])


def test_bad_targets_and_inputs():
    with pytest.raises(InputError, match="unknown target 'walls'"):
        check_targets(["walls"])
    with pytest.raises(InputError, match="no targets"):
        check_targets([])
    with pytest.raises(InputError, match="is square"):
        decode_labels(np.zeros((1, 4, 9, 3)), make_maze(TREE))
    with pytest.raises(InputError, match="final labels"):
        unit_targets(make_maze(TREE), np.zeros((2, 5, 5), int))


def test_cli_default_targets_are_every_target():
    from interp.cli.probe import DEFAULT_TARGETS
    from probes.targets import TARGETS

    assert DEFAULT_TARGETS == tuple(TARGETS)
