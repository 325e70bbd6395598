"""Capture a few samples of a tiny Wan model into a store, one at a time.

Run as a script by ``test_store_crash.py``, which kills it with SIGKILL at random moments; also
imported there to write the uninterrupted reference store.
"""

from __future__ import annotations

import sys
import tempfile

import torch

from interp.capture import CaptureSpec, capture
from interp.models import WanModel
from interp.models.tiny import TEXT_DIM, tiny_wan_pipeline

SEEDS = tuple(range(8))
SPEC = CaptureSpec.make(["resid_post", "attn1.out", "x0"], branches=("cond", "uncond"))


def run(out: str, announce: bool = False, seeds=SEEDS) -> None:
    torch.set_num_threads(1)
    model = WanModel(tiny_wan_pipeline("t2v"))
    embeds = torch.randn(1, 8, TEXT_DIM, generator=torch.Generator().manual_seed(0))
    if announce:  # warm up first, so that samples take as long as in a warm process
        with tempfile.TemporaryDirectory() as scratch:
            run(f"{scratch}/warm-up.h5", seeds=SEEDS[:1])
        print("ready", flush=True)
    for seed in seeds:
        inputs = model.prepare(prompt_embeds=embeds, negative_prompt_embeds=-embeds, guidance_scale=5.0,
                               height=32, width=32, num_frames=9, seeds=[seed])
        result = capture(model, inputs, SPEC, out, num_steps=4, progress=False, save_video=False,
                         tasks=[{"seed": seed, "size": 5}])
        if announce and result.written:
            print("done", *result.written, flush=True)


if __name__ == "__main__":
    run(sys.argv[1], announce=True)
