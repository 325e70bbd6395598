"""A run never stores a wrong result silently: numeric options are checked, non-finite values are
refused at commit, provenance comes from the run, and one seed rule holds everywhere."""

from __future__ import annotations

import json

import numpy as np
import pytest
from reliability_helpers import assert_one_line_error

from interp.errors import InputError
from interp.store import TraceStore, TraceWriter, layout

SPEC = {"sites": {"x0": {"branches": ["guided"]}}, "steps": [0, 1]}


@pytest.mark.parametrize("shift", ["nan", "inf", "-1", "0"])
def test_trace_refuses_a_shift_outside_its_range(tmp_path, task, cos, shift):
    out = tmp_path / "t.h5"
    code, _, err = cos("trace", "--task", task, "--num-steps", "2", "--shift", shift, "--out", out)
    assert_one_line_error(code, err, "--shift", shift)
    assert not out.exists() and not layout.data_dir(out).exists()


def write(path, value, **kw):
    with TraceWriter(path, model_name="toy", fingerprint="abc", spec=SPEC, **kw) as writer:
        sample = writer.begin("s0")
        for step in (0, 1):
            sample.write("x0", "guided", step, np.full((4, 3), value if step else 0.0, np.float32))
        sample.commit()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_sample_with_non_finite_values_is_not_committed(tmp_path, value):
    path = tmp_path / "t.h5"
    with pytest.raises(InputError, match="NaN or infinite") as err:
        write(path, value)
    assert "x0/guided@step1" in str(err.value)
    assert TraceStore.open(path).sample_ids() == []
    assert sorted(p.name for p in layout.data_dir(path).iterdir()) == [layout.LOCK_NAME]


def test_non_finite_values_are_stored_when_asked_for(tmp_path):
    path = tmp_path / "t.h5"
    write(path, np.nan, allow_nonfinite=True)
    assert np.isnan(TraceStore.open(path).read("s0", "x0")[1]).all()


def test_steps_with_zero_steps_names_the_value(task, tmp_path, cos):
    code, _, err = cos("steps", "--task", task, "--num-steps", "0", "--out", tmp_path / "g.png")
    assert_one_line_error(code, err, "--num-steps 0")
    assert not (tmp_path / "g.png").exists()


def test_trace_with_zero_steps_names_the_value(task, tmp_path, cos):
    code, _, err = cos("trace", "--task", task, "--num-steps", "0", "--out", tmp_path / "t.h5")
    assert_one_line_error(code, err, "--num-steps 0")


def test_recorded_provenance_comes_from_the_run_not_the_metadata_file(task, tmp_path, cos):
    meta = json.loads((task / "metadata.json").read_text())
    meta.update(folder="/somewhere/else", prompt="not the prompt")
    (task / "metadata.json").write_text(json.dumps(meta))
    out = tmp_path / "t.h5"
    assert cos("trace", "--task", task, "--num-steps", "1", "--layers", "0", "--out", out)[0] == 0
    with TraceStore.open(out) as store:
        recorded = store.meta(store.sample_ids()[0])["task"]
    assert recorded["folder"] == str(task)
    assert recorded["prompt"] == (task / "prompt.txt").read_text().strip()
    assert recorded["maze"] == meta["maze"]


@pytest.mark.parametrize("argv", [
    ["steps", "--task", "{task}", "--seed", "-1", "--out", "{tmp}/g.png"],
    ["trace", "--task", "{task}", "--seeds", "-1", "--out", "{tmp}/t.h5"],
    ["tasks", "make", "--seed", "-1", "--out", "{tmp}/tasks"],
    ["demo", "--seed", "-1", "--out", "{tmp}/demo"],
    ["steps", "--task", "{task}", "--seed", str(2**63), "--out", "{tmp}/g.png"],
    ["tasks", "make", "--seed", str(2**63), "--out", "{tmp}/tasks"],
])
def test_one_seed_rule_everywhere(task, tmp_path, cos, argv):
    code, _, err = cos(*[a.format(task=task, tmp=tmp_path) for a in argv])
    assert_one_line_error(code, err, "seed")
    assert list(tmp_path.iterdir()) == [task.parent]
