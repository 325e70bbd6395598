"""With nothing attached, the loop reproduces diffusers' Wan pipelines bitwise on CPU."""

import numpy as np
import pytest
import torch

from interp.models import WanModel
from interp.models.tiny import TEXT_DIM, tiny_wan_pipeline
from interp.interventions import run

H = W = 16
FRAMES = 5
STEPS = 3


def embeds(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 8, TEXT_DIM, generator=g)


def run_pipeline(pipe, guidance, image=None):
    kwargs = dict(
        prompt_embeds=embeds(1), negative_prompt_embeds=embeds(2), height=H, width=W, num_frames=FRAMES,
        num_inference_steps=STEPS, guidance_scale=guidance, generator=torch.Generator().manual_seed(7),
        output_type="latent",
    )
    if image is not None:
        kwargs["image"] = image
    return pipe(**kwargs).frames


def run_loop(pipe, guidance, image=None):
    model = WanModel(pipe)
    inputs = model.prepare(prompt_embeds=embeds(1), negative_prompt_embeds=embeds(2), image=image,
                           height=H, width=W, num_frames=FRAMES, guidance_scale=guidance, seeds=[7])
    return model, run(model, inputs, num_steps=STEPS, decode=False, progress=False).latents


@pytest.mark.parametrize("kind", ["t2v", "wan22"])
@pytest.mark.parametrize("guidance", [1.0, 5.0])
def test_text_to_video_latents_bitwise(kind, guidance):
    pipe = tiny_wan_pipeline(kind)
    expected = run_pipeline(pipe, guidance)
    _, latents = run_loop(pipe, guidance)
    assert torch.equal(latents, expected)


@pytest.mark.parametrize("guidance", [1.0, 4.0])
def test_image_to_video_latents_bitwise(guidance):
    from PIL import Image

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    pipe = tiny_wan_pipeline("i2v")
    expected = run_pipeline(pipe, guidance, image=image)
    _, latents = run_loop(pipe, guidance, image=image)
    assert torch.equal(latents, expected)


def test_decoded_video_matches_pipeline():
    pipe = tiny_wan_pipeline("t2v")
    expected = pipe(prompt_embeds=embeds(1), height=H, width=W, num_frames=FRAMES, num_inference_steps=STEPS,
                    guidance_scale=1.0, generator=torch.Generator().manual_seed(7), output_type="np").frames
    model, latents = run_loop(pipe, 1.0)
    assert np.array_equal(model.decode_float(latents), expected)


def test_wan22_switches_expert_at_boundary():
    pipe = tiny_wan_pipeline("wan22")
    model = WanModel(pipe)
    inputs = model.prepare(prompt_embeds=embeds(1), height=H, width=W, num_frames=FRAMES, guidance_scale=1.0)
    result = run(model, inputs, num_steps=8, decode=False, progress=False)
    boundary = 0.875 * 1000
    expected = ["transformer" if t >= boundary else "transformer_2" for t in result.timesteps]
    assert result.experts == expected
    assert set(expected) == {"transformer", "transformer_2"}
