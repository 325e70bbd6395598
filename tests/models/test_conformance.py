"""The conformance suite every adapter passes, on a tiny random pipeline of each family.

Each entry of :data:`interp.models.tiny_zoo.TINY_MODELS` is checked against independent oracles:
the diffusers pipeline's own output (bitwise), raw torch forward hooks labelled by call order
and the family's documented guidance layout, and the identity that patching a run with its
own activations changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interp.capture import CaptureSpec, capture
from interp.interventions import At, Collect, Intervention, Patch, run, run_with_cache
from interp.models import load_model
from interp.models.tiny_zoo import TINY_MODELS, run_kwargs, run_pipeline
from interp.interventions import run
from tests.sampling.loop_states import loop_states
from interp.sites import LOOP_KINDS
from interp.store import TraceStore

NAMES = list(TINY_MODELS)


@pytest.fixture(scope="module", params=NAMES)
def family(request):
    """(name, pipeline, adapter) of one tiny model, built once per module."""
    pipe = TINY_MODELS[request.param].build()
    return request.param, pipe, load_model(pipe)


def inputs_of(name, model, guidance=True, seeds=(7,)):
    return model.prepare(seeds=list(seeds), **run_kwargs(name, guidance))


def steps_of(name):
    return TINY_MODELS[name].steps


def as_pipeline_latents(model, latents):
    """The loop's ``[B, C, F, H, W]`` latents in the layout the pipeline returns."""
    return model.pipeline_latents(latents)


@pytest.mark.parametrize("guidance", [False, True], ids=["no-guidance", "guidance"])
def test_sampling_equals_pipeline_bitwise(family, guidance):
    name, pipe, model = family
    expected = run_pipeline(name, pipe, guidance=guidance, num_inference_steps=steps_of(name),
                            generator=torch.Generator().manual_seed(7), output_type="latent").frames
    result = run(model, inputs_of(name, model, guidance), num_steps=steps_of(name), decode=False, progress=False)
    assert torch.equal(as_pipeline_latents(model, result.latents), expected)
    if name == "wan22-a14b":  # both experts ran
        assert set(result.experts) == {"transformer", "transformer_2"}


def hook_oracle(model, inputs, kinds, num_steps):
    """Every block site's value per (step, branch, expert), from raw hooks labelled by call order.

    Calls are counted by a pre-hook on each expert. Separate guidance: call c is step c // 2,
    branch cond then uncond; batched guidance: one call per step whose batch is [uncond; cond].
    """
    calls, records, handles = [], {}, []
    batched = model.spec.guidance == "batched" and inputs.do_guidance
    per_step = 1 if batched or not inputs.do_guidance else 2

    def record(value, layer, kind, expert):
        c = len(calls) - 1
        assert calls[-1] == expert
        step = c // per_step
        if batched:
            for branch, part in zip(("uncond", "cond"), value.chunk(2)):
                records[(step, branch, expert, f"blocks.{layer}.{kind}")] = part.detach().clone()
        else:
            records[(step, ("cond", "uncond")[c % per_step], expert, f"blocks.{layer}.{kind}")] = value.detach().clone()

    for expert, transformer in model.experts.items():
        handles.append(transformer.register_forward_pre_hook(lambda m, a, e=expert: calls.append(e)))
        for layer in range(model.num_layers):
            for kind in kinds:
                module = model.site_module(f"blocks.{layer}.{kind}", expert)
                if kind == "resid_pre":
                    def pre(m, args, kwargs, layer=layer, kind=kind, expert=expert):
                        record(args[0] if args else kwargs["hidden_states"], layer, kind, expert)
                    handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
                else:
                    def post(m, args, output, layer=layer, kind=kind, expert=expert):
                        record(output[0] if isinstance(output, tuple) else output, layer, kind, expert)
                    handles.append(module.register_forward_hook(post))
    try:
        result = model(inputs, num_steps=num_steps, decode=False, progress=False)  # the plain loop
    finally:
        for handle in handles:
            handle.remove()
    return result, records


def test_capture_equals_raw_hook(family, tmp_path):
    name, _, model = family
    inputs = inputs_of(name, model)
    kinds = model.spec.site_kinds
    clean, records = hook_oracle(model, inputs, kinds, steps_of(name))
    spec = CaptureSpec.make(kinds + LOOP_KINDS, branches=("cond", "uncond"), dtype="float32")
    out = capture(model, inputs, spec, tmp_path / "t.h5", num_steps=steps_of(name), save_video=False,
                  progress=False)
    assert torch.equal(out.result.latents, clean.latents)  # capturing changes nothing
    with TraceStore.open(tmp_path / "t.h5") as store:
        sample_id = store.sample_ids()[0]
        assert store.meta(sample_id)["experts"] == clean.experts
        for (step, branch, expert, site), expected in records.items():
            assert clean.experts[step] == expert
            got = store.read(sample_id, site, branch=branch, steps=[step])[0]
            np.testing.assert_array_equal(got, expected[0].float().numpy())
    assert len(records) == model.num_layers * len(kinds) * 2 * steps_of(name)


def all_sites(model):
    return [f"blocks.{layer}.{kind}" for layer in range(model.num_layers) for kind in model.spec.site_kinds] \
        + list(LOOP_KINDS)


