"""Erase, noise and swap on the tiny organism and a tiny random Wan: they touch what they say."""

import numpy as np
import pytest
import torch

from interp.causal.erase import erase_run, project_run, random_direction, reform
from interp.causal.noise import noise_at_frame, noise_at_step
from interp.causal.maze_runs import loop_value
from interp.causal.swap import partners, swap_at
from interp.errors import InputError
from interp.interventions import At, Collect, Intervention, observe, run, run_with_cache
from interp.models.tiny import tiny_wan, tiny_wan_inputs
from interp.organism.tiny import tiny_organism
from interp.sampling import schedule
from interp.tokens import latent_tokens

STEPS = 4


@pytest.fixture(params=["organism", "wan"])
def model_inputs(request, one_torch_thread):
    if request.param == "organism":
        return tiny_organism(maze_seeds=(0, 1), seeds=(7, 8))
    model = tiny_wan("t2v")
    return model, tiny_wan_inputs(model, guidance=1.0, seeds=(7, 8))


def x_t_entering(model, inputs, step, edits=(), **options):
    out = run(model, inputs, [*edits, *observe("x_t", steps=[step])], num_steps=STEPS, decode=False, progress=False,
              **options)
    return out.at("x_t", step)


def test_erase_touches_exactly_the_chosen_tokens(model_inputs):
    model, inputs = model_inputs
    step = 2
    clean = run_with_cache(model, inputs, ["x_t", "x0"], num_steps=STEPS, decode=False, progress=False).cache
    x_t, x0 = loop_value(clean, "x_t", step, inputs.latents), loop_value(clean, "x0", step, inputs.latents)
    tokens = x_t[0, 0].numel()
    mask = np.zeros((2, tokens), bool)
    mask[0, [1, 5, 9]] = True
    mask[1, [2]] = True
    seen = {step: erase_run(model, inputs, step=step, mask=mask, fill=0.25, x_t=x_t, x0=x0, num_steps=STEPS,
                            decode=False, extra=observe("x_t", steps=[step])).at("x_t", step)}
    new, _ = latent_tokens(seen[step].float())
    old, _ = latent_tokens(x_t.float())
    changed = (new - old).abs().amax(-1) > 0
    assert torch.equal(changed, torch.as_tensor(mask) & changed)            # nothing outside the mask
    expected = reform(x_t, x0, mask, 0.25, float(schedule(model, STEPS)[2][step]))
    assert torch.allclose(seen[step].float(), expected.float(), atol=1e-5)


def test_erase_rejects_a_step_outside_the_schedule(model_inputs):
    model, inputs = model_inputs
    x = inputs.latents
    with pytest.raises(InputError, match="outside the schedule"):
        erase_run(model, inputs, step=STEPS, mask=np.zeros((2, x[0, 0].numel()), bool), fill=0.0, x_t=x, x0=x,
                  num_steps=STEPS)


def test_project_run_changes_only_the_chosen_block_tokens(model_inputs):
    model, inputs = model_inputs
    site = "blocks.1.resid_post"
    base = run_with_cache(model, inputs, [site], num_steps=STEPS, steps=[1], decode=False, progress=False).cache
    value = base.get(site, 1)
    mask = np.zeros(value.shape[:2], bool)
    mask[:, :3] = True
    direction = random_direction(torch.ones(value.shape[-1]), seed=0)
    collect = Intervention(At(site, steps=[1], branch="cond"), Collect())
    out = project_run(model, inputs, layer=1, step=1, mask=mask, direction=direction, num_steps=STEPS, decode=False,
                      extra=[collect]).cache.get(site, 1)
    assert torch.equal(out[:, 3:], value[:, 3:])
    unit = direction / direction.norm()
    assert float((out[:, :3].float() @ unit.to(out.device)).abs().max()) < 1e-3


