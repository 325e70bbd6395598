"""Capture specs and token selections: validation names the bad value; reductions match numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.capture import CaptureSpec, parse_int_list, parse_tokens
from interp.errors import InputError


def resolve(spec, guidance=True):
    return spec.resolve(num_layers=4, num_steps=10, guidance=guidance)


@pytest.mark.parametrize(
    "spec, needle",
    [
        (CaptureSpec.make(["resid_mid"]), "resid_mid"),
        (CaptureSpec.make(["blocks.2.attn3.out"]), "blocks.2.attn3.out"),
        (CaptureSpec.make(["resid_post"], layers=[4]), "layer 4 is out of range: choose 0..3"),
        (CaptureSpec.make(["blocks.9.ffn.out"]), "layer 9"),
        (CaptureSpec.make(steps=[10]), "step 10 is out of range: choose 0..9"),
        (CaptureSpec.make(branches=["both"]), "'both'"),
        (CaptureSpec.make(dtype="bfloat16"), "'bfloat16'"),
        (CaptureSpec.make(tokens="pool:0"), "'pool:0'"),
        (CaptureSpec.make(["resid_post"], layers=[1]).with_group(["blocks.1.resid_post"]), "requested twice"),
        (CaptureSpec.make(["resid_post"], branches=["guided"]), "needs branch cond or uncond"),
    ],
)
def test_invalid_specs_name_the_bad_value(spec, needle):
    with pytest.raises(InputError, match=None) as err:
        resolve(spec)
    assert needle in str(err.value)


def test_uncond_needs_guidance():
    with pytest.raises(InputError, match="guidance"):
        resolve(CaptureSpec.make(branches=["cond", "uncond"]), guidance=False)


def test_groups_and_branches_resolve():
    spec = CaptureSpec.make(["resid_post"], tokens="frame_mean", branches=["cond", "uncond"]).with_group(
        ["blocks.2.attn1.out", "x0", "x_t"]
    )
    plan = resolve(spec)
    assert list(plan.sites) == [f"blocks.{i}.resid_post" for i in range(4)] + ["blocks.2.attn1.out", "x0", "x_t"]
    assert str(plan.sites["blocks.0.resid_post"].tokens) == "frame_mean"
    assert str(plan.sites["x0"].tokens) == "all"
    assert plan.sites["x0"].branches == ("guided", "cond", "uncond")
    assert plan.sites["x_t"].branches == ("guided",)
    assert plan.steps == tuple(range(10))
    assert CaptureSpec.from_dict(spec.to_dict()) == spec


def test_parse_int_list():
    assert parse_int_list("3") == (3,)
    assert parse_int_list("0-2, 7") == (0, 1, 2, 7)
    with pytest.raises(InputError, match="'x'"):
        parse_int_list("1,x")


GRID = (2, 5, 3)  # frames, h, w


def cube():
    x = torch.randn(2, 2 * 5 * 3, 4, generator=torch.Generator().manual_seed(0))
    return x, x.numpy().reshape(2, 2, 5, 3, 4)


def test_token_selections_match_numpy():
    x, c = cube()
    np.testing.assert_array_equal(parse_tokens("all").apply(x, GRID).numpy(), x.numpy())
    np.testing.assert_array_equal(
        parse_tokens("stride:2").apply(x, GRID).numpy(), c[:, :, ::2, ::2].reshape(2, -1, 4)
    )
    np.testing.assert_allclose(parse_tokens("frame_mean").apply(x, GRID).numpy(), c.mean(axis=(2, 3)), atol=1e-6)
    pooled = parse_tokens("pool:2").apply(x, GRID).numpy().reshape(2, 2, 3, 2, 4)
    np.testing.assert_allclose(pooled[:, :, 0, 0], c[:, :, 0:2, 0:2].mean(axis=(2, 3)), atol=1e-6)
    np.testing.assert_allclose(pooled[:, :, 2, 1], c[:, :, 4:5, 2:3].mean(axis=(2, 3)), atol=1e-6)  # edge cell


def test_token_grids_name_each_kept_token():
    all_grid = parse_tokens("all").grid(GRID)
    assert all_grid.shape == (30, 3) and all_grid[4].tolist() == [0, 1, 1]  # frame-major, then h, then w
    stride = parse_tokens("stride:2").grid(GRID)
    assert stride.tolist()[:3] == [[0, 0, 0], [0, 0, 2], [0, 2, 0]]
    assert parse_tokens("frame_mean").grid(GRID).tolist() == [[0, -1, -1], [1, -1, -1]]
    pool = parse_tokens("pool:2").grid(GRID)
    assert pool.shape == (12, 3) and pool[-1].tolist() == [1, 2, 1]
    for sel in ("all", "stride:2", "frame_mean", "pool:2"):
        x, _ = cube()
        assert parse_tokens(sel).apply(x, GRID).shape[1] == len(parse_tokens(sel).grid(GRID))
