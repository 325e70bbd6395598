"""Captured values and labels against raw ``register_forward_hook`` oracles; capture changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.capture import CaptureSpec, capture
from tests.sampling.loop_states import loop_states
from interp.store import TraceStore

from tiny_wan import tiny_inputs

STEPS = 4
KINDS = ("resid_post", "attn1.out", "attn2.out", "ffn.out")


def hook_oracle(model, inputs):
    """Record every block-site output with plain torch hooks, labelled by call order alone.

    Each transformer call (of whichever expert) is counted by a pre-hook; with sequential guidance
    call c belongs to step c // 2, branch ("cond", "uncond")[c % 2], expert = the module that fired.
    """
    calls, records, handles = [], {}, []
    per_step = 2 if inputs.do_guidance else 1
    for expert, transformer in model.experts.items():
        handles.append(transformer.register_forward_pre_hook(lambda m, a, k=None, e=expert: calls.append(e)))
        for layer in range(model.num_layers):
            for kind in KINDS:
                def hook(module, args, output, layer=layer, kind=kind, expert=expert):
                    c = len(calls) - 1
                    label = (c // per_step, ("cond", "uncond")[c % per_step], calls[-1])
                    assert calls[-1] == expert
                    records[(label, f"blocks.{layer}.{kind}")] = output.detach().clone()
                handles.append(model.site_module(f"blocks.{layer}.{kind}", expert).register_forward_hook(hook))
    try:
        result = model(inputs, num_steps=STEPS, progress=False)  # the plain loop, nothing attached
    finally:
        for h in handles:
            h.remove()
    return result, records


@pytest.mark.parametrize("fixture", ["wan21", "wan22", "organism"])
def test_labels_and_values_match_hook_oracle(fixture, request, tmp_path):
    if fixture == "organism":  # pixel space, no guidance: one call per step
        model, inputs = request.getfixturevalue(fixture)
    else:
        model = request.getfixturevalue(fixture)
        inputs = tiny_inputs(model, guidance=5.0)
    clean, records = hook_oracle(model, inputs)
    branches = ("cond", "uncond") if inputs.do_guidance else ("cond",)
    spec = CaptureSpec.make(KINDS + ("x_t", "velocity", "x0"), branches=branches, dtype="float32")
    out = capture(model, inputs, spec, tmp_path / "t.h5", num_steps=STEPS, progress=False)

    # Capturing changes nothing: same final latents and video as a plain run.
    assert torch.equal(out.result.latents, clean.latents)
    assert np.array_equal(out.result.video, clean.video)

    with TraceStore.open(tmp_path / "t.h5") as store:
        experts = store.meta(store.sample_ids()[0])["experts"]
        assert experts == clean.experts
        if fixture == "wan22":
            assert set(experts) == {"transformer", "transformer_2"}
        checked = 0
        for (label, site), expected in records.items():
            step, branch, expert = label
            assert experts[step] == expert
            got = store.read(store.sample_ids()[0], site, branch=branch, steps=[step])[0]
            np.testing.assert_array_equal(got, expected[0].float().numpy())
            checked += 1
        # every block site, every branch, every step, 2 layers
        assert checked == 2 * len(KINDS) * len(branches) * STEPS


def test_loop_sites_match_step_states(wan21, tmp_path):
    inputs = tiny_inputs(wan21, guidance=4.0)
    states = loop_states(wan21, inputs, num_steps=STEPS, progress=False, decode=False)
    spec = CaptureSpec.make(("x_t", "velocity", "x0"), branches=("cond", "uncond"), dtype="float32")
    capture(wan21, inputs, spec, tmp_path / "t.h5", num_steps=STEPS, progress=False, save_video=False)
    with TraceStore.open(tmp_path / "t.h5") as store:
        assert store.branches("x_t") == ["guided"]
        assert store.branches("x0") == ["guided", "cond", "uncond"]
        grid = store.token_grid("x0")
        for s in states:
            def as_tokens(x):  # [1, C, F, H, W] -> [F*H*W, C], frame-major
                return x[0].permute(1, 2, 3, 0).reshape(-1, x.shape[1]).float().numpy()

            np.testing.assert_array_equal(store.read(store.sample_ids()[0], "x_t", steps=[s.step])[0], as_tokens(s.x_t))
            np.testing.assert_array_equal(store.read(store.sample_ids()[0], "x0", steps=[s.step])[0], as_tokens(s.x0))
            np.testing.assert_array_equal(store.read(store.sample_ids()[0], "velocity", branch="uncond", steps=[s.step])[0],
                                          as_tokens(s.velocity_uncond))
            x0_cond = s.x_t - s.sigma * s.velocity_cond
            np.testing.assert_allclose(store.read(store.sample_ids()[0], "x0", branch="cond", steps=[s.step])[0],
                                       as_tokens(x0_cond), rtol=0, atol=1e-6)
        # token (f, h, w) really is where the voxel sits
        f, h, w = states[0].x_t.shape[-3:]
        assert grid.tolist()[: w + 1][-1] == [0, 1, 0] and len(grid) == f * h * w


def test_selected_steps_layers_and_float16(wan21, tmp_path):
    inputs = tiny_inputs(wan21, guidance=1.0)
    _, records = hook_oracle(wan21, inputs)
    spec = CaptureSpec.make(("resid_post",), layers=[1], steps=[0, 3], tokens="frame_mean")
    capture(wan21, inputs, spec, tmp_path / "t.h5", num_steps=STEPS, progress=False)
    with TraceStore.open(tmp_path / "t.h5") as store:
        assert store.sites() == ["blocks.1.resid_post"] and store.layers() == [1]
        assert store.branches("blocks.1.resid_post") == ["cond"]
        assert store.steps().tolist() == [0, 3]
        x = store.read(store.sample_ids()[0], "blocks.1.resid_post", dtype=None)
        assert x.dtype == np.float16 and x.shape == (2, 3, 24)  # 3 frames pooled
        for row, step in enumerate([0, 3]):
            full = records[((step, "cond", "transformer"), "blocks.1.resid_post")][0].double()
            expected = full.reshape(3, 4, 24).mean(1).numpy()
            np.testing.assert_allclose(x[row].astype(np.float64), expected, rtol=2e-3, atol=2e-3)


def test_batch_elements_become_samples_equal_to_single_runs(wan21, tmp_path):
    spec = CaptureSpec.make(("resid_post", "x0"), branches=("cond", "uncond"), dtype="float32")
    both = capture(wan21, tiny_inputs(wan21, seeds=(3, 4)), spec, tmp_path / "b.h5", num_steps=STEPS,
                   progress=False, save_video=False)
    assert [i.split("-")[0] for i in both.written] == ["seed3", "seed4"]
    capture(wan21, tiny_inputs(wan21, seeds=(4,)), spec, tmp_path / "s.h5", num_steps=STEPS, progress=False,
            save_video=False)
    with TraceStore.open(tmp_path / "b.h5") as b, TraceStore.open(tmp_path / "s.h5") as s:
        assert s.sample_ids() == both.written[1:]  # the same inputs get the same id in any batch
        for site in s.sites():
            for branch in s.branches(site):
                np.testing.assert_allclose(b.read(both.written[1], site, branch=branch), s.read(both.written[1], site, branch=branch),
                                           rtol=1e-5, atol=1e-5)
        assert not np.allclose(b.read(both.written[0], "x0"), b.read(both.written[1], "x0"))
