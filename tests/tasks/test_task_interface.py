"""The task interface: optional hooks, single inputs without partners, and the generic distance."""

from __future__ import annotations

import numpy as np
import pytest

from interp.errors import InputError
from interp.tasks import make_pairs
from interp.tasks.input_pairs import InputPairTask
from interp.tasks.interface import HOOKS, Distance, PairTask, hook, is_paired
from interp.tasks.maze_task import MazePairTask


def test_hooks_are_found_where_a_task_has_them():
    maze = MazePairTask(make_pairs(5, 1, seed=0))
    prompts = InputPairTask([{"prompt": "a"}], [{"prompt": "b"}])
    assert set(HOOKS) == {"summarise", "answer_map"}
    assert hook(maze, "summarise") == maze.summarise and hook(maze, "answer_map") == maze.answer_map
    assert hook(prompts, "summarise") is None and hook(prompts, "answer_map") is None
    with pytest.raises(InputError, match="unknown task hook"):
        hook(maze, "nope")
    assert isinstance(maze, PairTask) and isinstance(prompts, PairTask)


def test_single_inputs_have_no_partner():
    task = InputPairTask.from_prompt_list(["a red ball", "a cat"])
    assert not is_paired(task) and is_paired(InputPairTask([{"prompt": "a"}], [{"prompt": "b"}]))
    assert is_paired(MazePairTask(make_pairs(5, 1, seed=0)))
    assert task.num_pairs() == 2 and task.describe()["corrupt"] is None
    with pytest.raises(InputError, match="no corrupted partners"):
        task.inputs(None, "corrupt", [0, 1])
    with pytest.raises(InputError, match="at least one prompt"):
        InputPairTask.from_prompt_list([])


def test_distance_without_partners_against_numpy():
    rng = np.random.default_rng(0)
    clean, out = rng.normal(size=(3, 4, 2, 2, 2)), rng.normal(size=(2, 4, 2, 2, 2))
    values = Distance(clean, None)(out, [2, 0])
    d = np.sqrt(((out - clean[[2, 0]]) ** 2).reshape(2, -1).mean(1))
    size = np.sqrt((clean[[2, 0]] ** 2).reshape(2, -1).mean(1))
    np.testing.assert_allclose(values["clean_distance"], d)
    np.testing.assert_allclose(values["relative_distance"], d / size)
    assert set(values) == {"clean_distance", "relative_distance"}


def test_distance_with_partners_puts_the_midpoint_at_zero():
    clean, corrupt = np.zeros((1, 8)), np.ones((1, 8))
    values = Distance(clean, corrupt)(np.full((1, 8), 0.5), [0])
    np.testing.assert_allclose(values["preference"], 0.0, atol=1e-12)
    np.testing.assert_allclose(values["clean_distance"], 0.5)
