"""Benchmark at a real model's scale: capture and patching at Wan2.2-A14B's or HunyuanVideo's shape on one GPU.

The preset picks the family, its model builder and its ``prepare(...)`` inputs; the arms are the
same for every family.

``a14b``: two randomly initialised ``WanTransformer3DModel`` experts of Wan2.2-T2V-A14B's shape
(40 blocks x 5120, 14.3B parameters each, the second taking over below ``boundary_ratio`` 0.875),
bf16, 480x832 with 81 frames (latents 21x60x104: 32,760 tokens), classifier-free guidance on
(each block runs twice per step).

``hunyuan``: one randomly initialised ``HunyuanVideoTransformer3DModel`` with HunyuanVideo's
published config (24 heads x 128, 20 dual-stream + 40 single-stream blocks, 2 token-refiner
blocks, text 4096, pooled 768, patch 1x2x2: 12.82B parameters), bf16. Its guidance is distilled:
one transformer call per step, the scale (6.0) embedded as an input, no negative prompt. The video
is 544x960 with 61 frames, one of HunyuanVideo's sizes: latents 16x68x120 (its VAE compresses 8x
in space and 4x in time, 16 channels), 16x34x60 = 32,640 video tokens, plus 256 text tokens in
the single-stream blocks' joint sequence. That is the ``a14b`` preset's sequence length, so the
two families' ratios compare at one token count, and it leaves room on an 80 GB GPU: ~24 GiB of
weights, one video activation is 0.19 GiB, a single block's widest intermediate (attention and
4x MLP side by side) ~1 GiB. 129 frames (67,320 tokens) would also fit, at about 4x the attention
work per step. Layers count through the dual-stream blocks and then the single-stream ones (the
adapter's run order), so the 4 blocks in full are 0 (the first dual-stream block), 20 (the first
single-stream one), 40 and 59.

Every arm runs the same few steps (so the ratios are per step and hold across step counts). The
arms, in one process:

* ``plain``: sampling with nothing attached;
* ``pooled``: capture of every block's ``resid_post`` pooled per frame into the trace store;
* ``pooled_plus_full``: the same plus 4 blocks in full (every token, every branch the family runs);
* ``patched_from_store``: one patched cell, ``blocks.L.resid_post`` at one step on every token,
  its values read from the ``pooled_plus_full`` store on disk (a self-patch: the result should
  equal the plain run's up to the store's float16 rounding).

Each arm records its wall time (synchronised), its ratio to plain, the GPU memory allocated after
every step (flat over steps, or not) and its peak. The JSON record (date, machine, dtype, shape,
guidance as the family applies it) is rewritten after every arm, so that a run cut short keeps
what it measured. The ``tiny`` and ``tiny_hunyuan`` presets run the same code on small shapes (on
the CPU in tests); nothing is decoded, the tiny VAEs only set the latent geometry.

Usage::

    python experiments/bench_scale.py --device cuda --steps 3 --workdir /tmp/scale \\
        --record experiments/results/bench_scale/a14b_h200_bfloat16.json
    python experiments/bench_scale.py --preset hunyuan --device cuda --steps 3 --workdir /tmp/scale_hy \\
        --record experiments/results/bench_scale/hunyuan_bfloat16_<date>.json
    python experiments/bench_scale.py --preset tiny --device cpu --workdir /tmp/scale --record /tmp/scale.json
    python experiments/bench_scale.py --preset tiny_hunyuan --device cpu --workdir /tmp/scale --record /tmp/scale.json
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
    "a14b": dict(family="wan22", num_attention_heads=40, attention_head_dim=128, ffn_dim=13824, num_layers=40,
                 text_dim=4096, height=480, width=832, num_frames=81, text_tokens=512),
    "tiny": dict(family="wan22", num_attention_heads=2, attention_head_dim=16, ffn_dim=64, num_layers=6, text_dim=32,
                 height=64, width=64, num_frames=9, text_tokens=8),
    # HunyuanVideo's transformer config (diffusers' defaults), 544x960 with 61 frames: see the docstring.
    "hunyuan": dict(family="hunyuan", num_attention_heads=24, attention_head_dim=128, num_layers=20,
                    num_single_layers=40, num_refiner_layers=2, rope_axes_dim=(16, 56, 56), text_dim=4096,
                    pooled_dim=768, height=544, width=960, num_frames=61, text_tokens=256),
    "tiny_hunyuan": dict(family="hunyuan", num_attention_heads=2, attention_head_dim=16, num_layers=2,
                         num_single_layers=4, num_refiner_layers=1, rope_axes_dim=(4, 6, 6), text_dim=32,
                         pooled_dim=8, height=64, width=64, num_frames=9, text_tokens=8),
}


def random_module(make, seed: int, device: str, dtype):
    """``make()`` with random weights created directly on ``device`` in ``dtype``."""
    import torch

    torch.manual_seed(seed)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # 13-14B parameters are never held in float32
    try:
        with torch.device(device):
            made = make()
    finally:
        torch.set_default_dtype(default)
    return made.to(dtype).eval()


def wan22_model(preset: dict, device: str, dtype):
    """A two-expert Wan2.2 adapter with random weights made directly on ``device`` in ``dtype``."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    from interp.models import WanModel
    from interp.models.tiny import tiny_wan_vae

    def expert(seed):
        return random_module(lambda: WanTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=preset["num_attention_heads"],
            attention_head_dim=preset["attention_head_dim"], in_channels=16, out_channels=16,
            text_dim=preset["text_dim"], freq_dim=256, ffn_dim=preset["ffn_dim"], num_layers=preset["num_layers"],
            cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024),
            seed, device, dtype)

    # The VAE only sets the latent geometry (8x spatial, 4x temporal, as Wan's); nothing is decoded.
    pipe = WanPipeline(tokenizer=None, text_encoder=None, vae=tiny_wan_vae(), transformer=expert(0),
                       transformer_2=expert(1), scheduler=FlowMatchEulerDiscreteScheduler(shift=12.0),
                       boundary_ratio=0.875)
    return WanModel(pipe, name="wan22-a14b-shape-random").to(device)


