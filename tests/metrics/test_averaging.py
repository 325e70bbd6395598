"""The averaging control: the ancestral sampler draws from the forward process's reverse, and the
candidate gap tells a mean of answers from an estimate that draws more."""

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.metrics.averaging import (ancestral_step, averaging_rule, candidate_gap, mean_video,
                                      posterior_draws)
from interp.organism.tiny import tiny_organism
from interp.interventions import observe, run
from interp.tasks import generate_maze, ground_truth_video


def test_ancestral_step_keeps_the_forward_marginal():
    # x_a = (1-a) x0 + a eps; one reverse draw to b must be distributed as (1-b) x0 + b eps'
    g = torch.Generator().manual_seed(0)
    n, a, b = 200_000, 0.8, 0.3
    x0 = torch.full((n,), 0.6)
    x_a = (1 - a) * x0 + a * torch.randn(n, generator=g)
    x_b = ancestral_step(x_a, x0, a, b, torch.randn(n, generator=g))
    assert abs(float(x_b.mean()) - (1 - b) * 0.6) < 0.01
    assert abs(float(x_b.std()) - b) < 0.01
    # and the joint is the forward chain's (x_a = r x_b + noise, r = (1-a)/(1-b)): corr = r b / a, not 0
    r = (1 - a) / (1 - b)
    assert abs(float(torch.corrcoef(torch.stack([x_a, x_b]))[0, 1]) - r * b / a) < 0.01
    assert torch.equal(ancestral_step(x_a, x0, a, 0.0, torch.zeros(n)), x0)
    with pytest.raises(InputError, match="higher to a lower"):
        ancestral_step(x_a, x0, 0.3, 0.5, x_a)


def test_posterior_draws_differ_early_and_agree_with_euler_at_the_last_step(one_torch_thread):
    model, inputs = tiny_organism(maze_seeds=(0,), seeds=(3,))
    steps = 4
    euler = run(model, inputs, observe("x_t"), num_steps=steps, progress=False)
    states = {s: euler.at("x_t", s) for s in range(steps)}
    last = posterior_draws(model, inputs.take([0], latents=states[steps - 1]), step=steps - 1, num_steps=steps,
                           draws=2)
    assert last.shape[:2] == (2, 1)
    assert np.array_equal(last[0, 0], euler.video[0]) and np.array_equal(last[1, 0], euler.video[0])
    early = posterior_draws(model, inputs.take([0], latents=states[1]), step=1, num_steps=steps, draws=3, seed=5)
    assert not np.array_equal(early[0, 0], early[1, 0])
    again = posterior_draws(model, inputs.take([0], latents=states[1]), step=1, num_steps=steps, draws=3, seed=5)
    assert np.array_equal(early, again)                                          # seeded


def _two_route_maze():
    for seed in range(200):
        maze = generate_maze(5, seed)
        if len(maze.routes) >= 2:
            return maze
    raise AssertionError("no two-route maze")


def test_candidate_gap_is_zero_for_the_mean_of_answers_and_positive_for_an_extra_route():
    maze = _two_route_maze()
    videos = np.stack([ground_truth_video(maze, 3, route_index=i, px_per_unit=2) for i in range(2)])
    finals = videos[[0, 1, 0, 1]]
    blend = mean_video(finals)
    gap = candidate_gap(blend, finals, maze, threshold=0.25)
    assert gap["x0"] == gap["mean"] == 2 and gap["gap"] == 0
    assert gap["one_draw_gap"] <= 0
    one_answer = candidate_gap(blend, videos[[0, 0, 0]], maze, threshold=0.25)    # all draws take route 0
    assert one_answer["mean"] == 1 and one_answer["gap"] == 1
    assert averaging_rule([1, 1, 2, 1])[0] and not averaging_rule([0, 1, -1, 0])[0]
    assert averaging_rule([])[1]["n"] == 0
