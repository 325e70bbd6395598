"""``cos tasks``: make and score end to end, and clean failures (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from interp.cli.main import main
from interp.tasks import FLOOR, generate_maze, label_grid, render_labels
from interp.tasks.vbvr import load_task
from interp.tasks.video_io import write_video


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("tasks")
    assert main(["tasks", "make", "--sizes", "4", "6", "--count", "2", "--seed", "3", "--frames", "5",
                 "--px", "3", "--extra-openings", "0.2", "--video-format", "png", "--out", str(out)]) == 0
    return out


def test_make_writes_one_folder_per_maze(made):
    names = sorted(p.name for p in made.iterdir())
    assert names == ["maze4_s3", "maze4_s4", "maze6_s3", "maze6_s4"]
    task = load_task(made / "maze6_s4")
    assert task.maze == generate_maze(6, 4, extra_openings=0.2)
    assert task.ground_truth.shape == (5, 39, 39, 3) and task.px_per_unit == 3


def test_score_ground_truth_and_a_broken_video(made, tmp_path, capsys):
    folder = made / "maze6_s3"
    maze = load_task(folder).maze
    labels = label_grid(maze)
    labels[maze.route[len(maze.route) // 2]] = FLOOR
    broken = write_video(tmp_path / "broken.gif", render_labels(np.stack([label_grid(maze, upto=0), labels]), px_per_unit=3))
    report = tmp_path / "scores.json"
    code, out, _ = run(["tasks", "score", str(folder / "ground_truth"), str(broken), "--task", str(folder),
                        "--json", str(report)], capsys)
    assert code == 0
    header, first, second = out.strip().splitlines()
    assert header.split()[:3] == ["video", "mode", "exact"] and "yes" in first and "0.800" in second
    scores = json.loads(report.read_text())["scores"]
    assert scores[0]["exact"] is True and scores[0]["vbvr_score"] == 1.0
    assert scores[1]["connected"] == 0.0 and scores[1]["vbvr_score"] == pytest.approx(0.8)


def test_score_in_image_mode_for_a_vbvr_bench_folder(made, tmp_path, capsys):
    ours = load_task(made / "maze4_s3")
    bench = tmp_path / "bench"
    bench.mkdir()
    Image.fromarray(ours.first_frame).save(bench / "first_frame.png")
    (bench / "prompt.txt").write_text("Solve the maze.")
    video = write_video(tmp_path / "answer.npy", ours.ground_truth[-1:])  # last frame only
    code, out, _ = run(["tasks", "score", str(video), "--task", str(bench), "--json", str(tmp_path / "s.json")], capsys)
    assert code == 0 and " image " in out
    score = json.loads((tmp_path / "s.json").read_text())["scores"][0]
    assert score["mode"] == "image" and score["vbvr_score"] == 1.0 and score["exact"] is None


@pytest.mark.parametrize(
    "argv,message",
    [
        (["tasks", "make", "--sizes", "5", "13"], "maze size 13 is out of range"),
        (["tasks", "make", "--palette", "neon"], "unknown palette 'neon'"),
        (["tasks", "make", "--frames", "1"], "frames 1 is out of range"),
        (["tasks", "make", "--extra-openings", "2"], "extra_openings 2.0 is out of range"),
        (["tasks", "make", "--sizes", "4", "--min-route-cells", "16", "--extra-openings", "1"], "too long"),
    ],
)
def test_make_bad_input_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    code, _, err = run(argv + ["--out", str(out)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_make_refuses_a_foreign_folder(tmp_path, capsys):
    target = tmp_path / "out" / "maze5_s0"
    target.mkdir(parents=True)
    (target / "mine.txt").write_text("keep")
    code, _, err = run(["tasks", "make", "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "overwrite" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


def test_score_bad_input_writes_nothing(made, tmp_path, capsys):
    folder = made / "maze6_s3"
    (tmp_path / "empty.gif").write_bytes(b"")
    other = made / "maze4_s3" / "ground_truth"
    report = tmp_path / "scores.json"
    for videos, message in [
        ([str(tmp_path / "empty.gif")], "cannot read video"),
        ([str(folder / "ground_truth"), str(tmp_path / "missing.mp4")], "does not exist"),
        ([str(other)], "does not show this maze"),
    ]:
        code, out, err = run(["tasks", "score", *videos, "--task", str(folder), "--json", str(report)], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""
        assert not report.exists()


def test_cos_command_runs_as_a_process(made, tmp_path):
    cos = Path(sys.executable).with_name("cos")
    command = [str(cos)] if cos.exists() else [sys.executable, "-m", "interp.cli.main"]
    folder = made / "maze4_s4"
    done = subprocess.run(command + ["tasks", "score", str(folder / "ground_truth"), "--task", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "yes" in done.stdout
    done = subprocess.run(command + ["tasks", "make", "--sizes", "99", "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip() == "cos: error: maze size 99 is out of range: choose 4..12"
    assert not (tmp_path / "x").exists()
