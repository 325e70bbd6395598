"""Each speed switch of the patching sweep against the plain sweep, and their mechanisms alone.

The oracle is the plain sweep (every cell's patched step through every block, one forward per
cell) and the full forward; the switches do the same arithmetic, so on the CPU the grids must be
bitwise equal. Negative controls show each check can fail.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.distributed import balanced_shares
from interp.errors import InputError
from interp.interventions import At, Intervention, Patch, Tokens, observe, patch_sweep, run, run_with_cache
from interp.tasks.maze_task import PairMetric, changed_region
from interp.interventions.patch_cells import same_conditioning
from interp.models.speed import attention_backend, compile_blocks, rotary_form
from interp.models.tiny import tiny_wan_inputs
from interp.tasks import make_pairs, render_maze

STEPS = 4


@pytest.fixture(scope="module")
def setup():
    """A random 3-layer organism (the real adapter and Wan class) and two minimal maze pairs."""
    from interp.models.maze_organism import OrganismModel
    from interp.organism import OrganismConfig, build_organism, default_transformer_config

    tcfg = default_transformer_config(num_layers=3, num_attention_heads=2, attention_head_dim=12, ffn_dim=32,
                                      freq_dim=16)
    model = OrganismModel(build_organism(OrganismConfig(num_frames=4), tcfg, seed=1)).eval()
    pairs = make_pairs(5, 2, seed=0)

    def inputs(which):
        frames = np.stack([render_maze(getattr(p, which), upto=0, px_per_unit=2) for p in pairs])
        return model.prepare(first_frame=frames, seeds=[3, 4])

    clean, corrupt = inputs("clean"), inputs("corrupt")
    grid = model.token_grid(corrupt.latents.shape)
    regions = {"all": Tokens.all(),
               "changed": changed_region(pairs, grid, px_per_unit=2, pixels_per_token=model.pixels_per_token)}
    return model, PairMetric(pairs), clean, corrupt, regions


def sweep(setup, **options):
    model, metric, clean, corrupt, regions = setup
    defaults = dict(layers=[0, 1, 2], steps=[1, 3], regions=regions, num_steps=STEPS, batch_size=5, progress=False)
    return patch_sweep(model, clean, corrupt, metric, **{**defaults, **options})


@pytest.mark.parametrize("site", ["resid_post", "resid_pre", "ffn.out"])
@pytest.mark.parametrize("read_at", ["patched", "final"])
def test_each_switch_gives_the_plain_sweep_bitwise(setup, site, read_at):
    plain = sweep(setup, site=site, read_at=read_at, reuse_layers=False, share_states=False)
    for switches in (dict(reuse_layers=True, share_states=False), dict(reuse_layers=False, share_states=True),
                     dict(reuse_layers=True, share_states=True)):
        fast = sweep(setup, site=site, read_at=read_at, **switches)
        assert fast.meta["reuse_layers"] == switches["reuse_layers"]
        for name in plain.values:
            assert not np.isnan(fast.values[name]).any()
            np.testing.assert_array_equal(fast.values[name], plain.values[name], err_msg=f"{switches} {name}")
    # The grid is not trivially constant: patching changes the metric somewhere.
    assert np.ptp(plain.values["preference"]) > 0


def test_sharing_is_kept_to_pairs_whose_conditioning_is_the_clean_inputs(setup):
    _, _, clean, corrupt, _ = setup
    assert same_conditioning(clean, corrupt) == [True, True]
    other = corrupt.take([0, 1])
    other.cond = {"encoder_hidden_states": other.cond["encoder_hidden_states"].clone()}
    other.cond["encoder_hidden_states"][1] += 1
    assert same_conditioning(clean, other) == [True, False]
    other.guidance_scale = 2.0
    assert same_conditioning(clean, other) == [False, False]


def test_starting_at_a_block_from_its_saved_input_equals_the_full_forward(wan21):
    """With guidance (two branches), at one step and when the run continues after it."""
    inputs = tiny_wan_inputs(wan21, guidance=5.0, seeds=(1, 2))
    full = run_with_cache(wan21, inputs, ["blocks.1.resid_pre"], steps=[1], branches=("cond", "uncond"), num_steps=3,
                          interventions=observe("x_t", steps=[1]), decode=False, progress=False)
    saved = {1: full.at("x_t", 1)}
    residual = {b: full.cache.get("blocks.1.resid_pre", 1, b) for b in ("cond", "uncond")}
    resumed = run(wan21, inputs.take([0, 1], latents=saved[1]), num_steps=3, start_step=1, decode=False,
                  progress=False, start_layer=1, start_residual=residual)
    assert torch.equal(resumed.latents, full.latents)
    assert len(wan21.transformer.blocks) == 2  # the block list is whole again
    # Negative control: another input's residual changes the result.
    wrong = {b: v.flip(0) for b, v in residual.items()}
    other = run(wan21, inputs.take([0, 1], latents=saved[1]), num_steps=3, start_step=1, decode=False,
                progress=False, start_layer=1, start_residual=wrong)
    assert not torch.equal(other.latents, full.latents)


def test_start_layer_errors_name_the_bad_value(wan21):
    inputs = tiny_wan_inputs(wan21, guidance=5.0, seeds=(1,))
    value = torch.zeros(1, 4, 24)
    with pytest.raises(InputError, match="each branch"):
        run(wan21, inputs, num_steps=2, decode=False, progress=False, start_layer=1, start_residual={"cond": value})
    with pytest.raises(InputError, match="start_layer"):
        run(wan21, inputs, num_steps=2, decode=False, progress=False, start_layer=5,
            start_residual={"cond": value, "uncond": value})
    with pytest.raises(InputError, match="shape"):
        run(wan21, inputs, num_steps=2, decode=False, progress=False, start_layer=1,
            start_residual={"cond": value, "uncond": value})


def test_balanced_dealing_evens_the_ranks_where_round_robin_does_not():
    costs = [20 - s for s in range(20)]  # a step-s unit runs 20 - s steps
    for world in (2, 3, 4):
        shares = balanced_shares(costs, world)
        assert sorted(i for share in shares for i in share) == list(range(20))
        loads = [sum(costs[i] for i in share) for share in shares]
        robin = [sum(costs[world_rank::world]) for world_rank in range(world)]
        assert max(loads) <= 1.03 * sum(costs) / world
        assert max(loads) - min(loads) < max(robin) - min(robin)


def test_speed_switches_leave_the_patch_in_place(setup):
    """Compiled blocks (traced, run by the eager backend: the same operations), a named
    attention kernel and the stacked rotary form keep every hook's effect; the defaults are off."""
    model, metric, clean, corrupt, _ = setup
    cache = run_with_cache(model, clean, ["blocks.1.resid_post"], num_steps=STEPS, progress=False).cache
    item = Intervention(At("blocks.1.resid_post", steps=[1]), Patch("clean"))
    eager = run(model, corrupt, [item], sources={"clean": cache}, num_steps=STEPS, progress=False).latents
    for mode in ("default", "reduce-overhead"):   # the second copies each block's output out of the graph's buffer
        undo = compile_blocks(model, mode, backend="eager")
        try:
            compiled = run(model, corrupt, [item], sources={"clean": cache}, num_steps=STEPS, progress=False).latents
        finally:
            undo()
        assert "forward" not in model.transformer.blocks[0].__dict__
        assert torch.equal(compiled, eager), mode
    with attention_backend("math"):
        math = run(model, corrupt, [item], sources={"clean": cache}, num_steps=STEPS, progress=False).latents
    torch.testing.assert_close(math, eager, rtol=0, atol=1e-5)
    undo = rotary_form(model, "stacked")
    try:
        stacked = run(model, corrupt, [item], sources={"clean": cache}, num_steps=STEPS, progress=False).latents
    finally:
        undo()
    assert torch.equal(stacked, eager)
    assert type(model.transformer.blocks[0].attn1.processor).__name__ == "WanAttnProcessor"
    plain = run(model, corrupt, num_steps=STEPS, progress=False).latents
    assert not torch.equal(plain, eager)  # the patch did something the checks above could lose
    with pytest.raises(InputError, match="compile mode"):
        compile_blocks(model, "fastest")
    with pytest.raises(InputError, match="rotary form"):
        rotary_form(model, "complex")
    with pytest.raises(InputError, match="attention backend"):
        with attention_backend("turbo"):
            pass


