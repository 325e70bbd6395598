"""Every family with tiny text encoders encodes a text prompt as its diffusers pipeline does.

The conformance suite feeds prompt embeddings; here the prompt is text, so the adapter's own
encoding (its prompt length included: CogVideoX and Mochi read theirs from the transformer's
config) is checked against the pipeline's, on final latents, bitwise. The pipeline is told the
tiny transformers' prompt length by hand, since its default length (226, 256) is for the
released checkpoints.
"""

from __future__ import annotations

import pytest
import torch

from interp.interventions import run
from interp.models import load_model
from interp.models.tiny_text import TEXT_ENCODERS
from interp.models.tiny_zoo import TINY_MODELS, run_kwargs, tiny_pipeline

PROMPT = "a red ball rolls left"


def without_embeddings(kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if "embeds" not in k and "attention_mask" not in k
            and k != "max_sequence_length"}


@pytest.mark.parametrize("name", sorted(TEXT_ENCODERS))
def test_a_text_prompt_gives_the_pipelines_final_latents(name):
    pipe = tiny_pipeline(name, text_encoder=True)
    model = load_model(pipe)
    options = without_embeddings(run_kwargs(name, guidance=True))
    by_hand = {"cogvideox": {"max_sequence_length": 16}, "mochi": {"max_sequence_length": 16}}.get(name, {})
    steps = TINY_MODELS[name].steps
    inputs = model.prepare(prompt=PROMPT, seeds=[5], **options)
    guider = getattr(pipe, "guider", None)
    if guider is not None and "guidance_scale" in options:
        guider.guidance_scale = options.pop("guidance_scale")
    expected = pipe(prompt=PROMPT, num_inference_steps=steps, generator=torch.Generator().manual_seed(5),
                    output_type="latent", **options, **by_hand).frames
    result = run(model, inputs, num_steps=steps, decode=False, progress=False)
    assert torch.equal(model.pipeline_latents(result.latents), expected)