def test_noise_at_step_and_frame_touch_only_their_step_and_frame(model_inputs):
    model, inputs = model_inputs
    clean = x_t_entering(model, inputs, 1)
    at_step = x_t_entering(model, inputs, 1, noise_at_step(1, 0.5, num_steps=STEPS))
    assert not torch.equal(clean, at_step)
    assert torch.equal(x_t_entering(model, inputs, 0, noise_at_step(1, 0.5, num_steps=STEPS)),
                       x_t_entering(model, inputs, 0))
    frames = inputs.latents.shape[2]
    at_frame = x_t_entering(model, inputs, 0, noise_at_frame(frames - 1, 0.5, num_steps=STEPS, num_frames=frames))
    differs = (at_frame - x_t_entering(model, inputs, 0)).abs().amax(dim=(0, 1, 3, 4)) > 0
    assert differs.tolist() == [False] * (frames - 1) + [True]


@pytest.mark.parametrize("call, message", [
    (lambda: noise_at_step(4, 0.5, num_steps=4), "outside the schedule"),
    (lambda: noise_at_frame(4, 0.5, num_steps=4, num_frames=4), "unknown frame 4"),
    (lambda: noise_at_step(0, -0.1, num_steps=4), "noise strength -0.1"),
])
def test_noise_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_swap_puts_the_other_samples_tokens_in_place(model_inputs):
    model, inputs = model_inputs
    site = "blocks.0.resid_post"
    source = run_with_cache(model, inputs, [site], num_steps=STEPS, steps=[0], decode=False, progress=False).cache
    collect = [Intervention(At(site, steps=[0], branch="cond"), Collect())]
    out = run(model, inputs, swap_at(0, 0, take=[1, 0]) + collect, sources={"other": source}, num_steps=STEPS,
              decode=False, progress=False).cache.get(site, 0)
    assert torch.equal(out, source.get(site, 0, take=[1, 0]))


def test_partners_pick_another_route():
    assert partners(["a", "a", "b"]) == [2, 2, 0]
    with pytest.raises(InputError, match="no partner"):
        partners(["a", "a"])


def test_swapping_the_whole_hidden_state_gives_the_same_velocity_at_every_layer(one_torch_thread):
    """Why a resid_post swap cannot depend on the layer in the organism: each maze enters only at
    the patch embedding and the prompt is shared, so the blocks after k recompute the other maze's
    stream exactly and the step's x0_hat is the other maze's, whatever k is."""
    model, inputs = tiny_organism(maze_seeds=(0, 1), seeds=(7, 8))
    sites = ["blocks.0.resid_post", "blocks.1.resid_post"]
    clean = run_with_cache(model, inputs, sites + ["x0"], num_steps=STEPS, steps=[0], end_step=1, decode=False,
                           progress=False).cache
    for layer in (0, 1):
        out = run(model, inputs, swap_at(layer, 0, take=[1, 0]) + [Intervention(At("x0", steps=[0]), Collect())],
                  sources={"other": clean}, num_steps=STEPS, end_step=1, decode=False, progress=False)
        x0, other = out.cache.get("x0", 0), clean.get("x0", 0, take=[1, 0])
        # x0 = x_t - sigma v: the velocity is the other maze's, so x0 differs from the other's by x_t's difference only
        sigma0 = float(schedule(model, STEPS)[2][0])
        x_t = latent_tokens(inputs.latents)[0]
        expected = other + (x_t - x_t[[1, 0]]).to(other.dtype)
        assert torch.allclose(x0, expected, atol=1e-4 * max(1.0, sigma0))


def test_scaled_noise_is_a_multiple_of_the_step_sigma(model_inputs):
    from interp.causal.noise import noise_at_frame_scaled, noise_at_step_scaled

    model, inputs = model_inputs
    sigmas = [float(x) for x in schedule(model, STEPS)[2][:STEPS]]
    for step in (1, 3):
        clean = x_t_entering(model, inputs, step)
        noised = x_t_entering(model, inputs, step, noise_at_step_scaled(step, 0.5, sigmas=sigmas))
        fixed = x_t_entering(model, inputs, step, noise_at_step(step, 0.5 * sigmas[step], num_steps=STEPS))
        assert torch.allclose(noised, fixed)                           # the same draw, at std 0.5 sigma_step
        realised = float((noised - clean).float().std())
        assert abs(realised / (0.5 * sigmas[step]) - 1) < 0.2
    frames = inputs.latents.shape[2]
    edits = noise_at_frame_scaled(0, 1.0, sigmas=sigmas, num_frames=frames)
    assert [list(i.at.steps) for i in edits] == [[s] for s in range(STEPS)]
    assert [i.do.std for i in edits] == pytest.approx(sigmas)
    differs = (x_t_entering(model, inputs, 0, edits) - x_t_entering(model, inputs, 0)).abs().amax(dim=(0, 1, 3, 4)) > 0
    assert differs.tolist() == [True] + [False] * (frames - 1)


