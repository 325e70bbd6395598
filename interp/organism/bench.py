"""Time training steps and sampling of organism configs before committing to a long run."""

from __future__ import annotations

import time

import torch

from interp.organism.model import build_organism, default_transformer_config
from interp.organism.train import TrainConfig, flow_matching_loss


def time_train_step(transformer_config: dict, size: int, batch: int, *, num_frames: int = 4, compile: str = "blocks",
                    steps: int = 10, device: str = "cuda") -> dict:
    """Seconds per optimizer step on random videos of one maze size (compile time reported apart)."""
    cfg = TrainConfig(num_frames=num_frames, transformer=transformer_config)
    org = build_organism(cfg.organism_config(), transformer_config, seed=0).to(device).train()
    opt = torch.optim.AdamW(org.parameters(), lr=1e-4, fused=device == "cuda")
    from interp.organism.train import compiled

    module = compiled(org.transformer, compile)

    def call(h, t, p):
        return module(hidden_states=h, timestep=t, encoder_hidden_states=p, return_dict=False)[0]

    u = (2 * size + 1) * 2
    x0 = torch.rand(batch, 3, num_frames, u, u, device=device) * 2 - 1

    def one():
        sigma = torch.rand(batch, device=device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = flow_matching_loss(call, org, x0, sigma, torch.randn_like(x0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t0 = time.time()
    one()
    if device == "cuda":
        torch.cuda.synchronize()
    first = time.time() - t0
    one()
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.time()
    for _ in range(steps):
        one()
    if device == "cuda":
        torch.cuda.synchronize()
    per = (time.time() - t0) / steps
    mem = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else 0.0
    return {"size": size, "batch": batch, "compile": compile, "first_s": round(first, 1), "step_s": round(per, 4),
            "videos_per_s": round(batch / per, 1), "tokens_per_s": round(batch * num_frames * (u // 2) ** 2 / per),
            "max_mem_gib": round(mem, 1)}


def time_cpu_sample(size: int, *, num_steps: int = 20, threads: int = 2, repeats: int = 3, model=None) -> dict:
    """Seconds for one 20-step sample of one maze with the shipped organism on ``threads`` CPU threads
    (best of ``repeats``; the median is reported too, since shared machines are noisy)."""
    import os
    import statistics

    from interp.organism.evaluate import first_frames, load
    from interp.models.maze_organism import sample_organism
    from interp.tasks import generate_maze

    torch.set_num_threads(threads)
    organism = load(model, "cpu")
    frame = first_frames([generate_maze(size, 0, extra_openings=organism.config.extra_openings)], organism)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sample_organism(organism, frame, num_steps=num_steps, seed=0)
        times.append(time.perf_counter() - t0)
    return {"size": size, "steps": num_steps, "threads": threads, "best_s": round(min(times), 2),
            "median_s": round(statistics.median(times), 2), "load_avg_1min": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":
    # python -m interp.organism.bench [cpu]: the timing tables quoted in docs/organism.md
    import json
    import sys

    if sys.argv[1:] == ["cpu"]:
        for size in (5, 7, 9):
            print(json.dumps(time_cpu_sample(size)), flush=True)
        sys.exit(0)

    plans = [
        ("w256L12", dict(num_layers=12), [(5, 256, "none"), (5, 256, "full"), (5, 256, "blocks"),
                                          (7, 144, "blocks"), (9, 88, "blocks")]),
        ("w256L8", dict(num_layers=8), [(7, 144, "full")]),
        ("w384L8", dict(num_layers=8, num_attention_heads=6, ffn_dim=1536), [(7, 144, "full")]),
    ]
    for name, over, runs in plans:
        for size, batch, mode in runs:
            r = time_train_step(default_transformer_config(**over), size, batch, compile=mode)
            print(name, json.dumps(r), flush=True)
            torch.cuda.reset_peak_memory_stats()