def test_self_patch_changes_nothing(family):
    name, _, model = family
    inputs = inputs_of(name, model)
    sites = all_sites(model)
    clean = run_with_cache(model, inputs, sites, branches=("cond", "uncond"), num_steps=steps_of(name),
                           decode=False, progress=False)
    # every block site in both branches, x_t, and the guided velocity and x0 (what the cache holds)
    patches = [Intervention(At(site, branch=branch), Patch("clean"))
               for site in sites for branch in (("cond", "uncond") if site.startswith("blocks") else
                                                ([None] if site == "x_t" else ["guided"]))]
    patched = run(model, inputs, patches, sources={"clean": clean.cache}, num_steps=steps_of(name), decode=False,
                  progress=False)
    assert torch.equal(patched.latents, clean.latents)
    # negative control: another seed's activations at one block site, one branch, change the run
    site = f"blocks.{model.num_layers - 1}.resid_post"
    other = run_with_cache(model, inputs_of(name, model, seeds=(8,)), [site], branches=("uncond",),
                           num_steps=steps_of(name), decode=False, progress=False)
    crossed = run(model, inputs, [Intervention(At(site, branch="uncond", steps=[0]), Patch("other"))],
                  sources={"other": other.cache}, num_steps=steps_of(name), decode=False, progress=False)
    assert not torch.equal(crossed.latents, clean.latents)


def test_a_collect_at_every_site_kind_works(family):
    name, _, model = family
    inputs = inputs_of(name, model, seeds=(7, 8))
    grid = model.token_grid(inputs.latents.shape)
    tokens = grid[0] * grid[1] * grid[2]
    config = next(iter(model.experts.values())).config
    width = config.num_attention_heads * config.attention_head_dim
    items = [Intervention(At(f"blocks.{model.num_layers - 1}.{kind}", steps=[1]), Collect())
             for kind in model.spec.site_kinds]
    items += [Intervention(At(kind, steps=[1], branch=None if kind == "x_t" else branch), Collect())
              for kind in LOOP_KINDS for branch in (("guided", "cond", "uncond") if kind != "x_t" else (None,))]
    out = run(model, inputs, items, num_steps=steps_of(name), decode=False, progress=False)
    for kind in model.spec.site_kinds:
        for branch in ("cond", "uncond"):
            value = out.cache.get(f"blocks.{model.num_layers - 1}.{kind}", 1, branch)
            assert value.shape == (2, tokens, width), (kind, branch)
    latent_tokens = int(np.prod(inputs.latents.shape[-3:]))
    for kind in LOOP_KINDS:
        for branch in (("guided", "cond", "uncond") if kind != "x_t" else ("guided",)):
            assert out.cache.get(kind, 1, None if kind == "x_t" else branch).shape == \
                (2, latent_tokens, inputs.latents.shape[1])
    # the guided velocity is the pipeline's combination of the two branches
    cond, uncond, guided = (out.cache.get("velocity", 1, b) for b in ("cond", "uncond", "guided"))
    scale = model.guidance_scale_for(model.expert_for(out.result.timesteps[1]), inputs)
    torch.testing.assert_close(guided, uncond + scale * (cond - uncond))


def test_run_with_cache_labels_equal_store_labels(family, tmp_path):
    name, _, model = family
    inputs = inputs_of(name, model)
    kinds = ("resid_post",)
    cached = run_with_cache(model, inputs, ["blocks.0.resid_post", "x0"], branches=("cond", "uncond"),
                            num_steps=steps_of(name), decode=False, progress=False).cache
    spec = CaptureSpec.make(kinds + ("x0",), layers=[0], branches=("cond", "uncond"), dtype="float32")
    capture(model, inputs, spec, tmp_path / "t.h5", num_steps=steps_of(name), save_video=False, progress=False)
    with TraceStore.open(tmp_path / "t.h5") as store:
        sample_id = store.sample_ids()[0]
        stored = {(site, branch, int(step)) for site in store.sites() for branch in store.branches(site)
                  for step in store.steps(sample_id)}
        stored = {k for k in stored if not (k[0] == "x0" and k[1] != "guided")}
        assert stored == set(cached.keys())
        for site, branch, step in cached.keys():
            np.testing.assert_array_equal(store.read(sample_id, site, branch=branch, steps=[step])[0],
                                          cached.get(site, step, branch)[0].numpy())


def test_load_model_reads_the_saved_pipeline_offline(family, tmp_path, monkeypatch):
    name, pipe, model = family
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pipe.save_pretrained(tmp_path / name, safe_serialization=True)
    loaded = load_model(tmp_path / name)
    assert type(loaded) is type(model) and loaded.fingerprint() == model.fingerprint()
    got = run(loaded, inputs_of(name, loaded), num_steps=2, decode=False, progress=False).latents
    expected = run_pipeline(name, loaded.pipe, num_inference_steps=2, generator=torch.Generator().manual_seed(7),
                            output_type="latent").frames
    assert torch.equal(as_pipeline_latents(loaded, got), expected)
    # Weights read from disk (memory-mapped) may take other CPU kernels than the in-memory copy: close, not bitwise.
    in_memory = run(model, inputs_of(name, model), num_steps=2, decode=False, progress=False).latents
    torch.testing.assert_close(got, in_memory, rtol=1e-4, atol=1e-4)


def test_x0_hat_of_the_last_step_is_where_the_run_lands(family):
    """The last step goes to noise level 0, so its x0_hat (a x_t - b v, from the adapter's
    coefficients) is the state the scheduler lands on; an earlier step's is not."""
    name, _, model = family
    states = loop_states(model, inputs_of(name, model), num_steps=steps_of(name), decode=False, progress=False)
    assert states[-1].sigma_next == 0 and all(a.sigma > b.sigma for a, b in zip(states, states[1:]))
    torch.testing.assert_close(states[-1].x0, states[-1].x_next, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(states[0].x0, states[0].x_next, rtol=1e-3, atol=1e-3)
