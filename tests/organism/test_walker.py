"""The walking organism: expert switch and guidance capture against raw hooks, the walk scorer on
hand-made walks (against the maze scorer as oracle for the final route) and on the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.models import load_model
from interp.models.walker import WalkerModel, sample_walker
from interp.organism.walk_model import WalkConfig, build_walker, walk_transformer_config
from interp.tasks.render import FLOOR, PATH
from interp.tasks.score import score_labels
from interp.tasks.walk import AGENT, KEY, decode_walk_labels, first_frame_labels, generate_walk_maze, render_walk, walk_labels
from interp.tasks.walk_score import score_walk, score_walk_labels

STEPS = 10


@pytest.fixture(scope="module")
def tiny():
    walker = build_walker(WalkConfig(), walk_transformer_config(num_layers=2, num_attention_heads=2,
                                                                attention_head_dim=12, ffn_dim=16, freq_dim=16), seed=0)
    with torch.no_grad():  # the two experts must differ for the switch to be visible in values
        for p in walker.transformer_2.parameters():
            p.add_(0.05 * torch.randn_like(p))
    walk = generate_walk_maze(4, seed=3)
    frame = render_walk(first_frame_labels(walk), 2)
    return WalkerModel(walker.eval()), frame


def test_expert_per_step_follows_the_boundary_and_each_expert_runs_only_on_its_steps(tiny):
    model, frame = tiny
    inputs = model.prepare(first_frame=frame, seeds=[0], prompt="key", guidance_scale=3.0)
    calls, handles = [], []
    for name, module in model.experts.items():
        handles.append(module.register_forward_pre_hook(
            lambda m, a, name=name: calls.append((name, model.current_call.step, model.current_call.branch,
                                                  model.current_call.expert))))
    try:
        result = model(inputs, num_steps=STEPS, progress=False)
    finally:
        for h in handles:
            h.remove()
    want = ["transformer" if t >= 1000 * model.organism.config.boundary else "transformer_2" for t in result.timesteps]
    assert result.experts == want
    assert set(want) == {"transformer", "transformer_2"}  # the schedule crosses the boundary
    # two calls per step (cond, then uncond), each by the step's expert, labelled with it
    assert [(c[1], c[2]) for c in calls] == [(s, b) for s in range(STEPS) for b in ("cond", "uncond")]
    assert all(name == want[step] == label for name, step, _, label in calls)


def test_single_expert_model_runs_that_expert_at_every_step(tiny):
    model, frame = tiny
    alone = WalkerModel(model.organism, experts=("transformer_2",))
    inputs = alone.prepare(first_frame=frame, seeds=[0], guidance_scale=1.0)
    assert alone(inputs, num_steps=4, progress=False).experts == ["transformer_2"] * 4
    assert inputs.uncond is None


def test_both_guidance_branches_are_captured_equal_to_raw_hooks(tiny):
    from interp.interventions import run_with_cache

    model, frame = tiny
    inputs = model.prepare(first_frame=frame, seeds=[1], prompt="goal", guidance_scale=4.0)
    seen, handles = {}, []
    for name in model.experts:
        def hook(module, args, output, name=name):
            label = model.current_call
            seen[(label.step, label.branch)] = (name, output.detach().clone())
        handles.append(model.site_module("blocks.1.resid_post", name).register_forward_hook(hook))
    try:
        out = run_with_cache(model, inputs, ["blocks.1.resid_post"], branches=("cond", "uncond"), num_steps=4,
                             progress=False)
    finally:
        for h in handles:
            h.remove()
    assert len(seen) == 8
    for (step, branch), (name, value) in seen.items():
        assert out.result.experts[step] == name
        torch.testing.assert_close(out.cache.get("blocks.1.resid_post", step, branch), value, rtol=0, atol=0)
    # the branches differ: the empty prompt is not the task prompt
    assert not torch.equal(out.cache.get("blocks.1.resid_post", 0, "cond"), out.cache.get("blocks.1.resid_post", 0, "uncond"))


# -- the walk scorer on hand-made walks ------------------------------------------------------------
WALKS = [generate_walk_maze(size, seed) for size, seed in [(5, 0), (7, 1), (9, 2), (6, 4)]]


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: f"{w.size}x{w.size}")
@pytest.mark.parametrize("target", ["goal", "key"])
def test_correct_walk_passes_and_the_other_target_fails(walk, target):
    other = "key" if target == "goal" else "goal"
    video = render_walk(walk_labels(walk, target, 16), 2)
    assert score_walk(video, walk, target).exact
    assert not score_walk(render_walk(walk_labels(walk, other, 16), 2), walk, target).exact


def _wall_jump_unit(walk, route, i):
    """A floor unit next to ``route[i]`` across a wall unit, off the route (a jump through the wall)."""
    walls, U = walk.maze.walls, walk.maze.units
    for dr, dc in ((0, 2), (2, 0), (0, -2), (-2, 0)):
        r, c = route[i][0] + dr, route[i][1] + dc
        if 0 < r < U and 0 < c < U and walls[route[i][0] + dr // 2, route[i][1] + dc // 2] \
                and not walls[r, c] and (r, c) not in route:
            return (r, c)
    return None


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: f"{w.size}x{w.size}")
def test_jump_through_a_wall_fails(walk):
    labels = walk_labels(walk, "goal", 16)
    route = walk.routes("goal")[0]
    for f in range(1, 13):
        i = route.index(tuple(int(v) for v in np.argwhere(labels[f] == AGENT)[0]))
        jump = _wall_jump_unit(walk, route, i)
        if jump is not None:
            bad = labels.copy()
            bad[f][route[i]] = PATH
            bad[f][jump] = AGENT
            score = score_walk(render_walk(bad, 2), walk, "goal")
            assert not score.exact and not score.in_order and score.exact_route
            assert "off the route" in score.failure
            return
    pytest.skip("no wall next to the route in this maze")


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: f"{w.size}x{w.size}")
def test_out_of_order_walk_and_two_agents_fail(walk):
    labels = walk_labels(walk, "key", 16)
    swapped = labels.copy()
    swapped[[1, 2]] = swapped[[2, 1]]  # frames 1 and 2 differ on every route (8 units or more)
    score = score_walk_labels(swapped, walk, "key")
    assert score.exact_route and not score.in_order and not score.exact
    doubled = labels.copy()
    doubled[2][np.nonzero(doubled[1] == AGENT)] = AGENT
    assert not score_walk_labels(doubled, walk, "key").agent_per_frame
    no_trail = labels.copy()
    no_trail[6][no_trail[6] == PATH] = FLOOR
    assert not score_walk_labels(no_trail, walk, "key").trail_ok


def _as_maze_labels(labels, walk, target):
    """Walk labels in the maze scorer's alphabet: the agent is path, the other marker floor."""
    out = labels.copy()
    out[out == AGENT] = PATH
    other = walk.key if target == "goal" else walk.maze.goal
    out[:, other[0], other[1]] = FLOOR
    return out


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: f"{w.size}x{w.size}")
def test_final_route_agrees_with_the_maze_scorer(walk):
    rng = np.random.default_rng(0)
    for target in ("goal", "key"):
        target_maze = walk.target_maze(target)
        labels = walk_labels(walk, target, 16)
        for trial in range(12):
            bad = labels.copy()
            if trial:  # flip random floor units of the last frame to path or path units to floor
                r, c = rng.integers(1, walk.maze.units - 1, 2)
                if bad[-1, r, c] in (FLOOR, PATH):
                    bad[-1, r, c] = PATH if bad[-1, r, c] == FLOOR else FLOOR
            mine = score_walk_labels(bad, walk, target).exact_route
            assert mine == score_labels(_as_maze_labels(bad, walk, target), target_maze).exact


