"""The walker's own claims on the shipped weights (1 maze, few steps, CPU): hiding the maze, giving
an expert's steps to the other, the rendering error, and a record written end to end."""

import json

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.reproduce import walker_claims as W


@pytest.fixture(scope="module")
def walker():
    from interp.models import load_model

    return load_model("walker")


@pytest.fixture(scope="module")
def walk():
    return W.heldout([5], 1)


def test_hiding_the_maze_changes_only_the_colour_channels_of_the_chosen_frames(walker, walk):
    inputs = W.prepare(walker, walk, seeds=[0])
    floor = walker.organism.frames_to_model(np.full((1, 1, 1, 3), 255, np.uint8))       # the floor is white
    for frames, first in (("all", 0), ("later", 1)):
        hidden = W.hide_maze(walker, inputs, frames).latent_condition
        assert torch.equal(hidden[:, 3], inputs.latent_condition[:, 3])                 # the frame-0 mask kept
        assert torch.equal(hidden[:, :3, :first], inputs.latent_condition[:, :3, :first])
        assert torch.allclose(hidden[:, :3, first:], floor.reshape(3, 1, 1, 1).expand_as(hidden[:, :3, first:]))
        assert not torch.equal(hidden, inputs.latent_condition)
    with pytest.raises(Exception, match="not valid"):
        W.hide_maze(walker, inputs, "some")


def test_restarting_from_the_clean_state_with_the_maze_in_view_is_the_clean_run(walker, walk):
    import dataclasses

    from interp.interventions import observe, run

    inputs = W.prepare(walker, walk, seeds=[0])
    clean = run(walker, inputs, observe("x_t", steps=[2]), num_steps=4, progress=False)
    again = run(walker, dataclasses.replace(inputs, latents=clean.at("x_t", 2).to(inputs.latents)), num_steps=4,
                start_step=2, progress=False)
    assert np.array_equal(again.video, clean.video)
    hidden = run(walker, dataclasses.replace(W.hide_maze(walker, inputs), latents=clean.at("x_t", 2).to(inputs.latents)),
                 num_steps=4, start_step=2, progress=False)
    assert not np.array_equal(hidden.video, clean.video)                               # the edit does something


def test_expert_steps_call_each_expert_on_its_steps_only(walker, walk):
    from interp.interventions import run

    inputs = W.prepare(walker, walk, seeds=[0])
    calls = {"transformer": 0, "transformer_2": 0}
    hooks = [walker.organism.expert(n).register_forward_hook(lambda *_, n=n: calls.__setitem__(n, calls[n] + 1))
             for n in calls]
    try:
        shipped = run(walker, inputs, num_steps=20, end_step=7, decode=False, progress=False)
        assert calls == {"transformer": 12, "transformer_2": 2}                          # steps 0-5 / 6, two branches
        arms = W.specialisation_arms(walker, 20)
        assert arms["both"] == list(range(6)) and arms["without_low"] == list(range(12))
        for arm, expected in (("both", (12, 2)), ("without_high", (0, 14)), ("without_low", (14, 0))):
            calls.update(transformer=0, transformer_2=0)
            with W.expert_steps(walker, arms[arm], 20):
                result = run(walker, inputs, num_steps=20, end_step=7, decode=False, progress=False)
            assert (calls["transformer"], calls["transformer_2"]) == expected, arm
            if arm == "both":
                assert torch.equal(result.latents, shipped.latents)
    finally:
        for h in hooks:
            h.remove()
    assert "expert_for" not in vars(walker)                                              # the switch restored


def test_rendering_error_is_zero_on_a_clean_render_and_grows_with_noise(walk):
    from interp.tasks.walk import walk_video

    video = walk_video(walk[0], "goal", 16)[None]
    noisy = np.clip(video.astype(int) + np.random.default_rng(0).integers(-40, 41, video.shape), 0, 255)
    assert W.render_error(video)[0] == 0.0 and W.render_error(noisy.astype(np.uint8))[0] > 5


def test_first_kept_step_and_the_order_of_perception_and_action():
    flags = np.array([[False, True, True],       # kept from hide step 2 on
                      [True, False, True],       # lost at 2: kept only from 4 (the unhidden run)
                      [False, False, False]])    # never
    assert W._first_kept(flags, [0, 2], 4).tolist() == [2, 4, 5]
    sweep = {"clean": {"exact": [True, True], "walls": [True, True], "walls_other": [False, False]},
             ("all", 0): {"exact": [False, False], "walls": [True, False], "walls_other": [False, False]},
             ("all", 2): {"exact": [True, False], "walls": [True, False], "walls_other": [False, False]}}
    figures, shuffled = W.perception_action_figures(sweep, ks=[0, 2], num_steps=4)
    # maze 0: walls from hide step 0, walk from 2 (perception first); maze 1: both only unhidden (a tie)
    assert figures["share_perception_first"]["value"] == 0.5 and figures["share_tied"]["value"] == 0.5
    assert shuffled["share_perception_first"]["value"] == 0.0 and shuffled["share_action_first"]["value"] == 1.0


