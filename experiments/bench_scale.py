"""Benchmark at a real model's scale: capture and patching at Wan2.2-A14B's shape on one GPU.

Two randomly initialised ``WanTransformer3DModel`` experts of Wan2.2-T2V-A14B's shape (40 blocks
x 5120, 14.3B parameters each, the second taking over below ``boundary_ratio`` 0.875), bf16,
480x832 with 81 frames (latents 21x60x104: 32,760 tokens), classifier-free guidance on (each
block runs twice per step), a few steps (every arm runs the same steps, so the ratios are per
step and hold across step counts). The arms, in one process:

* ``plain``: sampling with nothing attached;
* ``pooled``: capture of every block's ``resid_post`` pooled per frame into the trace store;
* ``pooled_plus_full``: the same plus 4 blocks in full (every token, both branches);
* ``patched_from_store``: one patched cell, ``blocks.L.resid_post`` at one step on every token,
  its values read from the ``pooled_plus_full`` store on disk (a self-patch: the result should
  equal the plain run's up to the store's float16 rounding).

Each arm records its wall time (synchronised), its ratio to plain, the GPU memory allocated after
every step (flat over steps, or not) and its peak. The JSON record (date, machine, dtype, shape)
is rewritten after every arm, so that a run cut short keeps what it measured. The ``tiny``
preset runs the same code on a small shape (on the CPU in tests).

Usage::

    python experiments/bench_scale.py --device cuda --steps 3 --workdir /tmp/scale \\
        --record experiments/results/bench_scale/a14b_h200_bfloat16.json
    python experiments/bench_scale.py --preset tiny --device cpu --workdir /tmp/scale --record /tmp/scale.json
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

GIB = 1 << 30
PRESETS = {
    # Wan2.2-T2V-A14B's transformer config, at the pipeline's default video size.
    "a14b": dict(num_attention_heads=40, attention_head_dim=128, ffn_dim=13824, num_layers=40, text_dim=4096,
                 height=480, width=832, num_frames=81, text_tokens=512),
    "tiny": dict(num_attention_heads=2, attention_head_dim=16, ffn_dim=64, num_layers=6, text_dim=32,
                 height=64, width=64, num_frames=9, text_tokens=8),
}


def wan22_model(preset: dict, device: str, dtype):
    """A two-expert Wan2.2 adapter with random weights made directly on ``device`` in ``dtype``."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    from interp.models import WanModel
    from interp.models.tiny import tiny_wan_vae

    def expert(seed):
        torch.manual_seed(seed)
        default = torch.get_default_dtype()
        torch.set_default_dtype(dtype)  # 14B parameters are never held in float32
        try:
            with torch.device(device):
                made = WanTransformer3DModel(
                    patch_size=(1, 2, 2), num_attention_heads=preset["num_attention_heads"],
                    attention_head_dim=preset["attention_head_dim"], in_channels=16, out_channels=16,
                    text_dim=preset["text_dim"], freq_dim=256, ffn_dim=preset["ffn_dim"],
                    num_layers=preset["num_layers"], cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                    eps=1e-6, rope_max_seq_len=1024)
        finally:
            torch.set_default_dtype(default)
        return made.to(dtype).eval()

    # The VAE only sets the latent geometry (8x spatial, 4x temporal, as Wan's); nothing is decoded.
    pipe = WanPipeline(tokenizer=None, text_encoder=None, vae=tiny_wan_vae(), transformer=expert(0),
                       transformer_2=expert(1), scheduler=FlowMatchEulerDiscreteScheduler(shift=12.0),
                       boundary_ratio=0.875)
    return WanModel(pipe, name="wan22-a14b-shape-random").to(device)