# -- the shipped weights ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return load_model("walker")


def test_shipped_walker_loads_by_name_with_two_experts(shipped):
    assert isinstance(shipped, WalkerModel)
    assert list(shipped.experts) == ["transformer", "transformer_2"]
    assert shipped.boundary_timestep == 1000 * shipped.organism.config.boundary
    assert shipped.organism.config.prompts[0] == ""
    assert not torch.equal(shipped.transformer.blocks[0].ffn.net[0].proj.weight,
                           shipped.transformer_2.blocks[0].ffn.net[0].proj.weight)


def test_shipped_walker_walks_a_held_out_maze_to_the_prompted_target(shipped):
    # held-out maze 9 at 5x5 (noise seed 9) is solved for both prompts in the card's evaluation
    from interp.organism.walk_eval import first_frames

    walk = generate_walk_maze(5, 9)
    frames = first_frames([walk, walk], shipped.organism.config.px_per_unit)
    videos = {p: sample_walker(shipped, frames[:1], prompt=p, seed=[9]).video[0] for p in ("goal", "key")}
    for target, video in videos.items():
        score = score_walk(video, walk, target)
        assert score.exact, score.failure
        labels = decode_walk_labels(video, walk.maze.units)
        assert (labels[0] == first_frame_labels(walk)).mean() > 0.95
        assert score_labels(_as_maze_labels(labels, walk, target), walk.target_maze(target)).exact
    # the prompt changes the answer: the goal walk is not a walk to the key
    assert not score_walk(videos["goal"], walk, "key").exact
    assert KEY in np.asarray(first_frame_labels(walk))


