"""Bad interventions are refused before the first step, naming the bad value and what is valid."""

from __future__ import annotations

import pytest
import torch

from interp.capture import CaptureSpec, capture
from interp.errors import InputError
from interp.interventions import At, Intervention, Patch, Project, Set, Swap, Tokens, run
from interp.store import StoreSource
from interp.models.tiny import tiny_wan_inputs
from interp.organism.tiny import tiny_organism


def bad_cases():
    return [
        (lambda: At("blocks.0.resid_mid"), "unknown site 'blocks.0.resid_mid'"),
        (lambda: At("x_t", branch="cond"), "unknown branch 'cond' for site x_t"),
        (lambda: At("x0", steps=[]), "no steps chosen"),
        (lambda: Tokens.from_mask([[[True]]]), "a token mask must be"),
    ]


@pytest.mark.parametrize("make, needle", bad_cases())
def test_bad_where_is_refused_when_built(make, needle):
    with pytest.raises(InputError, match=None) as err:
        make()
    assert needle in str(err.value)


@pytest.mark.parametrize("item, needle", [
    (Intervention(At("blocks.2.resid_post"), Set(0.0)), "layer 2 of site blocks.2.resid_post is out of range: choose 0..1"),
    (Intervention(At("x_t", steps=[9]), Set(0.0)), "step of intervention 0 at x_t 9 is out of range: choose 0..2"),
    (Intervention(At("blocks.0.resid_post", branch="uncond"), Set(0.0)), "asks for branch 'uncond'"),
    (Intervention(At("blocks.0.resid_post", expert="transformer_2"), Set(0.0)), "unknown expert 'transformer_2'"),
    (Intervention(At("x_t", samples=[3]), Set(0.0)), "sample of intervention 0 3 is out of range: choose 0..1"),
    (Intervention(At("x_t", tokens=Tokens.region(rows=(0, 9))), Set(0.0)), "rows [0, 9) leave the token grid"),
    (Intervention(At("x_t", tokens=Tokens.in_frames(7)), Set(0.0)), "frame 7 is out of range"),
    (Intervention(At("x_t", tokens=Tokens.at([999])), Set(0.0)), "token index 999 is out of range"),
    (Intervention(At("blocks.0.resid_post"), Project(torch.ones(5))), "direction has 5 channels; site blocks.0.resid_post has 24"),
    (Intervention(At("x_t"), Patch("clean")), "patch source 'clean' was not given"),
    (Intervention(At("x_t", samples=[0]), Swap([0, 1])), "swap take has 2 entries for 1 chosen samples"),
])
def test_bad_interventions_are_refused_before_the_run(wan21, item, needle):
    inputs = tiny_wan_inputs(wan21, guidance=1.0, seeds=(1, 2))
    calls = []
    handle = wan21.transformer.register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        with pytest.raises(InputError) as err:
            run(wan21, inputs, [item], num_steps=3, decode=False, progress=False)
    finally:
        handle.remove()
    assert needle in str(err.value)
    assert calls == []  # nothing ran


def test_a_source_store_of_another_model_or_geometry_is_refused(wan21, tmp_path):
    inputs = tiny_wan_inputs(wan21, guidance=1.0)
    spec = CaptureSpec.make(("resid_post",), dtype="float32")
    capture(wan21, inputs, spec, tmp_path / "wan.h5", num_steps=3, progress=False)
    from interp.capture import fingerprint

    organism, organism_inputs = tiny_organism()
    with pytest.raises(InputError, match="another model"):
        StoreSource(tmp_path / "wan.h5", fingerprint=fingerprint(organism))
    source = StoreSource(tmp_path / "wan.h5", fingerprint=fingerprint(wan21))
    item = Intervention(At("blocks.0.resid_post"), Patch("src"))
    with pytest.raises(InputError, match="another geometry"):
        run(organism, organism_inputs, [item], sources={"src": source}, num_steps=3, progress=False)
    with pytest.raises(InputError, match="no steps \\[3\\]"):
        run(wan21, inputs, [item], sources={"src": source}, num_steps=4, progress=False)
    # the right store patches from disk: its own values change nothing
    same = run(wan21, inputs, [item], sources={"src": source}, num_steps=3, progress=False, decode=False)
    plain = run(wan21, inputs, num_steps=3, progress=False, decode=False)
    assert torch.equal(same.latents, plain.latents)