def test_memory_claim_writes_a_judged_record_with_its_negative_control(tmp_path, monkeypatch):
    from interp.experiment import walker as walker_runs

    monkeypatch.setitem(walker_runs.PRESETS, "cpu", {**walker_runs.PRESETS["cpu"], "count": 1, "batch": 1,
                                                      "num_steps": 4, "hide_steps": [0, 2]})
    monkeypatch.setattr(walker_runs, "CACHE", tmp_path / "cache")
    argv = ["--preset", "cpu", "--device", "cpu", "--out", str(tmp_path / "out")]
    assert walker_runs.main("working_memory_frames", argv) == 0
    record = json.loads((tmp_path / "out" / "result.json").read_text())
    # the command as run (the walker is the script's default model); a temporary folder by its name alone
    assert record["model"] == "walker"
    assert record["command"] == "python experiments/working_memory_frames.py --preset cpu --device cpu --out out"
    with pytest.raises(InputError, match="walker only"):
        walker_runs.main("working_memory_frames", ["--model", "organism", "--out", str(tmp_path / "o")])
    assert walker_runs.main("working_memory_frames", ["--preset", "cpu", "--replot", "--out", str(tmp_path / "out")]) == 0
    assert record["figures"]["clean_exact"]["n"] == 1 and "kept_hidden_half" in record["figures"]
    assert record["negative_verdict"]["what"].startswith("the maze hidden from step 0")
    assert (tmp_path / "out" / "kept_hidden.png").exists()


def test_maze_tools_read_a_walkers_answer_as_a_walk(walker):
    from interp.causal.maze import outcomes
    from interp.models import load_model
    from interp.tasks import generate_maze
    from interp.tasks.score import score_output
    from interp.tasks.walk import as_walk_first_frame, first_frame_labels, render_walk, walk_for_maze, walk_video
    from interp.tasks.walk_score import WalkScorer, scorer_for

    maze = generate_maze(5, seed=3)
    walk = walk_for_maze(maze)
    frame = render_walk(first_frame_labels(walk), 2)
    assert np.array_equal(as_walk_first_frame(_plain_image(walk), 2), frame)       # the key the adapter places
    good = walk_video(walk, "goal", 16)
    jumped = good.copy()
    jumped[1], jumped[2] = good[2], good[1]                                        # the agent steps back: route still right
    assert not np.array_equal(good[1], good[2])
    scorer = scorer_for(walker)
    assert isinstance(scorer, WalkScorer) and scorer_for(load_model("organism")) is None
    assert score_output(jumped, maze).exact                                        # the maze scorer reads the route only
    result, _ = outcomes(np.stack([good, jumped]), [maze, maze], scorer=scorer)
    assert result.exact.tolist() == [True, False] and result.valid.tolist() == [True, True]


def _plain_image(walk):
    from interp.tasks.render import render_maze

    return render_maze(walk.maze, upto=0, px_per_unit=2)        # the bare maze, as maze tools render it


def test_cos_probe_reads_a_walker_trace_per_guidance_branch(tmp_path):
    from interp.cli.main import main

    tasks, trace, out = tmp_path / "tasks", tmp_path / "trace.h5", tmp_path / "probe"
    assert main(["tasks", "make", "--sizes", "5", "--count", "4", "--seed", "900100", "--frames", "16",
                 "--out", str(tasks)]) == 0
    assert main(["trace", "--model", "walker", "--task", str(tasks), "--out", str(trace), "--sites", "resid_post",
                 "--layers", "4", "--num-steps", "2", "--seeds", "0", "--branch", "cond,uncond"]) == 0
    assert main(["probe", str(trace), "--out", str(out), "--targets", "wall", "route", "--n-boot", "20",
                 "--min-test-mazes", "1"]) == 0
    report = (out / "report.md").read_text()           # walls are decodable from either branch's tokens
    assert "| cond/wall | perception | yes |" in report and "| uncond/wall | perception | yes |" in report
    assert "| cond/route | reasoning |" in report and "| uncond/route | reasoning |" in report