@pytest.mark.parametrize("name", ["interp.tasks.walk", "interp.tasks.walk_score", "interp.organism.walk_model"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_plain_maze_image_becomes_a_walk_frame_with_agent_and_key():
    from interp.tasks import generate_maze, render_maze
    from interp.tasks.render import WALL
    from interp.tasks.walk import as_walk_first_frame

    maze = generate_maze(6, 2)
    labels = decode_walk_labels(as_walk_first_frame(render_maze(maze, upto=0)), maze.units)[0]
    assert [tuple(u) for u in np.argwhere(labels == AGENT)] == [maze.start]
    assert len(np.argwhere(labels == KEY)) == 1 and np.array_equal(labels == WALL, maze.walls)
    walk = generate_walk_maze(6, 2)
    frame = render_walk(first_frame_labels(walk), 2)
    assert np.array_equal(as_walk_first_frame(frame), frame)  # a walk frame is kept as it is
    with pytest.raises(Exception, match="start"):
        as_walk_first_frame(np.full((26, 26, 3), 255, np.uint8))


def test_cos_trace_on_the_walker_labels_both_experts_and_both_branches(tmp_path):
    from interp.cli.main import main
    from interp.store import TraceStore

    tasks, trace = tmp_path / "tasks", tmp_path / "trace.h5"
    assert main(["tasks", "make", "--sizes", "4", "--count", "1", "--seed", "900010", "--frames", "16",
                 "--out", str(tasks)]) == 0
    assert main(["trace", "--model", "maze-walk-tiny", "--task", str(tasks), "--out", str(trace), "--sites",
                 "resid_post,x0", "--layers", "1", "--num-steps", "2", "--seeds", "0", "--branch", "cond,uncond"]) == 0
    with TraceStore.open(trace) as store:
        sample = store.sample_ids()[0]
        assert store.meta(sample)["experts"] == ["transformer", "transformer_2"]  # sigmas 1.0 and 0.75
        cond = store.read(sample, "blocks.1.resid_post", branch="cond", steps=[0, 1])
        uncond = store.read(sample, "blocks.1.resid_post", branch="uncond", steps=[0, 1])
        assert cond.shape == uncond.shape and not np.array_equal(cond, uncond)
