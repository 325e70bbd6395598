"""Merging K copies of one seed is that seed's run; a merge touches only the rows and steps asked for."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.ensemble import OPERATORS, ensemble_nfe, ensemble_run, merge_interventions, seed_groups
from interp.interventions import dumps, loads, observe, run
from interp.interventions.actions import RenoiseMerge, action_from_dict
from interp.errors import InputError
from tests.ensemble.conftest import STEPS, maze_inputs, wan_inputs


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_k_copies_of_one_seed_equal_the_single_seed_run(organism, operator):
    copies = maze_inputs(organism, [7, 7, 7])
    single = run(organism, maze_inputs(organism, [7]), num_steps=STEPS, progress=False)
    merged = ensemble_run(organism, copies, k=3, operator=operator, steps=[1, 2], num_steps=STEPS)
    torch.testing.assert_close(merged.latents, single.latents, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(merged.video, single.video)
    assert merged.nfe == 3 * 3 + 2


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_merge_touches_only_the_chosen_samples_and_steps(organism, operator):
    inputs = maze_inputs(organism, [1, 2, 3, 4, 5], maze_seeds=[0, 0, 0, 1, 1])
    merges = merge_interventions(organism, operator, [(0, 1, 2)], steps=[2], num_steps=STEPS)
    seen = {"base": {}, "merged": {}}
    for name, items in (("base", []), ("merged", merges)):
        out = run(organism, inputs, [*items, *observe("x_t")], num_steps=STEPS, progress=False, decode=False)
        seen[name] = {step: out.at("x_t", step) for step in range(STEPS)}
    first_changed = 2 if operator == "xt_mean" else 3  # an x0 edit shows in the next step's x_t
    for step in range(STEPS):
        base, merged = seen["base"][step], seen["merged"][step]
        assert torch.equal(base[3:], merged[3:]), f"rows outside the group changed at step {step}"
        assert torch.equal(base[:3], merged[:3]) == (step < first_changed), f"step {step}"


def test_renoise_lands_the_reference_on_the_renoised_mean(organism):
    from interp.sampling import schedule

    inputs = maze_inputs(organism, [1, 2, 3])
    sigmas = schedule(organism, STEPS, None)[2].double().tolist()
    s1 = run(organism, inputs, observe("x_t", "x0", steps=[1]), num_steps=STEPS, end_step=2, decode=False,
             progress=False)
    x_t, x0 = s1.at("x_t", 1), s1.at("x0", 1)
    eps_ref = (x_t[0] - (1 - sigmas[1]) * x0[0]) / sigmas[1]
    expected = (1 - sigmas[2]) * x0.mean(dim=0) + sigmas[2] * eps_ref
    merged = run(organism, inputs, merge_interventions(organism, "x0_renoise", [(0, 1, 2)], steps=[1], num_steps=STEPS),
                 num_steps=STEPS, end_step=2, decode=False, progress=False)
    torch.testing.assert_close(merged.latents[0], expected, atol=1e-5, rtol=1e-4)


def test_merges_round_trip_through_json(organism):
    for operator in OPERATORS:
        items = merge_interventions(organism, operator, seed_groups(2, 3), steps=[0, 3], num_steps=STEPS)
        assert loads(dumps(items)) == items
    action = RenoiseMerge(groups=[(0, 1)], sigma=0.5, sigma_next=0.25, ref=1, reduce="median")
    assert action_from_dict(action.to_dict()) == action


def test_renoise_merge_refuses_bad_parameters(organism):
    with pytest.raises(InputError, match="sigma_next"):
        RenoiseMerge(groups=[(0, 1)], sigma=0.2, sigma_next=0.5)
    with pytest.raises(InputError, match="ref"):
        RenoiseMerge(groups=[(0, 1)], sigma=0.5, sigma_next=0.2, ref=2)
    from interp.interventions import At, Intervention

    with pytest.raises(InputError, match="x0 site"):
        run(organism, maze_inputs(organism, [1, 2]), [Intervention(At("x_t", steps=[0]),
            RenoiseMerge(groups=[(0, 1)], sigma=0.5, sigma_next=0.2))], num_steps=STEPS, progress=False)


@pytest.mark.parametrize("operator", ["xt_mean", "x0_renoise"])
def test_tiny_wan_with_guidance(wan, operator):
    copies = wan_inputs(wan, [3, 3])
    assert copies.do_guidance
    single = run(wan, wan_inputs(wan, [3]), num_steps=4, progress=False, decode=False)
    same = ensemble_run(wan, copies, k=2, operator=operator, steps=[1], num_steps=4, decode=False)
    torch.testing.assert_close(same.latents, single.latents, atol=1e-5, rtol=1e-4)
    assert same.nfe == ensemble_nfe(4, 2, 1, guidance=True) == 2 * (2 * 2 + 2)
    other = ensemble_run(wan, wan_inputs(wan, [3, 4]), k=2, operator=operator, steps=[1], num_steps=4)
    assert other.video.shape[0] == 1 and not torch.equal(other.latents, single.latents)


def test_ensemble_run_checks_its_input(organism):
    inputs = maze_inputs(organism, [1, 2, 3])
    with pytest.raises(InputError, match="at least 2"):
        ensemble_run(organism, inputs, k=1, operator="xt_mean", steps=[1], num_steps=STEPS)
    with pytest.raises(InputError, match="merge step"):
        ensemble_run(organism, inputs, k=3, operator="xt_mean", steps=[STEPS], num_steps=STEPS)
    with pytest.raises(InputError, match="merge operator"):
        ensemble_run(organism, inputs, k=3, operator="vote", steps=[1], num_steps=STEPS)
    with pytest.raises(InputError, match="multiple of k"):
        ensemble_run(organism, inputs, k=2, operator="xt_mean", steps=[1], num_steps=STEPS)


def test_an_ensemble_run_can_be_captured(organism, tmp_path):
    from interp.capture import CaptureSpec, capture
    from interp.store import TraceStore

    inputs = maze_inputs(organism, [1, 2, 3])
    merges = merge_interventions(organism, "xt_mean", seed_groups(1, 3), steps=[1], num_steps=STEPS)
    capture(organism, inputs, CaptureSpec.make(["x_t"], dtype="float32"), tmp_path / "ens.h5", num_steps=STEPS,
            interventions=merges, progress=False)
    store = TraceStore.open(tmp_path / "ens.h5")
    ids = store.sample_ids()
    after = [store.read(i, "x_t", branch="guided", steps=[1], dtype=None)[0] for i in ids]
    before = [store.read(i, "x_t", branch="guided", steps=[0], dtype=None)[0] for i in ids]
    np.testing.assert_allclose(after[0], after[2], atol=1e-6)  # merged entering step 1
    assert not np.allclose(before[0], before[2])


def test_cool_lands_one_seed_on_its_own_state_with_the_noise_scaled(organism):
    """The next state is (1 - s') x0 + s' f eps from the unedited step's own x_t and x0 (the oracle);
    f = 1 is the unedited run, and at f = 1/sqrt(K) the state's spread from x0 matches the mean of K seeds'."""
    from interp.interventions import At, Cool, Intervention
    from interp.sampling import schedule

    inputs = maze_inputs(organism, [1, 2])
    sigmas = schedule(organism, STEPS, None)[2].double().tolist()
    base = run(organism, inputs, observe("x_t", "x0", steps=[1]), num_steps=STEPS, end_step=2, decode=False,
               progress=False)
    x_t, x0 = base.at("x_t", 1), base.at("x0", 1)
    eps = (x_t - (1 - sigmas[1]) * x0) / sigmas[1]

    def cooled(factor):
        edit = Intervention(At("x0", steps=[1]), Cool(factor, sigmas[1], sigmas[2]))
        return run(organism, inputs, [edit], num_steps=STEPS, end_step=2, decode=False, progress=False).latents

    torch.testing.assert_close(cooled(1.0), base.latents, atol=1e-5, rtol=1e-4)
    half = cooled(0.5)
    torch.testing.assert_close(half, (1 - sigmas[2]) * x0 + sigmas[2] * 0.5 * eps, atol=1e-5, rtol=1e-4)
    assert (half - base.latents).abs().max() > 0.1  # negative control: the edit is not lost in the tolerance
    assert action_from_dict(Cool(0.5, 0.9, 0.8).to_dict()) == Cool(0.5, 0.9, 0.8)
    with pytest.raises(InputError, match="x0 site"):
        run(organism, inputs, [Intervention(At("x_t", steps=[0]), Cool(0.5, 0.9, 0.8))], num_steps=STEPS,
            progress=False)
    with pytest.raises(InputError, match="factor"):
        Cool(-1.0, 0.9, 0.8)