def main(argv=None) -> int:
    from interp.results import ScriptParser

    parser = ScriptParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="a14b")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float32"))
    parser.add_argument("--steps", type=int, default=3, help="denoising steps of every arm")
    parser.add_argument("--workdir", required=True, help="where the trace stores go (removed at the end)")
    parser.add_argument("--record", required=True, help="the JSON record (rewritten after every arm)")
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from bench_capture import clear, gpu_peak, gpu_reset_peak, store_bytes, sync
    from interp.capture import CaptureSpec, capture
    from interp.interventions import At, Intervention, Patch, run
    from interp.store import StoreSource

    dtype, device, num_steps = getattr(torch, args.dtype), args.device, args.steps
    cuda = torch.device(device).type == "cuda"
    preset = PRESETS[args.preset]
    workdir, record_path = Path(args.workdir), Path(args.record)
    workdir.mkdir(parents=True, exist_ok=True)
    record = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.node()}, {os.cpu_count()} CPUs", "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name() if cuda else None, "device": device, "dtype": args.dtype,
              "preset": args.preset, "shape": preset, "num_steps": num_steps, "guidance": [3.0, 4.0]}

    def save():
        record_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=1) + "\n")

    began = time.perf_counter()
    model = wan22_model(preset, device, dtype)
    sync(device)
    record["build_seconds"] = round(time.perf_counter() - began, 1)
    g = torch.Generator().manual_seed(1)
    embeds = torch.randn(1, preset["text_tokens"], preset["text_dim"], generator=g).to(device, dtype)
    inputs = model.prepare(prompt_embeds=embeds, negative_prompt_embeds=-embeds, height=preset["height"],
                           width=preset["width"], num_frames=preset["num_frames"], guidance_scale=3.0,
                           guidance_scale_2=4.0, seeds=[0])
    layers = model.num_layers
    full_layers = (0, layers // 3, 2 * layers // 3, layers - 1)
    record.update(model=f"2 experts x {layers} blocks x {preset['num_attention_heads'] * preset['attention_head_dim']}"
                        f", {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B parameters in all, random",
                  latent=list(inputs.latents.shape[1:]), tokens=int(np.prod(model.token_grid(inputs.latents.shape))),
                  full_layers=list(full_layers))
    save()

    memory = []  # allocated after each step's last transformer call (uncond: guidance is on)

    def track(module, args_, output):
        if model.current_call is not None and model.current_call.branch == "uncond":
            memory.append(round(torch.cuda.memory_allocated() / GIB, 3) if cuda else 0.0)

    for expert in model.experts.values():
        expert.register_forward_hook(track)

    def arm(name, fn):
        memory.clear()
        gpu_reset_peak()
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        seconds = time.perf_counter() - start
        entry = {"seconds": round(seconds, 3), "per_step_s": round(seconds / num_steps, 3),
                 "gpu_gib_after_each_step": list(memory), "gpu_peak_gib": round(gpu_peak() / GIB, 3),
                 "experts": list(getattr(out, "result", out).experts)}
        if memory:
            entry["gpu_gib_step_spread"] = round(max(memory) - min(memory), 3)
        if name != "plain":
            entry["ratio_to_plain"] = round(seconds / record["plain"]["seconds"], 4)
            entry["peak_ratio_to_plain"] = round(entry["gpu_peak_gib"] / max(record["plain"]["gpu_peak_gib"], 1e-9), 4)
        record[name] = entry
        save()
        print(name, json.dumps(entry), flush=True)
        return out

    def plain():
        return run(model, inputs, num_steps=num_steps, decode=False, progress=False)

    def captured(spec, path):
        clear(path)
        return capture(model, inputs, spec, path, num_steps=num_steps, save_video=False, progress=False)

    pooled = CaptureSpec.make(["resid_post"], tokens="frame_mean", branches=("cond", "uncond"))
    with_full = CaptureSpec.make(["resid_post"], layers=[l for l in range(layers) if l not in full_layers],
                                 tokens="frame_mean", branches=("cond", "uncond")
                                 ).with_group(["resid_post"], layers=full_layers, tokens="all")
    run(model, inputs, num_steps=1, decode=False, progress=False)  # warm-up: kernels, allocator
    reference = arm("plain", plain)
    arm("pooled", lambda: captured(pooled, workdir / "pooled.h5"))
    record["pooled"]["store_bytes"] = store_bytes(workdir / "pooled.h5")
    clear(workdir / "pooled.h5")
    store = workdir / "pooled_plus_full.h5"
    result = arm("pooled_plus_full", lambda: captured(with_full, store))
    record["pooled_plus_full"].update(store_bytes=store_bytes(store), slab_bytes=result.bytes_written,
                                      write_mb_per_s=round(result.bytes_written / record["pooled_plus_full"]["seconds"]
                                                           / 1e6, 1))
    save()

    layer, step = full_layers[1], min(1, num_steps - 1)
    source = StoreSource(store)
    cell = Intervention(At(f"blocks.{layer}.resid_post", steps=[step]), Patch("clean"))
    patched = arm("patched_from_store", lambda: run(model, inputs, [cell], sources={"clean": source},
                                                    num_steps=num_steps, decode=False, progress=False))
    difference = (patched.latents.float() - reference.latents.float()).abs()
    record["patched_from_store"].update(cell={"site": f"blocks.{layer}.resid_post", "step": step},
                                        max_abs_diff_vs_plain=float(difference.max()),
                                        plain_latent_abs_mean=float(reference.latents.float().abs().mean()))
    source.store.close()
    clear(store)
    record["total_seconds"] = round(time.perf_counter() - began, 1)
    save()
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
