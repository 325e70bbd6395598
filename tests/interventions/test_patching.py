"""Patching identities, the prefix-reusing sweep against the naive one, and the maze metric."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.interventions import At, Intervention, Patch, PatchGrid, Tokens, patch_sweep, run, run_with_cache
from interp.tasks.maze_task import PairMetric, changed_region
from interp.organism.tiny import tiny_organism
from interp.tasks import ground_truth_video, make_pairs, render_maze
from interp.tasks.patch_metrics import route_preference

STEPS = 4
LAYERS = [0, 1]


@pytest.fixture(scope="module")
def pairs_setup():
    pairs = make_pairs(5, 2, seed=0)
    model, _ = tiny_organism()
    clean = model.prepare(first_frame=np.stack([render_maze(p.clean, upto=0, px_per_unit=2) for p in pairs]), seeds=[3, 4])
    corrupt = model.prepare(first_frame=np.stack([render_maze(p.corrupt, upto=0, px_per_unit=2) for p in pairs]),
                            seeds=[3, 4])
    return model, pairs, clean, corrupt


def test_patching_one_layer_at_every_step_gives_the_clean_run(pairs_setup):
    model, _, clean, corrupt = pairs_setup
    site = "blocks.1.resid_post"
    clean_run = run_with_cache(model, clean, [site], num_steps=STEPS, progress=False)
    patched = run(model, corrupt, [Intervention(At(site), Patch("clean"))], sources={"clean": clean_run.cache},
                  num_steps=STEPS, progress=False)
    assert torch.equal(patched.latents, clean_run.latents)
    assert not torch.equal(run(model, corrupt, num_steps=STEPS, progress=False).latents, clean_run.latents)


def test_patching_a_run_with_its_own_activations_changes_nothing(pairs_setup):
    model, _, _, corrupt = pairs_setup
    sites = ["blocks.0.resid_pre", "blocks.0.attn1.out", "blocks.1.ffn.out", "x_t", "x0"]
    own = run_with_cache(model, corrupt, sites, num_steps=STEPS, progress=False)
    items = [Intervention(At(s, tokens=Tokens.region(rows=(0, 5))), Patch("own")) for s in sites]
    again = run(model, corrupt, items, sources={"own": own.cache}, num_steps=STEPS, progress=False)
    assert torch.equal(again.latents, own.latents)


def test_sweep_from_saved_x_t_equals_the_naive_rerun(pairs_setup):
    model, pairs, clean, corrupt = pairs_setup
    metric = PairMetric(pairs)
    grid = model.token_grid(corrupt.latents.shape)
    regions = {"all": Tokens.all(),
               "changed": changed_region(pairs, grid, px_per_unit=2, pixels_per_token=model.pixels_per_token)}
    options = dict(layers=LAYERS, steps=[1, 3], regions=regions, num_steps=STEPS, batch_size=3, progress=False)
    for read_at in ("final", "patched"):
        fast = patch_sweep(model, clean, corrupt, metric, read_at=read_at, **options)
        naive = patch_sweep(model, clean, corrupt, metric, reuse_prefix=False, read_at=read_at, **options)
        for name in ("preference", "flip"):
            np.testing.assert_array_equal(fast.values[name], naive.values[name])
            assert fast.values[name].shape == (2, 2, 2, 2)
    final_clean = metric(run(model, clean, num_steps=STEPS, progress=False).video, [0, 1])["preference"]
    grid = patch_sweep(model, clean, corrupt, metric, **options)
    np.testing.assert_array_equal(grid.clean["preference"], np.stack([final_clean, final_clean]))


def test_changed_region_covers_the_changed_units_tokens(pairs_setup):
    model, pairs, _, corrupt = pairs_setup
    grid = model.token_grid(corrupt.latents.shape)
    region = changed_region(pairs, grid, px_per_unit=2, pixels_per_token=model.pixels_per_token)
    mask = region(0).mask(grid).reshape(grid)
    expected = np.zeros(grid, bool)
    for r, c in pairs[0].changed_units:  # organism: one token per grid unit
        expected[:, r, c] = True
    np.testing.assert_array_equal(mask.numpy(), expected)


def test_pair_metric_agrees_with_the_calibrated_reading():
    pairs = make_pairs(5, 3, seed=10)
    metric = PairMetric(pairs)
    for which in ("clean", "corrupt"):
        videos = np.stack([ground_truth_video(getattr(p, which), 4) for p in pairs])
        fast = metric(videos, [0, 1, 2])
        slow = [route_preference(v, p).value for v, p in zip(videos, pairs)]
        np.testing.assert_allclose(fast["preference"], slow, atol=1e-6)
        assert fast["flip"].tolist() == ([1.0] * 3 if which == "clean" else [0.0] * 3)


def test_grid_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    grid = PatchGrid({"preference": rng.normal(size=(1, 2, 3, 4))}, {"preference": np.ones((3, 4))},
                     {"preference": -np.ones((3, 4))}, {"region": ["all"], "layer": [0, 1], "step": [0, 1, 2],
                                                   "pair": [0, 1, 2, 3]}, {"site": "resid_post"})
    back = PatchGrid.load(grid.save(tmp_path / "g"))
    np.testing.assert_array_equal(back.values["preference"], grid.values["preference"])
    assert back.coords == grid.coords and back.meta == grid.meta
    np.testing.assert_allclose(back.normalised("preference"), (grid.values["preference"].mean(-1) + 1) / 2)
    low, high = back.interval("preference", resamples=50)
    assert low.shape == (1, 2, 3) and np.all(low <= high)


def test_sweep_patching_from_a_store_on_disk_equals_the_in_memory_sweep(pairs_setup, tmp_path):
    from interp.capture import CaptureSpec, capture, fingerprint
    from interp.store import StoreSource

    model, pairs, clean, corrupt = pairs_setup
    spec = CaptureSpec.make(["resid_post"], layers=LAYERS, steps=[1, 3], dtype="float32")
    ids = ["pair0", "pair1"]
    capture(model, clean, spec, tmp_path / "clean.h5", num_steps=STEPS, sample_ids=ids, progress=False)
    source = StoreSource(tmp_path / "clean.h5", ids, fingerprint=fingerprint(model))
    options = dict(layers=LAYERS, steps=[1, 3], regions={"all": Tokens.all()}, num_steps=STEPS, progress=False)
    metric = PairMetric(pairs)
    from_disk = patch_sweep(model, clean, corrupt, metric, source=source, **options)
    in_memory = patch_sweep(model, clean, corrupt, metric, **options)
    np.testing.assert_array_equal(from_disk.values["preference"], in_memory.values["preference"])
