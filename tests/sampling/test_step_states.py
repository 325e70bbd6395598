"""What the loop exposes per step, and replacing x_t at a chosen step."""

import torch

from interp.models import WanModel
from interp.models.tiny import TEXT_DIM, tiny_wan_pipeline
from tests.sampling.loop_states import loop_states


def make(guidance=5.0, seeds=(0,)):
    model = WanModel(tiny_wan_pipeline("t2v"))
    g = torch.Generator().manual_seed(3)
    inputs = model.prepare(prompt_embeds=torch.randn(1, 8, TEXT_DIM, generator=g),
                           negative_prompt_embeds=torch.randn(1, 8, TEXT_DIM, generator=g),
                           height=16, width=16, num_frames=5, guidance_scale=guidance, seeds=list(seeds))
    return model, inputs


def test_states_follow_flow_matching_identities():
    model, inputs = make()
    states = loop_states(model, inputs, num_steps=4, decode=False, progress=False)
    assert [s.step for s in states] == [0, 1, 2, 3]
    for s in states:
        guided = s.velocity_uncond + 5.0 * (s.velocity_cond - s.velocity_uncond)
        assert torch.equal(s.velocity, guided)
        torch.testing.assert_close(s.x0, s.x_t - s.sigma * s.velocity)
        # Euler: x_next = x_t + (sigma_next - sigma) v
        torch.testing.assert_close(s.x_next, s.x_t + (s.sigma_next - s.sigma) * s.velocity, rtol=1e-5, atol=1e-5)
    for prev, nxt in zip(states, states[1:]):
        assert torch.equal(prev.x_next, nxt.x_t)
        assert nxt.sigma < prev.sigma


def test_merging_x_t_replaces_it_only_from_that_step():
    from interp.interventions import At, Intervention, Merge, observe, run

    model, inputs = make(guidance=1.0, seeds=(0, 1, 2))
    clean = loop_states(model, inputs, num_steps=4, decode=False, progress=False)
    merge = Intervention(At("x_t", steps=[2]), Merge(groups=[(0, 1, 2)]))
    out = run(model, inputs, [merge, *observe("x_t")], num_steps=4, decode=False, progress=False)
    edited_x_t = {step: out.at("x_t", step) for step in range(4)}
    for step in (0, 1):
        assert torch.equal(clean[step].x_t, edited_x_t[step])
    merged = edited_x_t[2]
    assert torch.equal(merged[0], merged[1]) and torch.equal(merged[1], merged[2])
    torch.testing.assert_close(merged[0], clean[2].x_t.mean(dim=0))
    # once merged, the three trajectories stay together (up to batched-matmul rounding)
    last_x_next = out.latents  # the state after the last step
    torch.testing.assert_close(last_x_next[0], last_x_next[2], rtol=1e-5, atol=1e-5)


def test_per_sample_seeds_are_independent_of_batch():
    model, alone = make(guidance=1.0, seeds=(5,))
    _, batch = make(guidance=1.0, seeds=(4, 5))
    assert torch.equal(alone.latents[0], batch.latents[1])
