"""Benchmark: what capturing into the trace store costs, on CPU and on a GPU.

(a) CPU: the maze organism (the shipped checkpoint, or a random one of its shape when none is
    shipped), plain sampling vs capturing every site (all blocks' resid_post, attn1, attn2 and
    ffn outputs, plus x_t, velocity and x0) in full.
(b) GPU (when CUDA is available): a randomly initialised ``WanTransformer3DModel`` of
    Wan2.1-T2V-1.3B's shape in bf16 at 480x832, 33 frames (latents 9x60x104, 14,040 tokens),
    10 steps with classifier-free guidance (each block runs twice per step):
    plain sampling; all 30 blocks pooled per frame; the same plus 4 blocks in full (disk-bound
    by design); nnsight's own in-memory cache of the same 4 blocks (on the host and on the GPU);
    and the disk's raw sequential write speed measured with ``dd`` in the same run.

Usage::

    python experiments/bench_capture.py --out outputs/bench_capture            # CPU part (+ GPU if present)
    python experiments/bench_capture.py --parts gpu --workdir /tmp/bench --out $OUT

Writes ``results.json`` in ``--out`` and prints a Markdown summary.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from interp.capture import BLOCK_KINDS, LOOP_SITES, CaptureSpec, capture
from interp.interventions import run
from interp.paths import recorded_command
from interp.store import layout

GIB = 1 << 30


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def gpu_allocated() -> int:
    return torch.cuda.memory_allocated() if torch.cuda.is_available() else 0


def gpu_peak() -> int:
    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else 0


def gpu_reset_peak() -> None:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def timed(fn, device, repeats: int = 1) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls of ``fn`` (synchronised), and the last result."""
    times, out = [], None
    for _ in range(repeats):
        sync(device)
        began = time.perf_counter()
        out = fn()
        sync(device)
        times.append(time.perf_counter() - began)
    return float(np.median(times)), out


def store_bytes(path: Path) -> int:
    folder = layout.data_dir(path)
    return sum(p.stat().st_size for p in folder.glob("*.h5")) + path.stat().st_size


def clear(path: Path) -> None:
    layout.remove_store(path)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1 << 20)


# -- (a) CPU: the organism -------------------------------------------------------------------------
def organism_model():
    from interp.models import OrganismModel, load_model
    from interp.organism import DEFAULT_ORGANISM, OrganismConfig, build_organism, default_transformer_config

    if DEFAULT_ORGANISM.is_dir():
        return load_model("organism"), "shipped checkpoint"
    organism = build_organism(OrganismConfig(), default_transformer_config(), seed=0)
    return OrganismModel(organism), "random weights, shipped shape (no checkpoint yet)"


def bench_cpu(workdir: Path, num_steps: int, repeats: int) -> dict:
    from interp.tasks import generate_maze, render_maze

    model, weights = organism_model()
    model = model.to("cpu").eval()
    frame = render_maze(generate_maze(5, seed=0), upto=0, px_per_unit=model.organism.config.px_per_unit)
    inputs = model.prepare(first_frame=frame, seeds=[0])
    spec = CaptureSpec.make(BLOCK_KINDS + LOOP_SITES, dtype="float16")
    path = workdir / "cpu.h5"

    def plain():
        return run(model, inputs, num_steps=num_steps, decode=False, progress=False)

    def full():
        clear(path)
        return capture(model, inputs, spec, path, num_steps=num_steps, save_video=False, progress=False)

    plain()  # warm-up
    full()
    t_plain, _ = timed(plain, "cpu", repeats)
    t_full, result = timed(full, "cpu", repeats)
    tokens = int(np.prod(model.token_grid(inputs.latents.shape)))
    return {
        "model": f"maze organism ({weights}), {model.num_layers} blocks, {tokens} tokens, "
                 f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters",
        "threads": torch.get_num_threads(),
        "num_steps": num_steps,
        "sites": len(result.plan.sites),
        "plain_s": t_plain,
        "full_capture_s": t_full,
        "ratio": t_full / t_plain,
        "bytes": store_bytes(path),
    }


