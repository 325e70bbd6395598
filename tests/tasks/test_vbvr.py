"""VBVR task folders: exact round trip, foreign folders left intact, VBVR-Bench folders read."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from interp.errors import InputError
from interp.tasks import generate_maze, ground_truth_video
from interp.tasks.vbvr import load_task, save_task
from interp.tasks.video_io import has_ffmpeg

FORMATS = ["png", "gif"] + (["mp4"] if has_ffmpeg() else [])


@pytest.mark.parametrize("video_format", FORMATS)
def test_round_trip_is_exact(tmp_path, video_format):
    maze = generate_maze(6, seed=7, extra_openings=0.3)
    folder = save_task(maze, tmp_path / "t", num_frames=5, px_per_unit=3, palette="colorblind", video_format=video_format)
    task = load_task(folder)
    video = ground_truth_video(maze, 5, palette="colorblind", px_per_unit=3)
    assert task.maze == maze
    assert np.array_equal(task.ground_truth, video)
    assert np.array_equal(task.first_frame, video[0]) and np.array_equal(task.final_frame, video[-1])
    assert "orange" in task.prompt and task.palette == "colorblind" and task.px_per_unit == 3
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["num_frames"] == 5 and meta["maze"]["seed"] == 7 and meta["maze"]["version"] == maze.version


def test_foreign_folder_is_refused_and_left_intact(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    maze = generate_maze(5, seed=1)
    with pytest.raises(InputError, match="not empty"):
        save_task(maze, folder, video_format="png")
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    save_task(maze, folder, video_format="png", overwrite=True)
    assert (folder / "notes.txt").read_text() == "keep me"
    assert load_task(folder).maze == maze


def test_own_folder_can_be_rewritten_in_another_format(tmp_path):
    first, second = generate_maze(5, seed=1), generate_maze(5, seed=2)
    save_task(first, tmp_path / "t", video_format="png")
    save_task(second, tmp_path / "t", video_format="gif", num_frames=3)
    task = load_task(tmp_path / "t")
    assert task.maze == second and task.ground_truth.shape[0] == 3
    assert not list((tmp_path / "t" / "ground_truth").glob("*.png"))


def test_bad_arguments_write_nothing(tmp_path):
    maze = generate_maze(5, seed=1)
    for kwargs in ({"palette": "neon"}, {"num_frames": 1}, {"px_per_unit": 0}, {"video_format": "avi"}, {"fps": 0}):
        with pytest.raises(InputError):
            save_task(maze, tmp_path / "t", **kwargs)
    assert not (tmp_path / "t").exists()


def test_reads_vbvr_bench_folders(tmp_path):
    image = np.zeros((48, 80, 3), np.uint8)
    bench = tmp_path / "bench"
    bench.mkdir()
    Image.fromarray(image).save(bench / "first_frame.png")
    (bench / "prompt.txt").write_text("Solve the maze.\n")
    task = load_task(bench)
    assert task.maze is None and task.prompt == "Solve the maze." and task.ground_truth is None
    assert task.first_frame.shape == (48, 80, 3) and task.final_frame is None and task.metadata == {}
    (bench / "metadata.json").write_text(json.dumps({"task_id": "O-39", "maze": [[1, 0]]}))
    task = load_task(bench)
    assert task.maze is None and task.metadata["task_id"] == "O-39"
    (bench / "metadata.json").write_text("{broken")
    with pytest.raises(InputError, match="not valid JSON"):
        load_task(bench)
    with pytest.raises(InputError, match="no first_frame.png"):
        load_task(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        load_task(tmp_path / "nowhere")


def test_metadata_that_does_not_fit_the_images_is_refused(tmp_path):
    folder = save_task(generate_maze(5, seed=1), tmp_path / "t", video_format="png")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["px_per_unit"] = 3
    (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="describes 33x33"):
        load_task(folder)


def test_task_scores_in_the_right_mode(tmp_path):
    maze = generate_maze(5, seed=3)
    task = load_task(save_task(maze, tmp_path / "t", video_format="png", px_per_unit=3))
    assert task.score(task.ground_truth).mode == "grid" and task.score(task.ground_truth).exact
    bench = tmp_path / "bench"
    bench.mkdir()
    Image.fromarray(task.first_frame).save(bench / "first_frame.png")
    assert load_task(bench).score(task.ground_truth[-1]).mode == "image"


def test_prompt_of_a_palette_without_colour_words():
    from interp.tasks import PALETTES
    from interp.tasks.vbvr import maze_prompt

    PALETTES["grey-test"] = {**PALETTES["default"], "path": (128, 128, 0)}
    try:
        assert "RGB(128, 128, 0)" in maze_prompt("grey-test")
    finally:
        del PALETTES["grey-test"]
