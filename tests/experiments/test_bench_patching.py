"""The patching benchmark's record: written before the first arm and after each, so that a run cut
short (a timeout on a lent machine) still leaves what it measured; a full run of the tiny preset
records every arm, its ratio and the grids' difference (bitwise equal on the CPU)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


class Cut(Exception):
    """Stands for the timeout that ends a run between two arms."""


def test_a_run_cut_after_its_first_arm_keeps_that_arm(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    bench = importlib.import_module("bench_patching")
    record_path, seen = tmp_path / "record.json", []
    real_sweep = bench.sweep

    def sweep(folder, **settings):
        seen.append(json.loads(record_path.read_text()))  # the record as it stood when the arm began
        if len(seen) == 2:
            raise Cut
        return real_sweep(folder, **settings)

    monkeypatch.setattr(bench, "sweep", sweep)
    with pytest.raises(Cut):
        bench.main(["--preset", "tiny", "--arms", "fast,plain", "--out", str(tmp_path / "out"),
                    "--record", str(record_path), "--note", "test"])
    before_first, before_second = seen
    assert before_first["runs"] == ["fast", "plain"] and "fast_seconds" not in before_first
    for key in ("date", "device", "dtype", "grid", "note"):
        assert before_first[key] == before_second[key]
    assert before_second["fast_seconds"] > 0 and before_second["cells"] == 2 * 12 * 1 * 2
    final = json.loads(record_path.read_text())
    assert final["fast_seconds"] == before_second["fast_seconds"] and "plain_seconds" not in final
    assert (final["device"], final["dtype"]) == ("cpu", "float32")


def test_a_full_run_records_the_ratio_and_equal_grids(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    bench = importlib.import_module("bench_patching")
    record_path = tmp_path / "record.json"
    assert bench.main(["--preset", "tiny", "--arms", "fast,stock_rotary,highest_matmul,plain", "--rotary", "stacked",
                       "--out", str(tmp_path / "out"), "--record", str(record_path)]) == 0
    record = json.loads(record_path.read_text())
    assert record["speedup_vs_plain"] == round(record["plain_seconds"] / record["fast_seconds"], 3)
    assert (record["rotary"], record["matmul"]) == ("stacked", "highest")
    # eager, the stacked rotary form is the stock one bitwise; at --matmul highest the arms are one
    for other in ("plain", "stock_rotary", "highest_matmul"):
        assert record[f"max_abs_diff_vs_{other}"] == {"preference": 0.0, "flip": 0.0}