def test_rows_picked_without_an_index_equal_plain_indexing():
    """The sweep's row helpers give what list indexing and ``index_copy`` give, consecutive rows
    as a view of the same storage (no copy, no index sent to a device)."""
    from interp.rows import put_rows, take_rows

    value = torch.randn(6, 5, 3)
    new = torch.randn(3, 5, 3)
    for rows in ([1, 2, 3], [4, 0, 2], [5], [3, 3]):
        assert torch.equal(take_rows(value, rows), value[rows])
        if len(set(rows)) == len(rows):
            assert torch.equal(put_rows(value, rows, new[:len(rows)]),
                               value.index_copy(0, torch.tensor(rows), new[:len(rows)]))
    assert take_rows(value, [1, 2, 3]).data_ptr() == value[1].data_ptr()
    assert take_rows(value, [3, 1]).data_ptr() != value[3].data_ptr()
    original = value.clone()
    put_rows(value, [0, 1], new[:2])
    assert torch.equal(value, original)  # out of place, as index_copy


def test_schedules_are_made_once_and_handed_out_as_copies(setup):
    """Each run gets its own scheduler (stepping one leaves the next run's untouched), with the
    timesteps a freshly made scheduler has; the host copies equal the device values."""
    from interp.sampling import host_schedule, schedule

    model = setup[0]
    first, timesteps, sigmas = schedule(model, STEPS)
    fresh = model.make_scheduler(None)
    model.set_timesteps(fresh, STEPS)
    assert torch.equal(timesteps, fresh.timesteps)
    first.set_begin_index(0)
    first.step(torch.ones(1, 2), timesteps[0], torch.zeros(1, 2))
    second, _, _ = schedule(model, STEPS)
    assert second is not first and second.step_index is None and first.step_index == 1
    host_t, host_s = host_schedule(model, STEPS)
    assert np.array_equal(host_t, timesteps.numpy()) and np.array_equal(host_s, sigmas.numpy())
    assert not np.array_equal(host_schedule(model, STEPS + 1)[0][:STEPS], host_t)  # keyed by the step count


def test_a_run_reports_the_schedule_and_step_states_as_before(setup):
    """The loop's results and every step's sigma come from the host copies: equal to the device's."""
    model, _, _, corrupt, _ = setup
    states = []

    class Watch:
        def wants(self, *args):
            return False

        def after_step(self, state):
            states.append(state)

    from interp.sampling import denoise, schedule

    out = denoise(model, corrupt.take([0]), num_steps=STEPS, edits=Watch(), decode=False, progress=False)
    _, timesteps, sigmas = schedule(model, STEPS)
    assert np.array_equal(out.sigmas, sigmas.numpy()) and np.array_equal(out.timesteps, timesteps.numpy())
    assert [s.sigma for s in states] == [float(sigmas[i]) for i in range(STEPS)]
    expected_x0 = states[1].x_t - float(sigmas[1]) * states[1].velocity.to(states[1].x_t.dtype)
    assert torch.equal(states[1].x0, expected_x0)
