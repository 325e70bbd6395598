"""The other commands that take a prompt run on any family's folder: ``cos ensemble`` and ``cos trace``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.cli.main import main as cos
from interp.store import TraceStore

from tiny_folders import GEOMETRY


@pytest.mark.parametrize("name, merge", [("wan22-a14b", "x0_mean"), ("ltx", "x0_renoise")])
def test_ensemble_merges_seeds_of_a_prompt(folders, name, merge, tmp_path):
    # LTX's schedule follows the video size: the re-noising merge reads it from the run's inputs
    assert cos(["ensemble", "--model", str(folders[name]), "--prompt", "a red ball rolls left", *GEOMETRY[name],
                "--k", "2", "--merge", merge, "--at", "1", "--num-steps", "3", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "ensemble.json").read_text())
    assert record["k"] == 2 and len(record["tasks"]) == 1


def test_trace_of_a_batched_guidance_family_stores_both_branches(folders, tmp_path):
    out = tmp_path / "t.h5"
    assert cos(["trace", "--model", str(folders["ltx"]), "--prompt", "a red ball", *GEOMETRY["ltx"],
                "--guidance", "3", "--num-steps", "2", "--seeds", "0,1", "--sites", "resid_post,attn2.out,x0",
                "--layers", "1", "--branch", "cond,uncond", "--out", str(out)]) == 0
    with TraceStore.open(out) as store:
        assert len(store.sample_ids()) == 2
        assert store.branches("blocks.1.resid_post") == ["cond", "uncond"]
        sample = store.sample_ids()[0]
        cond = store.read(sample, "blocks.1.attn2.out", branch="cond")
        uncond = store.read(sample, "blocks.1.attn2.out", branch="uncond")
        assert cond.shape == uncond.shape and not np.array_equal(cond, uncond)


def test_renoising_merge_is_refused_where_sampling_is_not_flow_matching():
    from interp.ensemble import merge_interventions, seed_groups
    from interp.errors import InputError
    from interp.models.tiny_zoo import tiny_model

    model, inputs = tiny_model("cogvideox", seeds=(0, 1))
    with pytest.raises(InputError, match="x0_mean or xt_mean"):
        merge_interventions(model, "x0_renoise", seed_groups(1, 2), steps=[1], num_steps=3, inputs=inputs)
    assert merge_interventions(model, "x0_mean", seed_groups(1, 2), steps=[1], num_steps=3, inputs=inputs)
