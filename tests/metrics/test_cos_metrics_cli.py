"""cos cos_metrics on a hand-written trace store of hand-painted x0_hat videos."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hand_videos import ROUND, TOP, frames, hand_maze, inner, steps

from interp.cli.main import main
from interp.store import TraceWriter
from interp.tasks import generate_maze, ground_truth_video

SPEC = {"sites": {"x0": {"kind": "x0", "layer": None, "tokens": "all", "branches": ["guided"]}}, "steps": [0, 1, 2, 3]}


def write_store(path, samples):
    """``samples``: {id: (maze or None, uint8 [S, F, H, W, 3])}; x0 stored in model space [-1, 1]."""
    with TraceWriter(path, model_name="toy", fingerprint="abc", spec=SPEC) as store:
        for sid, (maze, video) in samples.items():
            task = {} if maze is None else {"maze": maze.to_dict(), "palette": "default"}
            sample = store.begin(sid, seed=0, task=task)
            S, F, H, W, _ = video.shape
            grid = np.stack(np.meshgrid(np.arange(F), np.arange(H), np.arange(W), indexing="ij"), -1).reshape(-1, 3)
            sample.set_token_grid("x0", grid)
            for step in range(S):
                sample.write("x0", "guided", step, (video[step].astype(np.float32) / 127.5 - 1.0).reshape(-1, 3))
            sample.commit()
    return path


@pytest.fixture
def store(tmp_path):
    maze = hand_maze()
    both, one = frames(maze, {**inner(TOP), **inner(ROUND)}), frames(maze, inner(TOP))
    other = generate_maze(4, seed=0)      # a store holds one size (one token grid)
    solved = ground_truth_video(other, 3, px_per_unit=3)
    return write_store(tmp_path / "trace.h5", {
        "hand": (maze, steps(both, both, one, one)),
        "generated": (other, steps(solved, solved, solved, solved)),
    })


def test_cli_writes_metrics_and_figure(store, tmp_path, capsys):
    out = tmp_path / "metrics"
    assert main([ "cos-metrics", str(store), "--out", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text())
    hand = result["samples"]["hand"]
    assert hand["candidates"] == [2, 2, 1, 1] and hand["commitment_step"] == 2 and hand["self_corrected"]
    assert result["samples"]["generated"]["candidates"] == [1, 1, 1, 1]
    agg = result["aggregate"]
    assert agg["n"] == 2 and agg["steps"] == [0, 1, 2, 3]
    assert agg["per_step"]["candidates"]["mean"] == [1.5, 1.5, 1.0, 1.0]
    assert agg["per_step"]["answer_correct"]["mean"] == [0.5, 0.5, 1.0, 1.0]
    assert agg["per_sample"]["final_correct"]["mean"] == 1.0
    assert list(result["by_size"]) == ["4"] and result["by_size"]["4"]["n"] == 2
    from PIL import Image

    assert Image.open(out / "cos_metrics.png").size[0] > 800
    assert "2 samples" in capsys.readouterr().out


def test_cli_selects_samples_and_refuses_bad_input(store, tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["cos-metrics", str(store), "--out", str(out), "--samples", "hand", "--threshold", "0.3"]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert list(result["samples"]) == ["hand"] and result["threshold"] == 0.3
    assert main(["cos-metrics", str(store), "--out", str(tmp_path / "bad"), "--samples", "nope"]) == 2
    assert "unknown samples ['nope']" in capsys.readouterr().err
    assert main(["cos-metrics", str(store), "--out", str(tmp_path / "bad"), "--threshold", "0"]) == 2
    assert "--threshold 0" in capsys.readouterr().err


def test_cli_measures_samples_without_a_maze_by_distance_to_their_last_step(tmp_path):
    """No maze to read routes from: the estimate that never changes is at its answer from step 0."""
    video = steps(*[frames(hand_maze(), inner(TOP))] * 4)
    path = write_store(tmp_path / "bare.h5", {"s0": (None, video)})
    assert main(["cos-metrics", str(path), "--out", str(tmp_path / "m")]) == 0
    record = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert record["per_step"]["distance_to_final"]["values"] == [[0.0]] * 4
    assert record["per_input"]["commitment_step"] == [0]