# -- (b) GPU: Wan2.1-1.3B shape ---------------------------------------------------------------------
#: Wan2.1-T2V-1.3B's transformer, and a small stand-in of the same code path for a CPU dry run.
WAN_1_3B = dict(num_attention_heads=12, attention_head_dim=128, text_dim=4096, ffn_dim=8960, num_layers=30,
                height=480, width=832, num_frames=33, text_tokens=512)
SMALL = dict(num_attention_heads=2, attention_head_dim=32, text_dim=64, ffn_dim=128, num_layers=6,
             height=128, width=128, num_frames=9, text_tokens=16)


def wan_model(device: str, size: dict):
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    from interp.models import WanModel
    from interp.models.tiny import tiny_wan_vae

    torch.manual_seed(0)
    with torch.device(device):
        transformer = WanTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=size["num_attention_heads"],
            attention_head_dim=size["attention_head_dim"], in_channels=16, out_channels=16,
            text_dim=size["text_dim"], freq_dim=256, ffn_dim=size["ffn_dim"], num_layers=size["num_layers"],
            cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024,
        )
    transformer = transformer.to(torch.bfloat16).eval()
    # The VAE only sets the latent geometry (8x spatial, 4x temporal, as Wan's); nothing is decoded.
    pipe = WanPipeline(tokenizer=None, text_encoder=None, vae=tiny_wan_vae(), transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0))
    return WanModel(pipe, name="wan-random").to(device)


def check_against_hook(model, inputs, num_steps: int, path: Path, layer: int) -> dict:
    """Compare stored full-block slabs with what a raw forward hook sees at the same calls."""
    from interp.store import TraceStore

    kept = {}

    def hook(module, args, output):
        label = model.current_call
        if label.step in (0, num_steps - 1) and label.branch == "uncond":
            kept[label.step] = output[0].to(torch.float16).cpu().numpy()

    handle = model.blocks()[layer].register_forward_hook(hook)
    try:
        run(model, inputs, num_steps=num_steps, decode=False, progress=False)
    finally:
        handle.remove()
    with TraceStore.open(path) as store:
        sample_id = store.sample_ids()[0]
        diffs = {}
        for step, expected in kept.items():
            got = store.read(sample_id, f"blocks.{layer}.resid_post", branch="uncond", steps=[step], dtype=None)[0]
            diffs[step] = float(np.abs(got.astype(np.float32) - expected.astype(np.float32)).max())
    return {"layer": layer, "max_abs_diff_by_step": diffs, "bitwise_equal": all(d == 0 for d in diffs.values())}


def dd_speed(workdir: Path, gib: int = 4) -> dict:
    target = workdir / "dd.bin"
    began = time.perf_counter()
    run = subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=64M", f"count={16 * gib}", "conv=fdatasync"],
                         capture_output=True, text=True)
    seconds = time.perf_counter() - began
    target.unlink(missing_ok=True)
    line = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
    return {"bytes": gib * GIB, "seconds": seconds, "mb_per_s": gib * GIB / seconds / 1e6, "dd_says": line}