def test_scaled_arms_need_the_schedule():
    from interp.causal.noise import noise_arms

    with pytest.raises(InputError, match="needs the schedule's 4 sigmas"):
        noise_arms([1.0], [0], [0], [0], num_steps=4, num_frames=2, ratios=[1.0])
    names = [n for n, _, _ in noise_arms([1.0], [3], [0], [3], num_steps=4, num_frames=2, ratios=[0.5],
                                         sigmas=[1.0, 0.8, 0.5, 0.2])]
    assert names[-2:] == ["step3/rel0.5", "frame0/rel0.5"]


def test_matched_change_moves_other_tokens_as_far_as_the_erasure_would(model_inputs):
    from interp.causal.erase import matched_change

    model, inputs = model_inputs
    step = 1
    clean = run_with_cache(model, inputs, ["x_t", "x0"], num_steps=STEPS, decode=False, progress=False).cache
    x_t, x0 = loop_value(clean, "x_t", step, inputs.latents), loop_value(clean, "x0", step, inputs.latents)
    fill = torch.full((x0.shape[1],), 0.7)
    pairs = [np.array([[1, 10, 0], [2, 11, 0], [5, 20, 1]]), np.array([[3, 4, 0]])]
    mask, values = matched_change(x0, pairs, fill, seed=3)
    tokens, _ = latent_tokens(x0.float())
    assert mask.sum(1).tolist() == [3, 1] and mask[0, [10, 11, 20]].all() and mask[1, 4]
    for i, p in enumerate(pairs):
        erase_norm = (fill - tokens[i, p[:, 0]]).norm(dim=-1)
        moved = (values[i, p[:, 1]] - tokens[i, p[:, 1]]).norm(dim=-1)
        assert torch.allclose(moved, erase_norm, atol=1e-5)              # same colour distance per token
        assert not torch.allclose(values[i, p[:, 1]] - tokens[i, p[:, 1]], fill - tokens[i, p[:, 0]])  # turned
    seen = {step: erase_run(model, inputs, step=step, mask=mask, fill=values, x_t=x_t, x0=x0, num_steps=STEPS,
                            decode=False, extra=observe("x_t", steps=[step])).at("x_t", step)}
    new, _ = latent_tokens(seen[step].float())
    old, _ = latent_tokens(x_t.float())
    changed = (new - old).abs().amax(-1) > 0
    assert torch.equal(changed, mask & changed)
    sigma = float(schedule(model, STEPS)[2][step])
    assert torch.allclose((new - old)[mask].norm(dim=-1), (1 - sigma) * (values - tokens)[mask].norm(dim=-1), atol=1e-4)
    with pytest.raises(InputError, match="names a target token twice"):
        matched_change(x0, [np.array([[1, 2, 0], [3, 2, 0]]), np.zeros((0, 3), int)], fill)


def test_paired_tokens_pair_units_pixel_by_pixel():
    from interp.causal.maze import paired_tokens, pixel_mask

    a, b = np.zeros((5, 5), bool), np.zeros((5, 5), bool)
    a[1, 1] = a[3, 2] = True
    b[0, 4] = b[2, 0] = True
    p = paired_tokens(a, b, num_frames=2, px=2)
    assert p.shape == (2 * 2 * 2 * 2, 3) and sorted(set(p[:, 2])) == [0, 1]
    assert set(p[:, 0]) == set(np.flatnonzero(pixel_mask(a[None], num_frames=2, px=2)[0]))
    assert set(p[:, 1]) == set(np.flatnonzero(pixel_mask(b[None], num_frames=2, px=2)[0]))
    side = 10
    first = p[p[:, 2] == 0][0]
    assert divmod(first[0] % (side * side), side) == (2, 2) and divmod(first[1] % (side * side), side) == (0, 8)
