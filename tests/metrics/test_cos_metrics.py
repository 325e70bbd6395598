"""Chain-of-Steps metrics on hand-painted x0_hat videos whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from hand_videos import ROUND, TOP, frames, hand_maze, inner, steps

from interp.errors import InputError
from interp.metrics.cos import cos_metrics, count_routes, model_space_to_uint8

MAZE = hand_maze()
BOTH = frames(MAZE, {**inner(TOP), **inner(ROUND)})
ONE = frames(MAZE, inner(TOP))


def test_two_routes_then_one():
    m = cos_metrics(steps(BOTH, BOTH, BOTH, ONE, ONE), MAZE)
    assert m.candidates.tolist() == [2, 2, 2, 1, 1]
    assert m.shortest_shown.tolist() == [1] * 5
    assert m.side_branches.tolist() == [0] * 5
    assert m.answer_correct.tolist() == [False, False, False, True, True]
    assert m.off_route.tolist() == [True, True, True, False, False]
    assert m.wrong.tolist() == m.self_correction.tolist() == [True, True, True, False, False]
    assert m.commitment_step == 3 and m.action_step == 3
    assert m.final_correct and m.self_corrected
    assert not m.candidates_capped.any() and not m.crosses_wall.any()


def test_perception_before_action_and_working_memory():
    no_start = frames(MAZE, inner(TOP, 0.0), hide_start=True)
    bare = frames(MAZE, {})
    m = cos_metrics(steps(no_start, bare, BOTH, ONE), MAZE)
    assert m.scaffold_correct.tolist() == [False, True, True, True]
    assert m.working_memory_share == 0.75
    assert (m.perception_step, m.action_step, m.perception_before_action) == (1, 3, True)
    assert m.candidates.tolist() == [0, 0, 2, 1]
    assert m.wrong.tolist() == [False, False, True, False]        # nothing drawn is not wrong
    lapse = cos_metrics(steps(bare, no_start, ONE), MAZE)           # walls/start lost mid-way
    assert lapse.scaffold_correct.tolist() == [True, False, True] and lapse.perception_step == 2


def test_two_shortest_routes_pruned_to_one():
    tie = hand_maze(goal=(3, 7))
    a, b = tie.routes
    both, one = frames(tie, {**inner(a), **inner(b)}), frames(tie, inner(b))
    m = cos_metrics(steps(both, both, one), tie, steps=[0, 10, 19])
    assert m.candidates.tolist() == [2, 2, 1] and m.shortest_shown.tolist() == [2, 2, 1]
    assert m.answer_correct.tolist() == [False, False, True]
    assert not m.wrong.any() and not m.self_corrected                # two right answers are not wrong
    assert m.commitment_step == 19 and m.action_step == 19 and m.steps == [0, 10, 19]


def test_wall_crossing_dead_end_and_late_change():
    through_wall = frames(MAZE, {**inner(TOP), (2, 3): 1.0})
    dead_end = frames(MAZE, {**inner(TOP), (1, 6): 1.0})
    m = cos_metrics(steps(through_wall, dead_end, ONE, BOTH), MAZE)
    assert m.crosses_wall.tolist() == [True, False, False, False]
    assert m.off_route.tolist() == [False, True, False, True]
    assert m.side_branches.tolist() == [0, 1, 0, 0]
    assert m.candidates.tolist() == [1, 1, 1, 2]
    assert m.commitment_step == 3 and m.action_step is None
    assert not m.final_correct and not m.self_correction.any()


def test_threshold_decides_what_is_painted():
    faint = steps(frames(MAZE, inner(TOP, 0.3)), ONE)
    assert cos_metrics(faint, MAZE).candidates.tolist() == [0, 1]
    assert cos_metrics(faint, MAZE, threshold=0.25).candidates.tolist() == [1, 1]
    assert cos_metrics(faint, MAZE, threshold=0.25).commitment_step == 0
    with pytest.raises(InputError, match="threshold"):
        cos_metrics(faint, MAZE, threshold=0.0)


def test_noise_steps_do_not_raise():
    noise = np.random.default_rng(0).integers(0, 256, ONE.shape, dtype=np.uint8)
    m = cos_metrics(steps(noise, noise, ONE), MAZE)
    assert m.scaffold_correct.tolist() == [False, False, True] and m.answer_correct[-1]
    assert np.isfinite(m.scaffold_agreement).all()


def test_inputs_are_checked_and_model_space_converts():
    model_space = steps(BOTH, ONE).astype(np.float32) / 127.5 - 1.0
    with pytest.raises(InputError, match="model_space_to_uint8"):
        cos_metrics(model_space, MAZE)
    m = cos_metrics(model_space_to_uint8(model_space), MAZE)
    assert m.candidates.tolist() == [2, 1]
    with pytest.raises(InputError, match="step labels"):
        cos_metrics(steps(ONE), MAZE, steps=[0, 1])
    with pytest.raises(InputError, match="NaN"):
        model_space_to_uint8(np.array([np.nan]))


def test_count_routes_caps_and_empties():
    open_grid = np.ones((9, 9), bool)
    count, capped, _ = count_routes(open_grid, (0, 0), (8, 8), max_count=10)
    assert (count, capped) == (10, True)
    assert count_routes(np.zeros((9, 9), bool), (0, 0), (8, 8)) == (0, False, [])


def test_to_dict_is_json_safe():
    import json

    d = cos_metrics(steps(BOTH, ONE), MAZE).to_dict()
    assert json.loads(json.dumps(d))["candidates"] == [2, 1]
    assert d["answers"][-1] == [list(u) for u in sorted(TOP)]
