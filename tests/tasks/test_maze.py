"""Maze generator: structure, determinism, and routes checked against an independent BFS."""

from __future__ import annotations

import json
import pickle
from collections import deque

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import Maze, generate_maze, shortest_routes


def bfs_oracle(walls, start):
    """Plain BFS distances and shortest-path counts over floor units (independent of the package)."""
    U = walls.shape[0]
    dist = np.full(walls.shape, -1)
    count = np.zeros(walls.shape, dtype=object)
    dist[start], count[start] = 0, 1
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < U and 0 <= cc < U and not walls[rr, cc]:
                if dist[rr, cc] < 0:
                    dist[rr, cc] = dist[r, c] + 1
                    queue.append((rr, cc))
                if dist[rr, cc] == dist[r, c] + 1:
                    count[rr, cc] += count[r, c]
    return dist, count


def assert_shortest(walls, route, start, goal, dist):
    assert route[0] == tuple(start) and route[-1] == tuple(goal)
    assert len(route) == dist[goal] + 1
    assert len(set(route)) == len(route)
    for (r0, c0), (r1, c1) in zip(route, route[1:]):
        assert abs(r0 - r1) + abs(c0 - c1) == 1
    assert not any(walls[u] for u in route)


@pytest.mark.parametrize("size", [4, 5, 7, 9, 12])
def test_routes_are_all_shortest_routes(size):
    for seed in range(15):
        maze = generate_maze(size, seed, extra_openings=0.3)
        dist, count = bfs_oracle(maze.walls, maze.start)
        for route in maze.routes:
            assert_shortest(maze.walls, route, maze.start, maze.goal, dist)
        assert len(set(maze.routes)) == len(maze.routes)
        assert len(maze.routes) == min(count[maze.goal], 64)


def test_structure_of_grid():
    for size in (4, 6, 11):
        maze = generate_maze(size, seed=2)
        U = 2 * size + 1
        w = maze.walls
        assert w.shape == (U, U) and w.dtype == bool
        assert w[0].all() and w[-1].all() and w[:, 0].all() and w[:, -1].all()
        assert w[::2, ::2].all(), "pillars between cells stay walls"
        assert not w[1::2, 1::2].any(), "every cell centre is floor"
        assert maze.start[0] % 2 == 1 and maze.goal[1] % 2 == 1
        assert (maze.route_length + 1) // 2 >= size  # default minimum route


def test_perfect_maze_is_a_tree_and_openings_count():
    size = 7
    perfect = generate_maze(size, seed=5, extra_openings=0.0)
    floor = int((~perfect.walls).sum())
    assert floor == size * size + size * size - 1  # n^2 cells joined by n^2 - 1 openings
    dist, _ = bfs_oracle(perfect.walls, perfect.start)
    assert (dist[~perfect.walls] >= 0).all(), "every floor unit is reachable"
    assert len(perfect.routes) == 1
    loopy = generate_maze(size, seed=5, extra_openings=0.5)
    removable = (size - 1) ** 2
    assert int((~loopy.walls).sum()) - floor == round(0.5 * removable)
    assert not (loopy.walls & ~perfect.walls).any(), "openings only remove walls"


def test_deterministic_per_seed_and_options():
    a = generate_maze(6, 11, extra_openings=0.2)
    assert a == generate_maze(6, 11, extra_openings=0.2)
    assert a != generate_maze(6, 12, extra_openings=0.2)
    assert a != generate_maze(6, 11, extra_openings=0.4)
    np.random.seed(0)  # the global RNG must play no part
    b = generate_maze(6, 11, extra_openings=0.2)
    np.random.seed(1)
    assert b == generate_maze(6, 11, extra_openings=0.2)
    assert len({generate_maze(5, s).walls.tobytes() for s in range(50)}) > 45


def test_several_routes_happen_with_openings():
    counts = [len(generate_maze(7, s, extra_openings=0.3).routes) for s in range(60)]
    assert max(counts) > 1


def test_ties_on_hand_made_grids():
    # open 2x2 rooms of units: routes between opposite corners = binomial coefficients
    walls = np.ones((5, 5), bool)
    walls[1:4, 1:4] = False
    routes = shortest_routes(walls, (1, 1), (3, 3))
    assert len(routes) == 6 and len(set(routes)) == 6
    dist, _ = bfs_oracle(walls, (1, 1))
    for route in routes:
        assert_shortest(walls, route, (1, 1), (3, 3), dist)
    walls = np.ones((7, 7), bool)
    walls[1:6, 1:6] = False
    assert len(shortest_routes(walls, (1, 1), (5, 5))) == 64  # C(8,4) = 70, capped
    assert len(shortest_routes(walls, (1, 1), (5, 5), max_routes=100)) == 70
    # a ring: two routes of equal length around a block
    walls = np.ones((7, 7), bool)
    walls[1:6, 1:6] = False
    walls[2:5, 2:5] = True
    assert sorted(shortest_routes(walls, (1, 3), (5, 3))) == sorted(
        [
            ((1, 3), (1, 2), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (5, 2), (5, 3)),
            ((1, 3), (1, 4), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5), (5, 4), (5, 3)),
        ]
    )
    walls[3, 1] = True
    assert len(shortest_routes(walls, (1, 3), (5, 3))) == 1
    walls[3, 5] = True
    assert shortest_routes(walls, (1, 3), (5, 3)) == []


def test_dict_round_trip_is_json_safe_and_exact():
    maze = generate_maze(9, seed=4, extra_openings=0.25)
    again = Maze.from_dict(json.loads(json.dumps(maze.to_dict())))
    assert again == maze and hash(again) == hash(maze)
    assert np.array_equal(again.walls, maze.walls)
    assert again.routes == maze.routes and again.route == maze.route


def test_bad_input_raises_input_error():
    with pytest.raises(InputError, match="maze size 3"):
        generate_maze(3, 0)
    with pytest.raises(InputError, match="13"):
        generate_maze(13, 0)
    with pytest.raises(InputError, match="maze size 5.0"):
        generate_maze(5.0, 0)
    with pytest.raises(InputError, match="seed"):
        generate_maze(5, -1)
    with pytest.raises(InputError, match="extra_openings"):
        generate_maze(5, 0, extra_openings=1.5)
    with pytest.raises(InputError, match="min_route_cells 25 is too long"):
        generate_maze(5, 0, extra_openings=1.0, min_route_cells=25)
    bad = generate_maze(5, 0).to_dict()
    bad["start"] = [2, 2]
    with pytest.raises(InputError, match="start"):
        Maze.from_dict(bad)
    with pytest.raises(InputError, match="lacks keys"):
        Maze.from_dict({"size": 5})
    assert issubclass(InputError, ValueError)


def test_walls_are_read_only_also_in_copies():
    maze = generate_maze(5, 0)
    copied = pickle.loads(pickle.dumps(maze))  # as sent to worker processes
    assert copied == maze
    for m in (maze, copied):
        with pytest.raises(ValueError):
            m.walls[1, 1] = True
