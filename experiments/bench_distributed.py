"""Benchmark: capture throughput on 1 vs N processes under torchrun (one GPU per rank).

Each rank builds the same model, takes its round-robin share of the samples, captures them into
its own shard (the path ``cos trace`` uses under torchrun) and rank 0 merges the shards. The
clock runs from a barrier after a warm-up sample to a barrier after the last sample, so model
loading and compilation are not counted.

Usage (run once per process count; the last line is a JSON record)::

    torchrun --nproc-per-node 1 experiments/bench_distributed.py --model organism --samples 64 --workdir /tmp/b
    torchrun --nproc-per-node 2 experiments/bench_distributed.py --model organism --samples 64 --workdir /tmp/b
    torchrun --nproc-per-node 2 experiments/bench_distributed.py --model wan1.3b --samples 8 --workdir /tmp/b

``--model wan1.3b`` is a randomly initialised transformer of Wan2.1-T2V-1.3B's shape in bf16 at
480x832, 33 frames, 10 steps with guidance (see ``bench_capture.py``); ``wan-small`` is a CPU
stand-in of the same code path.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interp.capture import CaptureSpec, capture  # noqa: E402
from interp.distributed import init_from_env, shutdown  # noqa: E402
from interp.store import TraceStore, layout  # noqa: E402
from interp.store.shards import merge_shards, shard_path, shard_paths  # noqa: E402


def build(model_name: str, device: str):
    """The model and a function ``inputs(seed)`` giving one sample's loop inputs."""
    if model_name == "organism":
        from interp.models import load_model
        from interp.tasks import generate_maze, render_maze

        model = load_model("organism", device=device)
        px = model.organism.config.px_per_unit

        def inputs(seed):
            frame = render_maze(generate_maze(7, seed=900_000 + seed), upto=0, px_per_unit=px)
            return model.prepare(first_frame=frame, seeds=[seed])

        return model, inputs, 20
    from bench_capture import SMALL, WAN_1_3B, wan_model

    size = WAN_1_3B if model_name == "wan1.3b" else SMALL
    model = wan_model(device, size)
    embeds = torch.randn(1, size["text_tokens"], size["text_dim"], generator=torch.Generator().manual_seed(0))

    def inputs(seed):
        return model.prepare(prompt_embeds=embeds.to(device), negative_prompt_embeds=embeds.to(device),
                             height=size["height"], width=size["width"], num_frames=size["num_frames"],
                             guidance_scale=5.0, seeds=[seed])

    return model, inputs, 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="organism", choices=["organism", "wan1.3b", "wan-small"])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    ctx = init_from_env(args.device)
    device = ctx.device(args.device)
    model, make_inputs, num_steps = build(args.model, device)
    spec = CaptureSpec.make(["resid_post", "x0"], tokens="frame_mean", dtype="float16")
    out = Path(args.workdir) / f"{args.model}-n{ctx.world_size}.h5"
    mine = shard_path(out, ctx.rank, ctx.world_size) if ctx.enabled else out
    if ctx.is_main:
        for stale in [out, *shard_paths(out, ctx.world_size)]:
            layout.remove_store(stale)
    ctx.barrier()

    warm = Path(args.workdir) / f"warmup-{args.model}-rank{ctx.rank}.h5"
    capture(model, make_inputs(10**6 + ctx.rank), spec, warm, num_steps=num_steps, save_video=False, progress=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    ctx.barrier()
    start = time.perf_counter()
    for seed in ctx.deal(list(range(args.samples))):
        capture(model, make_inputs(seed), spec, mine, num_steps=num_steps, sample_ids=[f"s{seed}"],
                save_video=False, progress=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    ctx.barrier()
    wall = time.perf_counter() - start
    if ctx.is_main:
        if ctx.enabled:
            merge_shards(shard_paths(out, ctx.world_size), out)
        with TraceStore.open(out) as store:
            assert len(store.sample_ids()) == args.samples, "a sample is missing from the merged store"
        record = {"model": args.model, "processes": ctx.world_size, "samples": args.samples,
                  "num_steps": num_steps, "wall_s": round(wall, 3),
                  "samples_per_s": round(args.samples / wall, 4),
                  "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"}
        print(json.dumps(record), flush=True)
    shutdown()


if __name__ == "__main__":
    main()
