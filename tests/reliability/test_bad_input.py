"""Every bad input or environment error ends ``cos`` with one line and exit code 2, no traceback.

Run in-process (``interp.cli.main.main``), so each case costs milliseconds; the cases that need a
model or a trace share one small trace per module.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib

import pytest
from reliability_helpers import ROOT, assert_one_line_error

ORGANISM = ROOT / "data" / "organisms" / "maze-wan-tiny"


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """A small trace of two samples, written once for the module."""
    from interp.cli.main import main

    out = tmp_path_factory.mktemp("trace") / "t.h5"
    argv = ["trace", "--task", str(ROOT / "data" / "tasks" / "maze5_s0"), "--num-steps", "2", "--layers", "0,1",
            "--seeds", "0-1", "--out", str(out)]
    assert main(argv) == 0
    return out


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("a file, not a folder")
    return path


# -- seeds and numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("seeds, needle", [("3-1", "empty"), (str(2**64), "out of range"), ("0-x", "cannot read"),
                                           ("", "cannot read")])
def test_bad_seed_ranges(task, tmp_path, cos, seeds, needle):
    assert_one_line_error(*cos("trace", "--task", task, "--seeds", seeds, "--out", tmp_path / "t.h5")[::2], needle)


def test_demo_exits_2_on_bad_input(tmp_path, cos):
    assert_one_line_error(*cos("demo", "--size", "3", "--out", tmp_path / "d")[::2], "--size 3")


# -- output locations ----------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["tasks", "make", "--out", "{file}/tasks"],
    ["tasks", "score", "{task}/first_frame.png", "--task", "{task}", "--json", "{file}/s.json"],
    ["trace", "--task", "{task}", "--num-steps", "1", "--out", "{file}/t.h5"],
    ["steps", "--task", "{task}", "--num-steps", "1", "--out", "{file}/g.png"],
    ["probe", "{trace}", "--out", "{file}/probes"],
    ["maps", "{trace}", "--out", "{file}/maps"],
    ["demo", "--out", "{file}/demo"],
])
def test_output_under_a_file(task, trace, a_file, cos, argv):
    argv = [a.format(file=a_file, task=task, trace=trace) for a in argv]
    assert_one_line_error(*cos(*argv)[::2], str(a_file))


def test_output_on_a_full_disk(task, cos):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    code, _, err = cos("tasks", "score", task / "first_frame.png", "--task", task, "--json", "/dev/full")
    assert_one_line_error(code, err, "/dev/full", "full")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
@pytest.mark.parametrize("argv", [
    ["tasks", "make", "--out", "{ro}/tasks"],
    ["trace", "--task", "{task}", "--num-steps", "1", "--out", "{ro}/t.h5"],
    ["steps", "--task", "{task}", "--num-steps", "1", "--out", "{ro}/g.png"],
])
def test_output_in_a_read_only_folder(task, tmp_path, cos, argv):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert_one_line_error(*cos(*[a.format(ro=ro, task=task) for a in argv])[::2], str(ro))
    finally:
        ro.chmod(0o700)


# -- model folders and devices ---------------------------------------------------------------------
def truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("damage", ["organism.json", "transformer/diffusion_pytorch_model.safetensors",
                                    "prompt_table.safetensors", "transformer/config.json"])
def test_damaged_organism_folder(task, tmp_path, cos, damage):
    model = tmp_path / "model"
    shutil.copytree(ORGANISM, model)
    truncate(model / damage)
    code, _, err = cos("trace", "--model", model, "--task", task, "--num-steps", "1", "--out", tmp_path / "t.h5")
    assert_one_line_error(code, err, str(model))
    assert not (tmp_path / "t.h5").exists()


@pytest.mark.parametrize("index", ['{"_class_name": "WanPipeline"', '{"_class_name": "WanPipeline"}',
                                   '{"_class_name": 3, "transformer": ["diffusers", "X"]}', '[]'])
def test_damaged_pipeline_index(tmp_path, cos, index):
    model = tmp_path / "wan"
    model.mkdir()
    (model / "model_index.json").write_text(index)
    code, _, err = cos("trace", "--model", model, "--prompt", "a maze", "--out", tmp_path / "t.h5")
    assert_one_line_error(code, err, "model_index.json")


def test_organism_info_of_a_damaged_folder(tmp_path, cos):
    model = tmp_path / "model"
    shutil.copytree(ORGANISM, model)
    truncate(model / "organism.json")
    assert_one_line_error(*cos("organism", "info", "--model", model)[::2], "organism.json")


@pytest.mark.parametrize("device", ["cuda", "cuda:7", "tpu", "nonsense"])
def test_unusable_device(task, tmp_path, cos, device):
    import torch

    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("this machine has that GPU")
    code, _, err = cos("trace", "--task", task, "--device", device, "--out", tmp_path / "t.h5")
    assert_one_line_error(code, err, device)


# -- damaged sample files ---------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncate", "remove"])
@pytest.mark.parametrize("command", ["steps", "probe", "maps"])
def test_damaged_sample_file(trace, tmp_path, cos, damage, command):
    copy = tmp_path / "t.h5"
    shutil.copy(trace, copy)
    shutil.copytree(trace.with_name("t.h5.d"), tmp_path / "t.h5.d")
    sample = sorted((tmp_path / "t.h5.d").glob("*-seed0.h5"))[0]
    truncate(sample, 0.3) if damage == "truncate" else sample.unlink()
    out = tmp_path / ("g.png" if command == "steps" else "out")
    assert_one_line_error(*cos(command, copy, "--out", out)[::2], sample.name)


# -- damaged task folders -------------------------------------------------------------------------------
def huge_png(path, width=20000, height=20000):
    """A valid PNG header that claims a huge image (the pixel data is a few bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("damage, needle", [
    (lambda t: (t / "prompt.txt").write_bytes(b"\xff\xfe maze \x80"), "UTF-8"),
    (lambda t: (t / "metadata.json").write_text('{"a": ' + nested(100_000) + "}"), "nested"),
    (lambda t: edit_meta(t, lambda m: m["maze"].update(routes=[[]])), "route"),
    (lambda t: edit_meta(t, lambda m: m.update(px_per_unit="abc")), "px_per_unit"),
    (lambda t: edit_meta(t, lambda m: m.update(maze="abc")), "maze"),
    (lambda t: edit_meta(t, lambda m: m["maze"].update(walls={"a": 1})), "maze"),
    (lambda t: edit_meta(t, lambda m: m["maze"].update(start=[1e400, 1])), "start"),
    (lambda t: (t / "metadata.json").write_text('{"generator": "cos-interp"'), "metadata"),
    (lambda t: huge_png(t / "first_frame.png"), "too large"),
    (lambda t: huge_png(t / "first_frame.png", 17000, 100), "17000x100"),
    (lambda t: (t / "first_frame.png").write_bytes(b"\x89PNG\r\n\x1a\n"), "first_frame.png"),
])
def test_damaged_task_folder(task, tmp_path, cos, damage, needle):
    damage(task)
    for argv in (["trace", "--task", task, "--num-steps", "1", "--out", tmp_path / "t.h5"],
                 ["tasks", "score", ROOT / "data" / "tasks" / "maze5_s0" / "first_frame.png", "--task", task]):
        assert_one_line_error(*cos(*argv)[::2], needle)
    assert not (tmp_path / "t.h5").exists()


def edit_meta(task, change):
    meta = json.loads((task / "metadata.json").read_text())
    change(meta)
    (task / "metadata.json").write_text(json.dumps(meta))