def wan22_inputs(model, preset: dict, embeds):
    """Classifier-free guidance on, as Wan2.2 samples: each step calls the expert on cond, then uncond."""
    guidance = {"kind": "classifier-free", "guidance_scale": 3.0, "guidance_scale_2": 4.0}
    inputs = model.prepare(prompt_embeds=embeds, negative_prompt_embeds=-embeds, height=preset["height"],
                           width=preset["width"], num_frames=preset["num_frames"], guidance_scale=3.0,
                           guidance_scale_2=4.0, seeds=[0])
    return inputs, guidance


def hunyuan_model(preset: dict, device: str, dtype):
    """A HunyuanVideo adapter with random weights made directly on ``device`` in ``dtype``."""
    from diffusers import FlowMatchEulerDiscreteScheduler, HunyuanVideoPipeline, HunyuanVideoTransformer3DModel

    from interp.models import HunyuanVideoModel
    from interp.models.tiny_zoo import tiny_hunyuan_vae

    transformer = random_module(lambda: HunyuanVideoTransformer3DModel(
        in_channels=16, out_channels=16, num_attention_heads=preset["num_attention_heads"],
        attention_head_dim=preset["attention_head_dim"], num_layers=preset["num_layers"],
        num_single_layers=preset["num_single_layers"], num_refiner_layers=preset["num_refiner_layers"],
        mlp_ratio=4.0, patch_size=2, patch_size_t=1, qk_norm="rms_norm", guidance_embeds=True,
        text_embed_dim=preset["text_dim"], pooled_projection_dim=preset["pooled_dim"], rope_theta=256.0,
        rope_axes_dim=tuple(preset["rope_axes_dim"])), 0, device, dtype)
    # The VAE only sets the latent geometry (8x spatial, 4x temporal, 16 channels); nothing is decoded.
    pipe = HunyuanVideoPipeline(text_encoder=None, tokenizer=None, text_encoder_2=None, tokenizer_2=None,
                                transformer=transformer, vae=tiny_hunyuan_vae(latent_channels=16),
                                scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    return HunyuanVideoModel(pipe, name="hunyuan-video-shape-random").to(device)


def hunyuan_inputs(model, preset: dict, embeds):
    """Guidance distilled into the transformer (embedded as an input): one call per step, no CFG."""
    import torch

    guidance = {"kind": "embedded (distilled)", "guidance_scale": 6.0, "true_cfg_scale": 1.0}
    pooled = torch.randn(1, preset["pooled_dim"], generator=torch.Generator().manual_seed(2))
    inputs = model.prepare(prompt_embeds=embeds, pooled_prompt_embeds=pooled.to(embeds),
                           prompt_attention_mask=torch.ones(embeds.shape[:2], device=embeds.device),
                           height=preset["height"], width=preset["width"], num_frames=preset["num_frames"],
                           guidance_scale=6.0, true_cfg_scale=1.0, max_sequence_length=preset["text_tokens"],
                           seeds=[0])
    return inputs, guidance


# Per family: the model builder, its prepare(...) inputs, and the branches each step runs (in order).
FAMILIES = {
    "wan22": (wan22_model, wan22_inputs, ("cond", "uncond")),
    "hunyuan": (hunyuan_model, hunyuan_inputs, ("cond",)),
}


def describe(model) -> str:
    """Experts, blocks per list and width, parameters: e.g. ``1 expert x (20 transformer_blocks +
    40 single_transformer_blocks) x 3072, 12.82B parameters in all, random``."""
    expert = next(iter(model.experts.values()))
    lists = " + ".join(f"{len(expert.get_submodule(path))} {path}" for path in model.spec.block_lists)
    lists = f"({lists})" if len(model.spec.block_lists) > 1 else lists
    width = expert.config.num_attention_heads * expert.config.attention_head_dim
    count = len(model.experts)
    return (f"{count} expert{'s' if count > 1 else ''} x {lists} x {width}, "
            f"{sum(p.numel() for p in model.parameters()) / 1e9:.2f}B parameters in all, random")


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
    build, make_inputs, branches = FAMILIES[preset["family"]]
    workdir, record_path = Path(args.workdir), Path(args.record)
    workdir.mkdir(parents=True, exist_ok=True)
    record = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.node()}, {os.cpu_count()} CPUs", "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name() if cuda else None, "device": device, "dtype": args.dtype,
              "preset": args.preset, "family": preset["family"],
              "shape": {k: v for k, v in preset.items() if k != "family"}, "num_steps": num_steps}

    def save():
        record_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=1) + "\n")

    began = time.perf_counter()
    model = build(preset, device, dtype)
    sync(device)
    record["build_seconds"] = round(time.perf_counter() - began, 1)
    g = torch.Generator().manual_seed(1)
    embeds = torch.randn(1, preset["text_tokens"], preset["text_dim"], generator=g).to(device, dtype)
    inputs, guidance = make_inputs(model, preset, embeds)
    # Layers count through every block list in run order (HunyuanVideo: dual-stream, then single-stream).
    layers = model.num_layers
    full_layers = (0, layers // 3, 2 * layers // 3, layers - 1)
    record.update(model=describe(model), guidance=guidance, branches=list(branches),
                  latent=list(inputs.latents.shape[1:]), tokens=int(np.prod(model.token_grid(inputs.latents.shape))),
                  full_layers=list(full_layers))
    save()

    memory = []  # allocated after each step's last transformer call

    def track(module, args_, output):
        if model.current_call is not None and model.current_call.branch == branches[-1]:
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

    pooled = CaptureSpec.make(["resid_post"], tokens="frame_mean", branches=branches)
    with_full = CaptureSpec.make(["resid_post"], layers=[l for l in range(layers) if l not in full_layers],
                                 tokens="frame_mean", branches=branches
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
