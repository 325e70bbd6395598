"""`cos trace` under torchrun: one shard per rank, read back as one store, equal to a single run."""

import os
import subprocess
import sys

import numpy as np
import pytest

from interp.cli.main import main as cos
from interp.store import TraceStore, layout
from interp.store.shards import shard_paths

TRACE_ARGS = ["--model", "organism", "--sites", "resid_post,x0", "--layers", "0,3", "--num-steps", "3",
              "--seeds", "0"]


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tasks")
    assert cos(["tasks", "make", "--sizes", "4", "--count", "5", "--seed", "900100", "--frames", "4",
                "--out", str(folder)]) == 0
    return folder


def torchrun(out, tasks, nproc=2):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "interp.cli.main", "trace", "--task", str(tasks), "--out", str(out), *TRACE_ARGS]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def single(out, tasks):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "interp.cli.main", "trace", "--task", str(tasks), "--out", str(out), *TRACE_ARGS]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tasks):
    folder = tmp_path_factory.mktemp("runs")
    torchrun(folder / "sharded.h5", tasks)
    single(folder / "single.h5", tasks)
    return folder


def test_two_gloo_ranks_equal_one_process(runs):
    tmp_path = runs
    shards = shard_paths(tmp_path / "sharded.h5", 2)
    with TraceStore.open(shards[0]) as a, TraceStore.open(shards[1]) as b:
        assert len(a.sample_ids()) == 3 and len(b.sample_ids()) == 2  # 5 samples dealt round-robin
    with TraceStore.open(tmp_path / "sharded.h5") as merged, TraceStore.open(tmp_path / "single.h5") as ref:
        assert merged.sample_ids() == ref.sample_ids()
        assert merged.sites() == ref.sites()
        for sample_id in ref.sample_ids():
            assert merged.meta(sample_id)["seed"] == ref.meta(sample_id)["seed"]
            for site in ref.sites():
                assert np.array_equal(merged.read(sample_id, site), ref.read(sample_id, site)), (sample_id, site)


def test_rerun_resumes_each_shard(runs, tasks, tmp_path):
    import shutil

    for path in runs.iterdir():  # work on a copy of the finished distributed run
        if path.name.startswith("sharded"):
            (shutil.copytree if path.is_dir() else shutil.copy)(path, tmp_path / path.name)
    out = tmp_path / "sharded.h5"
    # lose one completed sample of rank 1, as a crash before its commit would
    with TraceStore.open(shard_paths(out, 2)[1]) as shard:
        lost = shard.sample_ids()[-1]
    victim = shard_paths(out, 2)[1]
    layout.sample_path(victim, lost).unlink()
    import h5py

    with h5py.File(victim, "a") as f:  # and from its index
        ids = [s.decode() for s in f["sample_ids"][()] if s.decode() != lost]
        del f["sample_ids"], f["samples"][lost]
        f.create_dataset("sample_ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
    torchrun(out, tasks)
    with TraceStore.open(out) as merged:
        ids = merged.sample_ids()
        assert len(ids) == 5 and len(set(ids)) == 5 and lost in ids
