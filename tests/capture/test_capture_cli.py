"""``cos trace`` and ``cos steps`` end to end on a small random organism; bad input exits 2 and writes nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from interp.cli.main import main
from interp.store import TraceStore


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from interp.organism import OrganismConfig, build_organism, default_transformer_config
    from interp.tasks import generate_maze
    from interp.tasks.vbvr import save_task

    root = tmp_path_factory.mktemp("cli")
    tcfg = default_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=12, ffn_dim=32,
                                      freq_dim=16)
    build_organism(OrganismConfig(num_frames=4), tcfg, seed=0).save_pretrained(root / "org", dtype=None)
    for seed in (0, 1):
        save_task(generate_maze(5, seed=seed), root / "tasks" / f"maze5_s{seed}", num_frames=4, video_format="png")
    bad = save_task(generate_maze(5, seed=2), root / "bad", num_frames=4, video_format="png")
    Image.fromarray(np.zeros((21, 23, 3), np.uint8)).save(bad / "first_frame.png")
    meta = json.loads((bad / "metadata.json").read_text())
    meta["generator"] = "elsewhere"  # read as a foreign task, so the image size reaches the model
    (bad / "metadata.json").write_text(json.dumps(meta))
    return root


def trace_args(root, out, *extra):
    return ["trace", "--model", str(root / "org"), "--task", str(root / "tasks"), "--out", str(out),
            "--num-steps", "4", "--seeds", "0-1", *extra]


def test_trace_then_steps(workspace, tmp_path, capsys):
    out = tmp_path / "t.h5"
    assert main(trace_args(workspace, out, "--sites", "resid_post,ffn.out,x0", "--tokens", "all")) == 0
    with TraceStore.open(out) as store:
        assert store.sample_ids() == ["maze5_s0-seed0", "maze5_s0-seed1", "maze5_s1-seed0", "maze5_s1-seed1"]
        assert store.sites() == ["blocks.0.ffn.out", "blocks.0.resid_post", "blocks.1.ffn.out",
                                 "blocks.1.resid_post", "x0"]
        meta = store.meta("maze5_s1-seed1")
        assert meta["seed"] == 1 and meta["task"]["maze"]["seed"] == 1
    assert main(trace_args(workspace, out, "--sites", "resid_post,ffn.out,x0")) == 0  # resume: nothing to do
    assert "wrote 0 samples, 4 already complete" in capsys.readouterr().out

    grid, gif = tmp_path / "grid.png", tmp_path / "anim.gif"
    assert main(["steps", str(out), "--sample", "maze5_s1-seed0", "--model", str(workspace / "org"),
                 "--out", str(grid), "--gif", str(gif), "--steps", "0,2,3"]) == 0
    png = Image.open(grid)
    assert png.format == "PNG" and png.size[0] > png.size[1]  # 4 frame columns, 3 step rows
    animation = Image.open(gif)
    assert animation.format == "GIF" and animation.n_frames == 3


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--sites", "resid_mid"], "unknown site 'resid_mid'"),
        (["--layers", "2"], "layer 2 is out of range: choose 0..1"),
        (["--steps", "4"], "step 4 is out of range: choose 0..3"),
        (["--tokens", "pool:0"], "pool:0"),
        (["--branch", "uncond"], "needs classifier-free guidance"),
        (["--model", "/"], "not a diffusers model folder"),
        (["--task", "BAD"], "does not fit the organism's patch"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(workspace, tmp_path, capsys, extra, needle):
    out = tmp_path / "t.h5"
    args = trace_args(workspace, out)
    for i, value in enumerate(extra):
        if value == "BAD":
            extra[i] = str(workspace / "bad")
    for flag, value in zip(extra[::2], extra[1::2]):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cos: error:") and needle in err[0]
    assert not out.exists() and not out.with_name("t.h5.d").exists()


def test_append_with_other_spec_leaves_store_untouched(workspace, tmp_path, capsys):
    out = tmp_path / "t.h5"
    assert main(trace_args(workspace, out, "--seeds", "0")) == 0
    before = {p.name: p.read_bytes() for p in [out, *sorted(out.with_name("t.h5.d").glob("*.h5"))]}
    assert main(trace_args(workspace, out, "--seeds", "1", "--dtype", "float32")) == 2
    assert "cannot append" in capsys.readouterr().err
    after = {p.name: p.read_bytes() for p in [out, *sorted(out.with_name("t.h5.d").glob("*.h5"))]}
    assert after == before
