"""Interventions are plain data: JSON round trips, provenance in the store, refused mixed appends."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interp.capture import CaptureSpec, capture
from interp.errors import InputError
from interp.interventions import (
    Add, Apply, At, Collect, Intervention, Mean, Merge, Noise, Patch, Project, Scale, Set, Swap, Tokens, Zero, dumps,
    loads, observe, run,
)
from interp.models.tiny import tiny_wan_inputs
from interp.store import TraceStore

EVERY_KIND = [
    Intervention(At("blocks.0.resid_post", steps=[1], branch="cond"), Set(torch.arange(3.0))),
    Intervention(At("blocks.1.attn1.out", expert="transformer", tokens=Tokens.at([0, 2])), Add(0.5)),
    Intervention(At("blocks.1.ffn.out", samples=[0], tokens=Tokens.in_frames(1)), Zero()),
    Intervention(At("blocks.0.resid_pre", tokens=Tokens.region(frames=[0], rows=(0, 1), cols=(1, 2))), Scale(2.0)),
    Intervention(At("blocks.0.attn2.out", tokens=Tokens.from_mask([True, False] * 6)), Mean(over="samples")),
    Intervention(At("x_t", steps=[0, 2]), Noise(std=0.3, seed=4, relative=True)),
    Intervention(At("velocity", branch="uncond"), Project([1.0, 0.0, 0.0], mode="in")),
    Intervention(At("x0"), Patch("clean", take=[1, 0], site="x0")),
    Intervention(At("x_t", samples=[0, 1]), Swap([1, 0])),
    Intervention(At("x_t", steps=[1]), Merge([(0, 1)], weights=[(1.0, 3.0)])),
    Intervention(At("blocks.1.resid_post"), Collect(reduce="pool:2")),
]


def test_every_action_round_trips_through_json():
    text = dumps(EVERY_KIND)
    assert loads(text) == EVERY_KIND
    assert loads(json.dumps(json.loads(text))) == EVERY_KIND
    assert {item["do"]["kind"] for item in json.loads(text)} == {
        "set", "add", "zero", "scale", "mean", "noise", "project", "patch", "swap", "merge", "collect"}


def test_a_python_function_cannot_pass_for_data():
    with pytest.raises(InputError, match="cannot be saved"):
        dumps([Intervention(At("x_t"), Apply(lambda x, ctx: x))])


def test_store_records_interventions_and_refuses_an_append_with_others(wan21, tmp_path):
    inputs = tiny_wan_inputs(wan21, guidance=1.0, seeds=(3,))
    spec = CaptureSpec.make(("resid_post", "x0"), dtype="float32")
    edit = [Intervention(At("blocks.0.resid_post", steps=[1]), Scale(0.0))]
    capture(wan21, inputs, spec, tmp_path / "t.h5", num_steps=3, interventions=edit, progress=False)
    with TraceStore.open(tmp_path / "t.h5") as store:
        assert loads(json.dumps(store.spec["interventions"])) == edit
        edited_x0 = store.read(store.sample_ids()[0], "x0")
    other = tiny_wan_inputs(wan21, guidance=1.0, seeds=(4,))
    for interventions in ([], [Intervention(At("blocks.0.resid_post", steps=[1]), Scale(0.5))]):
        with pytest.raises(InputError):
            capture(wan21, other, spec, tmp_path / "t.h5", num_steps=3, interventions=interventions, progress=False)
    capture(wan21, inputs, spec, tmp_path / "clean.h5", num_steps=3, progress=False)
    with TraceStore.open(tmp_path / "clean.h5") as store:
        assert store.spec["interventions"] == []
        assert not np.array_equal(store.read(store.sample_ids()[0], "x0"), edited_x0)
    # the same inputs and interventions again: the sample is already there, nothing is rerun
    again = capture(wan21, inputs, spec, tmp_path / "t.h5", num_steps=3, interventions=edit, progress=False)
    assert again.written == [] and len(again.skipped) == 1


def test_an_id_reused_for_other_inputs_is_an_error(wan21, tmp_path):
    spec = CaptureSpec.make(("x0",), dtype="float32")
    capture(wan21, tiny_wan_inputs(wan21, guidance=1.0, seeds=(3,)), spec, tmp_path / "t.h5", num_steps=2,
            sample_ids=["maze"], progress=False)
    other = tiny_wan_inputs(wan21, guidance=1.0, seeds=(5,))
    with pytest.raises(InputError, match="other inputs"):
        capture(wan21, other, spec, tmp_path / "t.h5", num_steps=2, sample_ids=["maze"], progress=False)
    # without ids, different inputs with the same seed get different names
    a = wan21.prepare(prompt_embeds=torch.zeros(1, 8, 32), guidance_scale=1.0, seeds=[3], height=32, width=32,
                      num_frames=9)
    b = wan21.prepare(prompt_embeds=torch.ones(1, 8, 32), guidance_scale=1.0, seeds=[3], height=32, width=32,
                      num_frames=9)
    first = capture(wan21, a, spec, tmp_path / "u.h5", num_steps=2, progress=False).written
    second = capture(wan21, b, spec, tmp_path / "u.h5", num_steps=2, progress=False).written
    assert len(first) == len(second) == 1 and first != second


def test_swap_noise_and_project_do_what_they_say(wan21):
    inputs = tiny_wan_inputs(wan21, guidance=1.0, seeds=(3, 4))
    def x_t_after(inputs, item):  # the state entering step 0, after the edit
        return run(wan21, inputs, [item, *observe("x_t")], num_steps=1, decode=False, progress=False).at("x_t", 0)

    seen = x_t_after(inputs, Intervention(At("x_t", steps=[0]), Swap([1, 0])))
    assert torch.equal(seen[0], inputs.latents[1]) and torch.equal(seen[1], inputs.latents[0])
    item = Intervention(At("x_t", steps=[0]), Noise(std=2.0, seed=1))
    delta = x_t_after(inputs, item) - inputs.latents
    assert abs(float(delta.std()) - 2.0) < 0.2
    again = x_t_after(inputs.take([1]), Intervention(At("x_t", steps=[0]), Noise(std=2.0, seed=1)))
    assert not torch.equal(again[0] - inputs.latents[1], delta[1])  # noise is per (seed, step, row)
    direction = torch.randn(16)
    seen = x_t_after(inputs, Intervention(At("x_t", steps=[0]), Project(direction)))
    tokens = seen.permute(0, 2, 3, 4, 1).reshape(2, -1, 16)
    assert float((tokens @ (direction / direction.norm())).abs().max()) < 1e-4
