"""The real-scale benchmark's code path on tiny shapes of both families: every arm runs and is
recorded, Wan2.2's second expert takes over, HunyuanVideo's dual- and single-stream blocks are
both captured in full, and the self-patch from the disk store leaves the run as it was."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def run_preset(preset, tmp_path, monkeypatch) -> dict:
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    bench = importlib.import_module("bench_scale")
    record_path = tmp_path / "record.json"
    assert bench.main(["--preset", preset, "--device", "cpu", "--dtype", "float32", "--steps", "3",
                       "--workdir", str(tmp_path / "work"), "--record", str(record_path)]) == 0
    assert not list((tmp_path / "work").glob("*.h5"))
    return json.loads(record_path.read_text())


def check_arms(record) -> None:
    for arm in ("plain", "pooled", "pooled_plus_full", "patched_from_store"):
        # one memory reading per step: the hook fires on each step's last call only
        assert record[arm]["seconds"] > 0 and len(record[arm]["gpu_gib_after_each_step"]) == 3
    assert record["pooled_plus_full"]["slab_bytes"] > record["pooled"]["store_bytes"] / 10
    # float16 store of float32 values: the self-patch moves the result by rounding only, not by nothing
    assert 0 < record["patched_from_store"]["max_abs_diff_vs_plain"] < 1e-2 * record["patched_from_store"][
        "plain_latent_abs_mean"] + 1e-3


def test_tiny_preset_records_every_arm(tmp_path, monkeypatch):
    record = run_preset("tiny", tmp_path, monkeypatch)
    assert record["latent"] == [16, 3, 8, 8] and record["tokens"] == 3 * 4 * 4
    check_arms(record)
    assert record["plain"]["experts"] == ["transformer", "transformer", "transformer_2"]
    assert record["guidance"]["kind"] == "classifier-free" and record["branches"] == ["cond", "uncond"]
    assert record["model"].startswith("2 experts x 6 blocks x 32,")


def test_tiny_hunyuan_preset_records_every_arm(tmp_path, monkeypatch):
    record = run_preset("tiny_hunyuan", tmp_path, monkeypatch)
    # 64x64, 9 frames: 8x spatial and 4x temporal compression, 16 channels, then 2x2 patches
    assert record["latent"] == [16, 3, 8, 8] and record["tokens"] == 3 * 4 * 4
    check_arms(record)
    assert record["plain"]["experts"] == ["transformer"] * 3
    assert record["guidance"]["kind"] == "embedded (distilled)" and record["branches"] == ["cond"]
    assert record["model"].startswith("1 expert x (2 transformer_blocks + 4 single_transformer_blocks) x 32,")
    # layers run dual-stream then single-stream: block 0 is dual, block 2 the first single one
    assert record["full_layers"] == [0, 2, 4, 5]
    assert record["patched_from_store"]["cell"]["site"] == "blocks.2.resid_post"
