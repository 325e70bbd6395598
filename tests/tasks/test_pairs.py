"""Minimal maze pairs: hand-built pairs with known routes, the generator's rules, and pair folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import Maze, MazePair, generate_maze, load_pair, make_pair, make_pairs, save_pair, shortest_routes

# A 4x4 maze (9x9 units): the start (1,1) reaches the goal (1,5) along the top row; the long way
# round runs down column 1, along row 3 and up column 7.
ROWS = [
    "#########",
    "#.......#",
    "#.#####.#",
    "#.......#",
    "#########",
    "#.#.#.#.#",
    "#########",
    "#.#.#.#.#",
    "#########",
]
TOP = [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]
ROUND = [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (3, 4), (3, 5), (3, 6), (3, 7), (2, 7), (1, 7), (1, 6), (1, 5)]


def hand_maze(walls=None, goal=(1, 5), seed=7) -> Maze:
    walls = np.array([[ch == "#" for ch in row] for row in ROWS]) if walls is None else walls
    routes = shortest_routes(walls, (1, 1), goal)
    return Maze(size=4, walls=walls, start=(1, 1), goal=goal, routes=tuple(routes), seed=seed, extra_openings=0.0)


def closed_top() -> Maze:
    walls = hand_maze().walls.copy()
    walls[1, 2] = True
    return hand_maze(walls)


def test_hand_wall_pair_has_the_known_routes_and_unit_sets():
    pair = MazePair(hand_maze(), closed_top(), "wall", [(1, 2)], requested_seed=7)
    assert list(pair.clean_route) == TOP and list(pair.corrupt_route) == ROUND
    assert pair.changed_units == ((1, 2),)
    assert pair.clean_only == ((1, 2), (1, 3), (1, 4))
    assert pair.corrupt_only == tuple(ROUND[1:-1])


def test_hand_goal_pair_leaves_marker_units_out():
    corrupt = hand_maze(goal=(3, 3))
    assert list(corrupt.route) == [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3)]
    pair = MazePair(hand_maze(), corrupt, "goal", [(1, 5), (3, 3)], requested_seed=7)
    assert pair.clean_only == ((1, 2), (1, 3), (1, 4))       # goal (1,5) is a marker, left out
    assert pair.corrupt_only == ((2, 1), (3, 1), (3, 2))


@pytest.mark.parametrize("change, message", [
    (lambda: (hand_maze(), hand_maze(), "wall", [(1, 2)]), "walls differ in 0 units"),
    (lambda: (hand_maze(), closed_top(), "wall", [(1, 4)]), "do not match the mazes"),
    (lambda: (hand_maze(), closed_top(), "goal", [(1, 5), (1, 5)]), "same walls"),
    (lambda: (hand_maze(), hand_maze(goal=(1, 3)), "goal", [(1, 5), (1, 3)]), "lies within"),
    (lambda: (hand_maze(), hand_maze(seed=8), "wall", [(1, 2)]), "seeds differ"),
    (lambda: (hand_maze(), closed_top(), "colour", [(1, 2)]), "unknown pair kind"),
])
def test_non_pairs_are_refused_naming_the_problem(change, message):
    with pytest.raises(InputError, match=message):
        MazePair(*change(), requested_seed=7)


def test_two_shortest_routes_are_refused():
    tie = hand_maze(goal=(3, 7))
    # from (1,1) to (3,7): along row 1 then down column 7, or down column 1 then along row 3 (both 9 units)
    assert len(tie.routes) == 2
    with pytest.raises(InputError, match="more than one shortest route"):
        MazePair(tie, hand_maze(goal=(3, 5)), "goal", [(3, 7), (3, 5)], requested_seed=7)


@pytest.mark.parametrize("kind", ["wall", "goal"])
@pytest.mark.parametrize("size", [4, 7, 12])
def test_generated_pairs_meet_the_requirements(size, kind):
    for seed in range(4):
        pair = make_pair(size, seed, kind)
        clean, corrupt = pair.clean, pair.corrupt
        assert len(clean.routes) == len(corrupt.routes) == 1
        assert len(shortest_routes(clean.walls, clean.start, clean.goal)) == 1
        assert len(shortest_routes(corrupt.walls, corrupt.start, corrupt.goal)) == 1
        assert clean.seed == corrupt.seed >= seed and clean.size == corrupt.size == size
        assert pair.clean_only and pair.corrupt_only
        assert set(pair.clean_only).isdisjoint(corrupt.route) and set(pair.corrupt_only).isdisjoint(clean.route)
        if kind == "wall":
            (unit,) = pair.changed_units
            assert (clean.walls != corrupt.walls).sum() == 1 and clean.walls[unit] != corrupt.walls[unit]
            assert sum(unit) % 2 == 1 and clean.goal == corrupt.goal
        else:
            assert np.array_equal(clean.walls, corrupt.walls)
            assert pair.changed_units == (clean.goal, corrupt.goal) and clean.goal != corrupt.goal
            assert (len(corrupt.route) + 1) // 2 >= size


def test_pairs_are_deterministic_and_distinct():
    assert make_pair(6, 3, "wall") == make_pair(6, 3, "wall")
    assert make_pair(6, 3, "wall") != make_pair(6, 3, "goal")
    pairs = make_pairs(5, 4, seed=10, kind="goal")
    seeds = [p.clean.seed for p in pairs]
    assert seeds == sorted(set(seeds)) and seeds[0] >= 10 and pairs == make_pairs(5, 4, seed=10, kind="goal")


def test_seed_with_several_routes_moves_on_or_fails():
    seed = next(s for s in range(100) if len(generate_maze(5, s).routes) > 1)
    assert make_pair(5, seed).clean.seed > seed
    with pytest.raises(InputError, match=f"among seeds {seed}..{seed}"):
        make_pair(5, seed, max_seeds=1)
    with pytest.raises(InputError, match="no wall pair"):
        make_pair(4, 0, extra_openings=1.0, max_seeds=3)     # an open grid: ties everywhere


def test_pair_folder_round_trip(tmp_path):
    pair = make_pair(5, 1, "goal")
    folder = save_pair(pair, tmp_path / "pair", video_format="png")
    assert sorted(p.name for p in folder.iterdir()) == ["clean", "corrupt", "pair.json"]
    recorded = json.loads((folder / "pair.json").read_text())
    assert recorded["changed_units"] == [list(u) for u in pair.changed_units]
    assert recorded["clean_route"] == [list(u) for u in pair.clean_route]
    assert load_pair(folder) == pair
    assert MazePair.from_dict(json.loads(json.dumps(pair.to_dict()))) == pair


def test_pair_file_that_does_not_match_its_mazes_is_refused(tmp_path):
    folder = save_pair(make_pair(5, 1, "wall"), tmp_path / "pair", video_format="png")
    recorded = json.loads((folder / "pair.json").read_text())
    recorded["changed_units"] = [[1, 2]]
    recorded["clean_route"] = recorded["clean_route"][:-1]
    (folder / "pair.json").write_text(json.dumps(recorded))
    with pytest.raises(InputError, match="changed_units is .* clean_route is"):
        load_pair(folder)
    recorded["kind"] = "goal"
    (folder / "pair.json").write_text(json.dumps(recorded))
    with pytest.raises(InputError, match="not a minimal goal pair"):
        load_pair(folder)


def test_pair_folder_with_swapped_maze_is_refused(tmp_path):
    folder = save_pair(make_pair(5, 1, "wall"), tmp_path / "pair", video_format="png")
    meta = json.loads((folder / "corrupt" / "metadata.json").read_text())
    meta["maze"] = json.loads((folder / "clean" / "metadata.json").read_text())["maze"]
    (folder / "corrupt" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="walls differ in 0 units"):
        load_pair(folder)
    with pytest.raises(InputError, match="no pair.json"):
        load_pair(tmp_path)


def test_save_pair_refuses_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("keep")
    with pytest.raises(InputError, match="notes.txt"):
        save_pair(make_pair(5, 0), tmp_path, video_format="png")
