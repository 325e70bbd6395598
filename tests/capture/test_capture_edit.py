"""Editing a site through nnsight changes the run exactly where asked, as a raw hook edit does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.capture import CaptureSpec, Edit, capture, run_with_edits
from interp.capture.sites import site_module
from interp.errors import InputError
from interp.sampling import sample, schedule
from interp.store import TraceStore

from tiny_wan import tiny_inputs

STEPS = 4
TOKENS = [1, 6]


def hook_edit(model, inputs, edit, layer, value):
    """The same edit with a plain forward hook on the module of the expert active at the step."""
    _, timesteps, _ = schedule(model, STEPS)
    module = site_module(model, model.expert_for(timesteps[edit.step]), layer, "resid_post")

    def hook(m, args, output):
        label = model.current_call
        if label.step == edit.step and label.branch == edit.branch:
            output = output.clone()
            output[:, TOKENS] = value
            return output

    handle = module.register_forward_hook(hook)
    try:
        return sample(model, inputs, num_steps=STEPS, progress=False, decode=False)
    finally:
        handle.remove()


@pytest.mark.parametrize("fixture", ["wan21", "wan22"])
def test_edit_matches_hook_oracle(fixture, request):
    model = request.getfixturevalue(fixture)
    inputs = tiny_inputs(model)
    value = torch.randn(24, generator=torch.Generator().manual_seed(3))
    edit = Edit("blocks.0.resid_post", step=2, branch="uncond", tokens=TOKENS, value=value)
    edited = run_with_edits(model, inputs, [edit], num_steps=STEPS, decode=False, progress=False)
    oracle = hook_edit(model, inputs, edit, 0, value)
    clean = sample(model, inputs, num_steps=STEPS, progress=False, decode=False)
    assert torch.equal(edited.latents, oracle.latents)
    assert not torch.equal(edited.latents, clean.latents)


def test_edit_lands_exactly_at_its_call_and_tokens(wan21, tmp_path):
    inputs = tiny_inputs(wan21)
    value = torch.full((24,), 3.0)
    spec = CaptureSpec.make(("resid_post",), branches=("cond", "uncond"), dtype="float32")
    capture(wan21, inputs, spec, tmp_path / "clean.h5", num_steps=STEPS, progress=False, save_video=False)
    edit = Edit("blocks.0.resid_post", step=2, branch="cond", tokens=TOKENS, value=value)
    capture(wan21, inputs, spec, tmp_path / "edit.h5", num_steps=STEPS, progress=False, save_video=False,
            edits=[edit])
    with TraceStore.open(tmp_path / "clean.h5") as a, TraceStore.open(tmp_path / "edit.h5") as b:
        def pair(site, branch, step):
            return (a.read("seed7", site, branch=branch, steps=[step])[0],
                    b.read("seed7", site, branch=branch, steps=[step])[0])

        for step in (0, 1):  # before the edit: identical everywhere
            for site in ("blocks.0.resid_post", "blocks.1.resid_post"):
                for branch in ("cond", "uncond"):
                    x, y = pair(site, branch, step)
                    np.testing.assert_array_equal(x, y)
        x, y = pair("blocks.0.resid_post", "cond", 2)  # the edited call: only the chosen tokens
        changed = np.flatnonzero(np.any(x != y, axis=1)).tolist()
        assert changed == TOKENS
        np.testing.assert_array_equal(y[TOKENS], np.full((2, 24), 3.0, np.float32))
        x, y = pair("blocks.1.resid_post", "cond", 2)  # the next block sees the edit
        assert np.any(x != y)
        x, y = pair("blocks.0.resid_post", "uncond", 2)  # the other branch of that step is untouched
        np.testing.assert_array_equal(x, y)
        x, y = pair("blocks.0.resid_post", "cond", 3)  # later steps inherit the change through x_t
        assert np.any(x != y)


def test_bad_edits_raise_input_error(wan21):
    inputs = tiny_inputs(wan21, guidance=1.0)
    bad = [
        Edit("blocks.5.resid_post", step=0, value=0.0),
        Edit("blocks.0.resid_post", step=9, value=0.0),
        Edit("blocks.0.resid_post", step=0, branch="uncond", value=0.0),
        Edit("x0", step=0, value=0.0),
        Edit("blocks.0.resid_post", step=0),
    ]
    for edit in bad:
        with pytest.raises(InputError):
            run_with_edits(wan21, inputs, [edit], num_steps=STEPS, decode=False, progress=False)


def test_several_edits_in_one_run_match_hooks(wan22):
    inputs = tiny_inputs(wan22)
    edits = [
        Edit("blocks.1.ffn.out", step=0, branch="cond", fn=lambda x: 0 * x),
        Edit("blocks.0.attn1.out", step=0, branch="cond", tokens=[2], value=1.0),
        Edit("blocks.1.resid_post", step=3, branch="uncond", fn=lambda x: -x),  # transformer_2 runs here
    ]
    edited = run_with_edits(wan22, inputs, edits, num_steps=STEPS, decode=False, progress=False)
    _, timesteps, _ = schedule(wan22, STEPS)
    handles = []
    for edit in edits:
        layer, kind = edit.layer_kind
        module = site_module(wan22, wan22.expert_for(timesteps[edit.step]), layer, kind)

        def hook(m, args, output, edit=edit):
            label = wan22.current_call
            if label.step == edit.step and label.branch == edit.branch:
                return edit.apply(output, slice(None))

        handles.append(module.register_forward_hook(hook))
    try:
        oracle = sample(wan22, inputs, num_steps=STEPS, progress=False, decode=False)
    finally:
        for h in handles:
            h.remove()
    assert torch.equal(edited.latents, oracle.latents)
