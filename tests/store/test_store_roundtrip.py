"""The trace store: round trip, lazy reads, append checks, resume and the crash states it recovers from."""

from __future__ import annotations

import json
import os
import shutil

import h5py
import numpy as np
import pytest

from interp.errors import InputError
from interp.store import TraceStore, TraceWriter
from interp.store import layout

SITES = {
    "blocks.0.resid_post": {"kind": "resid_post", "layer": 0, "tokens": "all", "branches": ["cond", "uncond"]},
    "blocks.3.resid_post": {"kind": "resid_post", "layer": 3, "tokens": "all", "branches": ["cond", "uncond"]},
    "x0": {"kind": "x0", "layer": None, "tokens": "all", "branches": ["guided"]},
}
SPEC = {"sites": SITES, "steps": [0, 2, 5]}
T, D = 6, 4


def slab(sample: int, site: str, branch: str, step: int) -> np.ndarray:
    seed = abs(hash((sample, site, branch, step))) % (2**32)
    return np.random.default_rng(seed).standard_normal((T, D)).astype(np.float16)


def write_sample(writer, index: int, *, commit: bool = True):
    sample = writer.begin(f"s{index}", seed=100 + index, task={"maze": {"size": 5, "walls": np.arange(3)}})
    for site, info in SITES.items():
        sample.set_token_grid(site, np.stack([np.zeros(T), np.zeros(T), np.arange(T)], 1))
        for branch in info["branches"]:
            for step in SPEC["steps"]:
                sample.write(site, branch, step, slab(index, site, branch, step))
    sample.set_schedule(sigmas=[1.0, 0.5, 0.1], experts=["transformer"] * 3)
    if commit:
        sample.commit()
    return sample


def open_writer(path, fingerprint="f1", spec=SPEC, **kw):
    return TraceWriter(path, model_name="toy", fingerprint=fingerprint, spec=spec, **kw)


def test_round_trip_and_reader_api(tmp_path):
    path = tmp_path / "t.h5"
    with open_writer(path, compression="gzip", sync_bytes=1) as writer:  # also syncs after every slab
        for i in range(3):
            write_sample(writer, i)
    with TraceStore.open(path) as store:
        assert store.sample_ids() == ["s0", "s1", "s2"] and len(store) == 3 and "s1" in store
        assert store.sites() == list(SITES)
        assert store.layers() == [0, 3] and store.layers("attn1.out") == []
        assert store.steps().tolist() == [0, 2, 5] and store.steps("s0").tolist() == [0, 2, 5]
        assert store.branches("x0") == ["guided"]
        meta = store.meta("s1")
        assert meta["seed"] == 101 and meta["task"] == {"maze": {"size": 5, "walls": [0, 1, 2]}}
        assert meta["sigmas"] == [1.0, 0.5, 0.1] and meta["experts"] == ["transformer"] * 3
        assert store.attrs["model_name"] == "toy" and json.loads(store.attrs["spec"]) == SPEC
        assert store.attrs["schema_version"] == layout.SCHEMA_VERSION
        assert "torch" in json.loads(store.attrs["versions"])
        assert store.token_grid("x0")[:, 2].tolist() == list(range(T))
        x = store.read("s2", "blocks.3.resid_post", branch="uncond")
        assert x.dtype == np.float32 and x.shape == (3, T, D)
        for row, step in enumerate([0, 2, 5]):
            np.testing.assert_array_equal(x[row], slab(2, "blocks.3.resid_post", "uncond", step))
        part = store.read("s0", "blocks.0.resid_post", steps=[5], tokens=[1, 4], torch=True, dtype=None)
        assert tuple(part.shape) == (1, 2, D) and str(part.dtype) == "torch.float16"
        np.testing.assert_array_equal(part.numpy()[0], slab(0, "blocks.0.resid_post", "cond", 5)[[1, 4]])
        assert store.read("s0", "x0").shape == (3, T, D)  # default branch: the site's first
        seen = list(store.iter_blocks(layers=[3], steps=[2], sample_ids=["s2", "s0"]))
        assert [(layer, step) for layer, step, _ in seen] == [(3, 2)]
        np.testing.assert_array_equal(seen[0][2][0], slab(2, "blocks.3.resid_post", "cond", 2))
        np.testing.assert_array_equal(seen[0][2][1], slab(0, "blocks.3.resid_post", "cond", 2))
        assert len(list(store.iter_blocks())) == 2 * 3
    # plain h5py sees the whole store through the index's external links
    with h5py.File(path, "r") as f:
        assert f["samples/s1/sites/x0/guided"].shape == (3, T, D)
        assert bool(f["samples/s1"].attrs["complete"])
        assert f["samples/s1/sites/x0/guided"].chunks == (1, T, D)


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda s: s.read("nope", "x0"), "unknown sample 'nope'"),
        (lambda s: s.read("s0", "blocks.9.resid_post"), "blocks.9.resid_post"),
        (lambda s: s.read("s0", "x0", branch="cond"), "'cond'"),
        (lambda s: s.read("s0", "x0", steps=[1]), "step 1 was not captured"),
        (lambda s: list(s.iter_blocks("blocks.resid_post")), "{layer}"),
    ],
)
def test_reader_errors_name_the_bad_value(tmp_path, call, needle):
    with open_writer(tmp_path / "t.h5") as writer:
        write_sample(writer, 0)
    with TraceStore.open(tmp_path / "t.h5") as store, pytest.raises(InputError) as err:
        call(store)
    assert needle in str(err.value)


