"""No command deletes or overwrites what a user made unless asked (``--overwrite``), and arguments
are checked before anything is touched."""

from __future__ import annotations

import numpy as np
import pytest

from interp.errors import InputError
from interp.store import TraceStore, TraceWriter
from interp.store import layout
from interp.tasks import generate_maze
from interp.tasks.vbvr import load_task, save_task

from reliability_helpers import TASK, assert_one_line_error, tree

SPEC = {"sites": {"x0": {"branches": ["guided"]}}, "steps": [0, 1, 2, 3]}


def user_store(folder):
    """A store the user made: an index and a folder of per-sample files."""
    (folder / "trace.h5.d").mkdir(parents=True)
    (folder / "trace.h5").write_bytes(b"the user's index")
    (folder / "trace.h5.d" / "mine.h5").write_bytes(b"the user's sample")
    return tree(folder)


def test_demo_with_a_bad_size_touches_nothing(tmp_path, cos):
    before = user_store(tmp_path)
    assert_one_line_error(*cos("demo", "--size", "3", "--out", tmp_path)[::2], "3")
    assert tree(tmp_path) == before


def test_demo_keeps_a_users_store_without_overwrite(tmp_path, cos):
    before = user_store(tmp_path)
    assert_one_line_error(*cos("demo", "--num-steps", "1", "--out", tmp_path)[::2], "trace.h5", "--overwrite")
    assert tree(tmp_path) == before


def write_samples(path, spec, ids):
    with TraceWriter(path, model_name="toy", fingerprint="abc", spec=spec) as writer:
        for sample_id in ids:
            sample = writer.begin(sample_id, seed=0)
            for step in spec["steps"]:
                sample.write("x0", "guided", step, np.full((4, 3), step, np.float16))
            sample.commit()


def test_samples_of_another_spec_are_kept_when_the_index_is_missing(tmp_path):
    path = tmp_path / "X.h5"
    write_samples(path, SPEC, ["a", "b", "c"])
    path.unlink()
    before = tree(layout.data_dir(path))
    with pytest.raises(InputError, match="another run") as err:
        write_samples(path, {**SPEC, "steps": [0, 1, 2, 3, 4]}, ["d"])
    assert "a.h5" in str(err.value)
    assert tree(layout.data_dir(path)) == before
    assert not path.exists()


def test_samples_of_the_same_spec_are_adopted_when_the_index_is_missing(tmp_path):
    path = tmp_path / "X.h5"
    write_samples(path, SPEC, ["a", "b"])
    path.unlink()
    write_samples(path, SPEC, ["c"])
    assert TraceStore.open(path).sample_ids() == ["a", "b", "c"]


def test_cos_trace_keeps_samples_of_another_spec(tmp_path, task, cos):
    out = tmp_path / "X.h5"
    assert cos("trace", "--task", task, "--num-steps", "2", "--layers", "0", "--seeds", "0-1", "--out", out)[0] == 0
    out.unlink()
    before = tree(layout.data_dir(out))
    code, _, err = cos("trace", "--task", task, "--num-steps", "3", "--layers", "0", "--seeds", "9", "--out", out)
    assert_one_line_error(code, err, "another run")
    assert tree(layout.data_dir(out)) == before


def test_failed_task_write_leaves_no_half_folder_and_a_rerun_works(tmp_path):
    maze = generate_maze(5, seed=0)
    folder = tmp_path / "maze5_s0"
    with pytest.raises(UnicodeEncodeError):  # fails after the images are written
        save_task(maze, folder, video_format="png", prompt="\ud800")
    assert not folder.exists()
    assert [p.name for p in tmp_path.iterdir()] == []
    save_task(maze, folder, video_format="png")
    assert load_task(folder).maze == maze


def test_failed_task_rewrite_keeps_the_old_task(tmp_path):
    maze = generate_maze(5, seed=0)
    folder = save_task(maze, tmp_path / "maze5_s0", video_format="png")
    before = tree(folder)
    with pytest.raises(UnicodeEncodeError):
        save_task(maze, folder, video_format="png", prompt="\ud800")
    assert tree(folder) == before


def test_tasks_make_with_infinite_fps_writes_nothing(tmp_path, cos):
    out = tmp_path / "tasks"
    assert_one_line_error(*cos("tasks", "make", "--fps", "inf", "--out", out)[::2], "inf")
    assert not out.exists()
    assert cos("tasks", "make", "--video-format", "png", "--out", out)[0] == 0
    assert load_task(out / "maze5_s0").maze == generate_maze(5, seed=0)


@pytest.mark.parametrize("name", ["my maze", "labyrinthe-é"])
def test_invalid_sample_id_is_refused_before_anything_is_written(tmp_path, task, cos, name):
    bad = task.parent / name
    task.rename(bad)
    out = tmp_path / "t.h5"
    code, _, err = cos("trace", "--task", bad, "--num-steps", "1", "--layers", "0", "--out", out)
    assert_one_line_error(code, err, "invalid sample id", "rename the task folder")
    assert not out.exists() and not layout.data_dir(out).exists()


def test_an_earlier_good_task_is_not_committed_before_a_bad_id(tmp_path, task, cos):
    import shutil

    bad = task.parent / "bad name"
    shutil.copytree(task, bad)
    out = tmp_path / "t.h5"
    code, _, err = cos("trace", "--task", task, bad, "--num-steps", "1", "--layers", "0", "--out", out)
    assert_one_line_error(code, err, "bad name")
    assert not out.exists() and not layout.data_dir(out).exists()


def test_api_capture_refuses_a_path_like_id_before_creating_the_store(tmp_path):
    from interp.capture import CaptureSpec, capture
    from interp.models import load_model

    model = load_model("organism")
    task = load_task(TASK)
    inputs = model.prepare(first_frame=task.first_frame, seeds=[0])
    out = tmp_path / "t.h5"
    with pytest.raises(InputError, match="invalid sample id"):
        capture(model, inputs, CaptureSpec.make(["x0"]), out, num_steps=1, sample_ids=["../evil"], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_writer_checks_the_id_before_creating_a_store(tmp_path):
    writer = TraceWriter(tmp_path / "t.h5", model_name="toy", fingerprint="abc", spec=SPEC)
    with pytest.raises(InputError, match="invalid sample id"):
        writer.begin("../evil")
    writer.close()
    assert list(tmp_path.iterdir()) == []
