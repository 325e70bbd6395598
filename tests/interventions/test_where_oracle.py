"""An intervention changes exactly the values it names, as a raw forward hook doing the same does."""

from __future__ import annotations

import torch

from interp.interventions import At, Intervention, Set, Tokens, observe, run, run_with_cache
from interp.models.tiny import tiny_wan_inputs
from interp.sampling import schedule
from tests.sampling.loop_states import loop_states

STEPS = 4
BLOCK_SITES = [f"blocks.{l}.{k}" for l in (0, 1) for k in ("resid_pre", "attn1.out", "ffn.out", "resid_post")]


def test_block_edit_changes_exactly_its_step_branch_expert_layer_and_region(wan22):
    """Wan2.2 with guidance: two experts, two branches; the edit is at one (step, branch, expert, layer,
    sample, region); every other captured value before it is unchanged, and the run equals a raw hook's."""
    inputs = tiny_wan_inputs(wan22, seeds=(7, 8))
    step = 3  # the low-noise expert runs here
    assert wan22.expert_for(wan22(inputs, num_steps=STEPS, decode=False, progress=False)
                            .timesteps[step]) == "transformer_2"
    region = Tokens.region(frames=[1], rows=(0, 1))  # grid (3, 2, 2): tokens 4 and 5
    value = torch.randn(24, generator=torch.Generator().manual_seed(3))
    edit = Intervention(At("blocks.1.attn1.out", steps=[step], branch="uncond", expert="transformer_2",
                           samples=[1], tokens=region), Set(value))
    clean = run_with_cache(wan22, inputs, BLOCK_SITES, branches=("cond", "uncond"), num_steps=STEPS,
                           decode=False, progress=False)
    edited = run_with_cache(wan22, inputs, BLOCK_SITES, branches=("cond", "uncond"), interventions=[edit],
                            num_steps=STEPS, decode=False, progress=False)

    for site, branch, s in clean.cache.keys():
        a, b = clean.cache.get(site, s, branch), edited.cache.get(site, s, branch)
        if (s, branch) < (step, "uncond") or (s == step and branch == "uncond" and site.startswith("blocks.0")):
            assert torch.equal(a, b), (site, branch, s)
    a = clean.cache.get("blocks.1.attn1.out", step, "uncond")
    b = edited.cache.get("blocks.1.attn1.out", step, "uncond")
    changed = (a != b).any(dim=-1).nonzero().tolist()
    assert changed == [[1, 4], [1, 5]]
    assert torch.equal(b[1, 4], value.to(b.dtype)) and torch.equal(b[1, 5], value.to(b.dtype))

    # Oracle: the same edit by a raw torch hook on that expert's module.
    module = wan22.transformer_2.blocks[1].attn1

    def hook(m, args, output):
        label = wan22.current_call
        if (label.step, label.branch) == (step, "uncond"):
            output = output.clone()
            output[1, 4:6] = value.to(output.dtype)
            return output

    handle = module.register_forward_hook(hook)
    try:
        oracle = wan22(inputs, num_steps=STEPS, decode=False, progress=False)
    finally:
        handle.remove()
    assert torch.equal(edited.latents, oracle.latents)
    assert not torch.equal(edited.latents, clean.latents)


def test_resid_pre_of_block_0_is_the_embedded_input_and_edits_it(wan21):
    inputs = tiny_wan_inputs(wan21, guidance=1.0)
    seen = {}

    def record(module, args):
        seen[wan21.current_call.step] = args[0].detach().clone()

    handle = wan21.transformer.blocks[0].register_forward_pre_hook(record)
    try:
        out = run_with_cache(wan21, inputs, ["blocks.0.resid_pre", "blocks.1.resid_pre", "blocks.0.resid_post"],
                             num_steps=STEPS, decode=False, progress=False)
    finally:
        handle.remove()
    for step in range(STEPS):
        assert torch.equal(out.cache.get("blocks.0.resid_pre", step), seen[step])
        assert torch.equal(out.cache.get("blocks.1.resid_pre", step), out.cache.get("blocks.0.resid_post", step))
    zeroed = run(wan21, inputs, [Intervention(At("blocks.0.resid_pre", steps=[0]), Set(0.0))], num_steps=STEPS,
                 decode=False, progress=False)
    assert not torch.equal(zeroed.latents, out.latents)


def test_loop_edits_land_on_their_step_and_frames(wan21):
    inputs = tiny_wan_inputs(wan21, guidance=5.0)
    clean = loop_states(wan21, inputs, num_steps=STEPS, decode=False, progress=False)
    frame = Tokens.in_frames(2)
    items = [Intervention(At("x_t", steps=[1], tokens=frame), Set(0.0)),
             Intervention(At("x0", steps=[2]), Set(0.5))]
    edited = run(wan21, inputs, [*items, *observe("x_t", "x0")], num_steps=STEPS, decode=False, progress=False)
    before_edits = run(wan21, inputs, [*observe("x_t", steps=[1]), *items], num_steps=STEPS, decode=False,
                       progress=False)  # a collect listed first sees x_t before the step-1 edit: step 0's x_next
    assert torch.equal(clean[0].x_next, before_edits.at("x_t", 1))
    x_t = edited.at("x_t", 1)
    assert torch.all(x_t[:, :, 2] == 0) and torch.equal(x_t[:, :, :2], clean[1].x_t[:, :, :2])
    # an edited x0 is what the step's state reports, and the scheduler steps towards it
    x0 = edited.at("x0", 2)
    torch.testing.assert_close(x0, torch.full_like(x0, 0.5), rtol=0, atol=1e-5)
    sigmas = schedule(wan21, STEPS)[2]
    sigma, nxt = float(sigmas[2]), float(sigmas[3])
    expected = edited.at("x_t", 2) + (nxt - sigma) * (edited.at("x_t", 2) - x0) / sigma
    torch.testing.assert_close(edited.at("x_t", 3), expected, rtol=1e-5, atol=1e-5)
