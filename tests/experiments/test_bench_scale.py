"""The real-scale benchmark's code path on a tiny shape: every arm runs and is recorded, the
second expert takes over, and the self-patch from the disk store leaves the run as it was."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def test_tiny_preset_records_every_arm(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    bench = importlib.import_module("bench_scale")
    record_path = tmp_path / "record.json"
    assert bench.main(["--preset", "tiny", "--device", "cpu", "--dtype", "float32", "--steps", "3",
                       "--workdir", str(tmp_path / "work"), "--record", str(record_path)]) == 0
    record = json.loads(record_path.read_text())
    assert record["latent"] == [16, 3, 8, 8] and record["tokens"] == 3 * 4 * 4
    for arm in ("plain", "pooled", "pooled_plus_full", "patched_from_store"):
        assert record[arm]["seconds"] > 0 and len(record[arm]["gpu_gib_after_each_step"]) == 3
    assert record["plain"]["experts"] == ["transformer", "transformer", "transformer_2"]
    assert record["pooled_plus_full"]["slab_bytes"] > record["pooled"]["store_bytes"] / 10
    # float16 store of float32 values: the self-patch moves the result by rounding only, not by nothing
    assert 0 < record["patched_from_store"]["max_abs_diff_vs_plain"] < 1e-2 * record["patched_from_store"][
        "plain_latent_abs_mean"] + 1e-3
    assert not list((tmp_path / "work").glob("*.h5"))