def test_open_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        TraceStore.open(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="not a trace store"):
        TraceStore.open(tmp_path / "junk.h5")
    with pytest.raises(InputError, match="not a trace store"):
        open_writer(tmp_path / "junk.h5")
    assert (tmp_path / "junk.h5").read_bytes() == b"not hdf5"


def snapshot(path):
    files = [path] + sorted(layout.data_dir(path).glob("*.h5"))
    return {str(f): f.read_bytes() for f in files}


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"fingerprint": "other"}, "fingerprint"),
        ({"spec": {**SPEC, "steps": [0, 1]}}, "spec"),
    ],
)
def test_mismatched_append_fails_and_damages_nothing(tmp_path, kwargs, needle):
    path = tmp_path / "t.h5"
    with open_writer(path) as writer:
        write_sample(writer, 0)
    before = snapshot(path)
    with pytest.raises(InputError, match=needle):
        open_writer(path, **kwargs)
    assert snapshot(path) == before


def test_second_writer_is_refused(tmp_path):
    with open_writer(tmp_path / "t.h5") as writer:
        writer.begin("s0")  # a new store exists from its first sample on
        with pytest.raises(InputError, match="another process"):
            open_writer(tmp_path / "t.h5")


def test_resume_skips_complete_and_drops_incomplete(tmp_path):
    path = tmp_path / "t.h5"
    with open_writer(path) as writer:
        write_sample(writer, 0)
        partial = write_sample(writer, 1, commit=False)
        partial.file.flush()
        shutil.copy(partial.tmp, tmp_path / "left.tmp")  # what a kill mid-sample leaves behind
    assert not (layout.data_dir(path) / "s1.h5.tmp").exists()  # a closed writer drops its unfinished sample
    shutil.copy(tmp_path / "left.tmp", layout.data_dir(path) / "s1.h5.tmp")
    assert TraceStore.open(path).sample_ids() == ["s0"]
    with open_writer(path) as writer:
        assert writer.completed() == ["s0"]
        assert not (layout.data_dir(path) / "s1.h5.tmp").exists()
        with pytest.raises(InputError, match="already"):
            writer.begin("s0")
        write_sample(writer, 1)
    assert TraceStore.open(path).sample_ids() == ["s0", "s1"]


def test_sample_renamed_but_not_indexed_is_adopted(tmp_path):
    path = tmp_path / "t.h5"
    with open_writer(path) as writer:
        write_sample(writer, 0)
        old_index = path.read_bytes()
        write_sample(writer, 1)
    path.write_bytes(old_index)  # as if killed between the sample's rename and the index rewrite
    assert TraceStore.open(path).sample_ids() == ["s0"]
    with open_writer(path) as writer:
        assert writer.completed() == ["s0", "s1"]
    with TraceStore.open(path) as store:
        assert store.sample_ids() == ["s0", "s1"]
        np.testing.assert_array_equal(store.read("s1", "x0", dtype=None)[2], slab(1, "x0", "guided", 5))


def test_incomplete_sample_cannot_commit(tmp_path):
    with open_writer(tmp_path / "t.h5") as writer:
        sample = writer.begin("s0")
        sample.write("x0", "guided", 0, slab(0, "x0", "guided", 0))
        with pytest.raises(RuntimeError, match="missing"):
            sample.commit()
        assert writer.completed() == []
    assert not os.listdir(layout.data_dir(tmp_path / "t.h5")) or all(
        name == layout.LOCK_NAME for name in os.listdir(layout.data_dir(tmp_path / "t.h5"))
    )
