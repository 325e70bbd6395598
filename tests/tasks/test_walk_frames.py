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