def bench_gpu(workdir: Path, num_steps: int, device: str = "cuda", size: dict = WAN_1_3B) -> dict:
    model = wan_model(device, size)
    layers = model.num_layers
    full_layers = (0, layers // 3, 2 * layers // 3, layers - 1)
    g = torch.Generator().manual_seed(1)
    embeds = torch.randn(1, size["text_tokens"], size["text_dim"], generator=g).to(device, torch.bfloat16)
    inputs = model.prepare(prompt_embeds=embeds, negative_prompt_embeds=-embeds, height=size["height"],
                           width=size["width"], num_frames=size["num_frames"], guidance_scale=5.0, seeds=[0])
    grid = model.token_grid(inputs.latents.shape)
    out = {"model": f"WanTransformer3DModel, {layers} blocks, width {model.transformer.config.num_attention_heads * model.transformer.config.attention_head_dim}, random bf16, "
                    f"{sum(p.numel() for p in model.transformer.parameters()) / 1e9:.2f}B parameters",
           "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "latent": list(inputs.latents.shape[1:]),
           "tokens": int(np.prod(grid)), "num_steps": num_steps, "guidance": 5.0}

    memory = []

    def track(module, args, output):  # after the step's last transformer call (uncond: guidance is on)
        if model.current_call.branch == "uncond":
            memory.append(gpu_allocated() / GIB)

    model.transformer.register_forward_hook(track)

    def plain():
        return run(model, inputs, num_steps=num_steps, decode=False, progress=False)

    pooled_spec = CaptureSpec.make(["resid_post"], tokens="frame_mean", branches=("cond", "uncond"))
    full_spec = CaptureSpec.make(["resid_post"], layers=[l for l in range(model.num_layers) if l not in full_layers],
                                 tokens="frame_mean", branches=("cond", "uncond")
                                 ).with_group(["resid_post"], layers=full_layers, tokens="all")

    def run_capture(spec, name):
        path = workdir / f"{name}.h5"
        clear(path)
        memory.clear()
        gpu_reset_peak()
        began = time.perf_counter()
        result = capture(model, inputs, spec, path, num_steps=num_steps, save_video=False, progress=False)
        sync(device)
        seconds = time.perf_counter() - began
        return {"seconds": seconds, "bytes": store_bytes(path), "slab_bytes": result.bytes_written,
                "write_mb_per_s": result.bytes_written / seconds / 1e6,
                "timings": {k: round(v, 3) for k, v in result.timings.items()},
                "gpu_gib_per_step": [round(m, 3) for m in memory],
                "gpu_peak_gib": gpu_peak() / GIB}

    # warm-up: kernels, allocator, pinned host memory
    run(model, inputs, num_steps=2, decode=False, progress=False)
    run_capture(CaptureSpec.make(["resid_post"], layers=full_layers, steps=[0], branches=("cond", "uncond")), "warm")
    clear(workdir / "warm.h5")

    gpu_reset_peak()
    memory.clear()
    t_plain, _ = timed(lambda: run(model, inputs, num_steps=num_steps, decode=False, progress=False),
                       device, repeats=2)
    out["plain"] = {"seconds": t_plain, "per_forward_s": t_plain / (2 * num_steps),
                    "gpu_gib_per_step": [round(m, 3) for m in memory[-num_steps:]],
                    "gpu_peak_gib": gpu_peak() / GIB}
    pooled = run_capture(pooled_spec, "pooled")
    pooled["ratio"] = pooled["seconds"] / t_plain
    out["pooled_all_blocks"] = pooled
    # Twice: the first run also allocates its pinned host buffers, the second finds them cached.
    first = run_capture(full_spec, "pooled_plus_full")
    first["ratio"] = first["seconds"] / t_plain
    out["pooled_plus_4_full_first"] = first
    full = run_capture(full_spec, "pooled_plus_full")
    full["ratio"] = full["seconds"] / t_plain
    full["full_layers"] = list(full_layers)
    out["pooled_plus_4_full"] = full
    out["pooled_plus_4_full"]["check_against_hook"] = check_against_hook(
        model, inputs, num_steps, workdir / "pooled_plus_full.h5", full_layers[-1])
    clear(workdir / "pooled.h5")
    clear(workdir / "pooled_plus_full.h5")

    # nnsight's own cache of the same 4 full blocks, kept in memory (host, then GPU)
    from nnsight import NNsight  # only this arm needs it; bench_scale imports the helpers without it

    wrapped = NNsight(model)
    for where, device_arg in (("host", torch.device("cpu")), ("gpu", None)):
        gpu_reset_peak()
        rss_before = peak_rss_gib()
        began = time.perf_counter()
        with wrapped.trace(inputs, num_steps=num_steps, decode=False, progress=False) as tracer:
            cache = tracer.cache(modules=[wrapped.transformer.blocks[l] for l in full_layers], device=device_arg)
        sync(device)
        seconds = time.perf_counter() - began
        kept = sum(t.numel() * t.element_size() for path in cache.keys() for t in cache[path].output)
        out[f"nnsight_cache_{where}"] = {
            "seconds": seconds, "ratio": seconds / t_plain, "bytes_kept": kept,
            "gpu_peak_gib": gpu_peak() / GIB,
            "host_peak_rss_growth_gib": max(0.0, peak_rss_gib() - rss_before),
        }
        del cache
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    out["dd"] = dd_speed(workdir)
    out["pooled_plus_4_full"]["fraction_of_dd"] = full["write_mb_per_s"] / out["dd"]["mb_per_s"]
    first["fraction_of_dd"] = first["write_mb_per_s"] / out["dd"]["mb_per_s"]
    return out


def summary(results: dict) -> str:
    lines = [f"date {results['date']}, machine: {results['machine']}"]
    if "cpu" in results:
        c = results["cpu"]
        lines += [f"(a) CPU, {c['model']}, {c['num_steps']} steps, {c['threads']} threads",
                  f"    plain {c['plain_s']:.2f} s | full capture of {c['sites']} sites {c['full_capture_s']:.2f} s "
                  f"| x{c['ratio']:.2f} | {c['bytes'] / 1e6:.1f} MB"]
    if "gpu" in results:
        g = results["gpu"]
        p, f = g["pooled_all_blocks"], g["pooled_plus_4_full"]
        lines += [f"(b) {g['device']}, {g['model']}, {g['tokens']} tokens, {g['num_steps']} steps, CFG",
                  f"    plain {g['plain']['seconds']:.2f} s ({g['plain']['per_forward_s']:.3f} s/forward)",
                  f"    all blocks frame-pooled {p['seconds']:.2f} s | x{p['ratio']:.3f}",
                  f"    + 4 full blocks {f['seconds']:.2f} s | x{f['ratio']:.2f} | {f['slab_bytes'] / 1e9:.2f} GB at "
                  f"{f['write_mb_per_s']:.0f} MB/s = {100 * f['fraction_of_dd']:.0f}% of dd "
                  f"({g['dd']['mb_per_s']:.0f} MB/s); GPU GiB per step {f['gpu_gib_per_step']}",
                  f"      timings {f['timings']}; first run {g['pooled_plus_4_full_first']['seconds']:.2f} s "
                  f"({100 * g['pooled_plus_4_full_first']['fraction_of_dd']:.0f}% of dd), "
                  f"timings {g['pooled_plus_4_full_first']['timings']}",
                  f"    nnsight cache (host) {g['nnsight_cache_host']['seconds']:.2f} s, "
                  f"+{g['nnsight_cache_host']['host_peak_rss_growth_gib']:.1f} GiB host; "
                  f"(gpu) {g['nnsight_cache_gpu']['seconds']:.2f} s, peak {g['nnsight_cache_gpu']['gpu_peak_gib']:.1f} GiB GPU "
                  f"vs {f['gpu_peak_gib']:.1f} GiB streaming",
                  f"    stored slabs vs raw hook: {f['check_against_hook']}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    from interp.outputs import write_json
    from interp.results import ScriptParser, claim_output

    parser = ScriptParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="cpu,gpu", help="cpu, gpu or cpu,gpu (gpu is skipped without CUDA)")
    parser.add_argument("--out", default="outputs/bench_capture", help="folder for results.json")
    parser.add_argument("--workdir", default=None, help="where stores and the dd file go (default: --out)")
    parser.add_argument("--cpu-steps", type=int, default=20)
    parser.add_argument("--gpu-steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dry-run", action="store_true", help="run the GPU part on CPU with a small model")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    out = claim_output(args, ["results.json"])
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir or out)
    workdir.mkdir(parents=True, exist_ok=True)
    parts = set(args.parts.split(","))
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "command": recorded_command(["python", "experiments/bench_capture.py", *(
            word for k, v in vars(args).items() if v is not None and v is not False
            for word in ([f"--{k.replace('_', '-')}"] if v is True else [f"--{k.replace('_', '-')}", str(v)]))]),
    }
    if "cpu" in parts:
        results["cpu"] = bench_cpu(workdir, args.cpu_steps, args.repeats)
        print(summary(results), flush=True)
    if "gpu" in parts and args.dry_run:
        results["gpu"] = bench_gpu(workdir, args.gpu_steps, device="cpu", size=SMALL)
    elif "gpu" in parts and torch.cuda.is_available():
        results["gpu"] = bench_gpu(workdir, args.gpu_steps)
    write_json(out / "results.json", results, indent=1)
    print(summary(results))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
