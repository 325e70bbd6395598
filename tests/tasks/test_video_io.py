"""Video I/O: exact round trips per format, dtype conversion rules, clean errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from interp.errors import InputError
from interp.tasks import generate_maze, ground_truth_video
from interp.tasks.video_io import has_ffmpeg, read_video, to_uint8, write_video

FORMATS = ["v.gif", "v.npy", "frames"] + (["v.mp4"] if has_ffmpeg() else [])


@pytest.fixture(scope="module")
def video():
    frames = ground_truth_video(generate_maze(5, seed=0), 5)
    return np.concatenate([frames, frames[-1:]])  # a repeated frame must survive too


@pytest.mark.parametrize("name", FORMATS)
def test_round_trip_is_exact(tmp_path, video, name):
    path = write_video(tmp_path / name, video)
    back = read_video(path)
    assert back.dtype == np.uint8 and np.array_equal(back, video)


def test_png_folder_overwrites_stale_frames(tmp_path, video):
    write_video(tmp_path / "f", video)
    write_video(tmp_path / "f", video[:2])
    assert read_video(tmp_path / "f").shape[0] == 2


def test_png_folder_in_natural_order(tmp_path):
    frames = np.arange(12, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3)
    (tmp_path / "f").mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(tmp_path / "f" / f"frame_{i}.png")
    assert np.array_equal(read_video(tmp_path / "f"), frames)


def test_to_uint8_range_rules(video):
    as_float = video.astype(np.float32) / 255.0
    assert np.array_equal(to_uint8(as_float), video)
    assert np.array_equal(to_uint8(as_float * 2.0 - 1.0), video)
    assert to_uint8(video[0]).shape == (1,) + video.shape[1:]
    rgba = np.concatenate([video, np.full(video.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    assert np.array_equal(to_uint8(rgba), video)
    torch = pytest.importorskip("torch")
    assert np.array_equal(to_uint8(torch.from_numpy(as_float * 2 - 1).to(torch.float64)), video)
    assert np.abs(to_uint8(torch.from_numpy(as_float).bfloat16()).astype(int) - video).max() <= 1
    with pytest.raises(InputError, match="expected \\[0, 1\\] or \\[-1, 1\\]"):
        to_uint8(video.astype(np.float32))
    with pytest.raises(InputError, match="not frames x height x width x 3"):
        to_uint8(np.zeros((2, 4, 4, 2)))
    with pytest.raises(InputError, match="not frames"):
        to_uint8(np.zeros((0, 4, 4, 3), np.uint8))


def test_unreadable_and_empty_videos(tmp_path):
    (tmp_path / "junk.gif").write_text("not a gif")
    (tmp_path / "junk.mp4").write_text("not a video")
    (tmp_path / "empty").mkdir()
    np.save(tmp_path / "empty.npy", np.zeros((0, 4, 4, 3), np.uint8))
    for name, message in [
        ("junk.gif", "cannot read video"),
        ("junk.mp4", "cannot read video" if has_ffmpeg() else "imageio"),
        ("empty", "no .png frames"),
        ("empty.npy", "no frames"),
        ("missing.mp4", "does not exist"),
    ]:
        with pytest.raises(InputError, match=message):
            read_video(tmp_path / name)
    (tmp_path / "v.txt").write_text("x")
    with pytest.raises(InputError, match="unknown video type"):
        read_video(tmp_path / "v.txt")
    (tmp_path / "task").mkdir()
    (tmp_path / "task" / "first_frame.png").write_bytes(b"")
    with pytest.raises(InputError, match="is a task folder"):
        read_video(tmp_path / "task")
    with pytest.raises(InputError, match="cannot write"):
        write_video(tmp_path / "v.avi", np.zeros((1, 4, 4, 3), np.uint8))
    assert not (tmp_path / "v.avi").exists()
