"""SIGKILL a capturing process at random moments: the store always opens, holds only samples equal
to an uninterrupted run's, and a rerun completes it with nothing missing or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

import crash_worker
from interp.store import TraceStore
from interp.store import layout

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = 3


def contents(path: Path, sample_id: str) -> dict:
    """Every dataset and attribute of one sample file."""
    out = {}
    with h5py.File(layout.sample_path(path, sample_id), "r") as f:
        out.update({f"@{k}": str(v) for k, v in f.attrs.items()})
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_same(path: Path, reference: Path, sample_id: str) -> None:
    got, want = contents(path, sample_id), contents(reference, sample_id)
    assert sorted(got) == sorted(want)
    for key in want:
        assert np.array_equal(got[key], want[key]), f"{sample_id}: {key} differs"


def start(out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(WORKER.parent)] + sys.path))
    proc = subprocess.Popen([sys.executable, str(WORKER), str(out)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_sigkill_at_random_moments(tmp_path):
    reference = tmp_path / "reference.h5"
    crash_worker.run(str(reference))
    expected_ids = TraceStore.open(reference).sample_ids()
    assert [i.split("-")[0] for i in expected_ids] == [f"seed{s}" for s in crash_worker.SEEDS]

    out = tmp_path / "killed.h5"
    rng = np.random.default_rng(0)
    done = 0
    for _ in range(KILLS):
        if done == len(expected_ids):  # a slow moment let a run finish before its kill
            break
        proc = start(out)
        # One sample finishes (timing this process), then the kill falls anywhere in the rest.
        began = time.perf_counter()
        assert proc.stdout.readline().startswith("done")
        per_sample = time.perf_counter() - began
        time.sleep(rng.uniform(0.0, len(expected_ids) - done - 1) * per_sample)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():  # a kill before the first index write leaves no store yet
            with TraceStore.open(out) as store:
                ids = store.sample_ids()
                done = len(ids)
                assert ids == expected_ids[: len(ids)]
                for sample_id in ids:
                    store.read(sample_id, "blocks.1.resid_post", branch="uncond")
                    assert_same(out, reference, sample_id)
    proc = start(out)
    assert proc.wait(timeout=300) == 0
    with TraceStore.open(out) as store:
        assert store.sample_ids() == expected_ids
    for sample_id in expected_ids:
        assert_same(out, reference, sample_id)
    leftovers = [p.name for p in layout.data_dir(out).iterdir() if p.name.endswith(layout.TEMP_SUFFIX)]
    assert leftovers == []
