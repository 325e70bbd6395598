"""The walker's pixel format (interp.organism.walk_frames) extends the maze's: same labels, same colours."""

import numpy as np

from interp.organism import walk_frames as F
from interp.tasks import render as R
from interp.tasks.maze import generate_maze
from interp.tasks.routes import grid_distances


def test_the_first_five_labels_and_colours_are_the_mazes():
    assert F.WALK_LABELS[:5] == R.LABELS
    assert (F.FLOOR, F.WALL, F.START, F.GOAL, F.PATH) == (R.FLOOR, R.WALL, R.START, R.GOAL, R.PATH)
    assert {k: F.WALK_PALETTE[k] for k in R.LABELS} == R.PALETTES["default"]
    assert np.array_equal(F.walk_palette_array()[:5], R.palette_array("default"))
    assert len({tuple(c) for c in F.walk_palette_array().tolist()}) == 7          # seven distinct colours


def test_the_key_of_a_plain_maze_is_the_farthest_cell_by_the_tasks_distances():
    for seed in range(6):
        maze = generate_maze(7, seed=seed)
        U = maze.units
        dist = np.array(grid_distances((~maze.walls).ravel().tolist(), U, maze.start[0] * U + maze.start[1]))
        dist = dist.reshape(U, U)
        key = F.default_key(maze.walls, maze.start, maze.goal)
        centres = [(r, c) for r in range(1, U, 2) for c in range(1, U, 2) if (r, c) != maze.goal]
        assert key in centres and dist[key] == max(dist[c] for c in centres)


def test_a_plain_maze_image_gets_the_agent_on_its_start_and_a_key():
    maze = generate_maze(5, seed=2)
    frame = F.as_walk_first_frame(R.render_maze(maze, upto=0, px_per_unit=2), 2)
    labels = F.decode_walk_labels(frame, maze.units)[0]
    assert labels[maze.start] == F.AGENT and labels[maze.goal] == F.GOAL and (labels == F.KEY).sum() == 1
    assert np.array_equal(F.as_walk_first_frame(frame, 2), frame)                   # a walk frame stays as it is


def test_a_plain_maze_image_takes_the_key_it_is_given_and_refuses_one_on_a_wall():
    import pytest

    from interp.errors import InputError

    maze = generate_maze(5, seed=2)
    image = R.render_maze(maze, upto=0, px_per_unit=2)
    cell = next((r, c) for r in range(1, maze.units, 2) for c in range(1, maze.units, 2)
                if (r, c) not in (maze.start, maze.goal, F.default_key(maze.walls, maze.start, maze.goal)))
    labels = F.decode_walk_labels(F.as_walk_first_frame(image, 2, key=cell), maze.units)[0]
    assert labels[cell] == F.KEY and (labels == F.KEY).sum() == 1
    with pytest.raises(InputError, match="not floor"):
        F.as_walk_first_frame(image, 2, key=(0, 0))


def test_the_walkers_minimal_pairs_differ_in_the_changed_wall_only():
    from interp.models import load_model
    from interp.tasks import make_pairs
    from interp.tasks.maze_task import MazePairTask

    pairs = make_pairs(5, 16, 910_000, kind="wall")
    moved = [p for p in pairs if F.default_key(p.clean.walls, p.clean.start, p.clean.goal)
             != F.default_key(p.corrupt.walls, p.corrupt.start, p.corrupt.goal)]
    assert moved                      # plain mazes of these pairs would get their keys in different places
    task, walker = MazePairTask(pairs), load_model("walker")
    clean, corrupt = (F.decode_walk_labels(task.first_frames(walker, which), 11) for which in ("clean", "corrupt"))
    for pair, a, b in zip(pairs, clean, corrupt):
        differ = {tuple(int(v) for v in u) for u in np.argwhere(a != b)}
        assert differ == set(pair.changed_units)
        assert a[pair.clean.start] == F.AGENT and (a == F.KEY).sum() == (b == F.KEY).sum() == 1
