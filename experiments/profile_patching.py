"""Profile the patching sweep: where the device's time goes, per kernel class.

Runs the sweep of ``cos patch`` (``bench_patching.sweep``) under ``torch.profiler`` on the GPU
preset's pairs with a short step axis (the last ``--steps`` steps, so a profile stays small), once
per arm, on one loaded model: the plain sweep (eager, the
saved x_s only) and the fast one (every switch, compiled blocks; warmed up by one unprofiled
run). Kernels are sorted into classes by name (matrix multiplies, attention, compiled fused
kernels, norms, element-wise, copies and indexing, ...); the record gives each class's device
time and share, the sweep's wall time and the share of it the device was busy, and how often
the host waited for the device (``host_waits``: the CUDA runtime's synchronize calls).

Usage::

    python experiments/profile_patching.py --device cuda --out /tmp/prof     # writes profile.json there
    python experiments/profile_patching.py --device cpu --dtype float32 --pairs 8 --steps 5 --read-at patched \
        --batch-size 128 --out /tmp/prof_cpu
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

CLASSES = (  # first match wins; CUDA kernel names and, on the CPU, aten operator names
    ("attention", ("flash", "fmha", "attention", "cudnn")),
    ("matmul", ("gemm", "cutlass", "xmma", "nvjet", "cublas", "matmul", "aten::mm", "aten::addmm", "aten::bmm")),
    ("compiled fused (triton)", ("triton",)),
    ("convolution", ("conv",)),
    ("norm", ("norm",)),
    ("reduction", ("reduce",)),
    ("copy, index, cat", ("copy", "memcpy", "memset", "cat", "index", "gather", "scatter")),
    ("element-wise", ("elementwise", "vectorized", "unrolled", "pointwise", "aten::add", "aten::mul", "aten::sub",
                      "aten::div", "aten::gelu", "aten::silu", "aten::neg", "aten::exp", "aten::where", "aten::sin",
                      "aten::cos", "aten::pow", "aten::rsqrt", "aten::mean", "aten::sum", "aten::clamp")),
    ("copy, index, cat", ("aten::to", "aten::_to_copy", "aten::clone", "aten::contiguous", "aten::stack",
                          "aten::select", "aten::slice", "aten::view", "aten::reshape", "aten::permute",
                          "aten::transpose", "aten::flatten", "aten::unflatten", "aten::chunk", "aten::split")),
)


def kernel_class(name: str) -> str:
    low = name.lower()
    return next((label for label, keys in CLASSES if any(k in low for k in keys)), "other")


def grid_args(args) -> dict:
    return dict(pairs=args.pairs, steps=list(range(20 - args.steps, 20)), regions="all,changed",
                read_at=args.read_at, batch_size=args.batch_size)


def profile_arm(model, args, options: dict, folder: Path) -> dict:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from bench_patching import sweep

    cuda = args.device.startswith("cuda")
    with profile(activities=[ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]) as prof:
        study = sweep(folder, model=model, device=args.device, dtype=args.dtype, **grid_args(args), **options)
        if cuda:
            torch.cuda.synchronize()
    seconds = study.grid.meta["seconds"]
    classes, kernels, waits = {}, [], {}
    for event in prof.key_averages():
        if "Synchronize" in event.key:  # the host waiting for the device (runtime calls, on the CPU side)
            waits[event.key] = waits.get(event.key, 0) + event.count
        if cuda:
            device_us = getattr(event, "self_device_time_total", 0) or 0
            if "CUDA" not in str(getattr(event, "device_type", "CUDA")):
                continue
        else:  # operators' own CPU time, so that nested operators are not counted twice
            device_us = event.self_cpu_time_total if event.key.startswith("aten::") else 0
        if device_us <= 0 or event.key.startswith("ProfilerStep"):
            continue
        label = kernel_class(event.key)
        row = classes.setdefault(label, {"ms": 0.0, "launches": 0})
        row["ms"] += device_us / 1000
        row["launches"] += event.count
        kernels.append((device_us / 1000, event.count, label, event.key[:120]))
    busy = sum(r["ms"] for r in classes.values())
    for row in classes.values():
        row["share"] = round(row["ms"] / busy, 4) if busy else 0.0
        row["ms"] = round(row["ms"], 1)
    top = [{"ms": round(ms, 1), "launches": n, "class": c, "kernel": k} for ms, n, c, k in sorted(kernels)[::-1][:20]]
    return {"sweep_seconds_profiled": round(seconds, 2), "device_busy_ms": round(busy, 1),
            "classes": dict(sorted(classes.items(), key=lambda kv: -kv[1]["ms"])), "host_waits": waits,
            "top_kernels": top}


def main(argv=None) -> int:
    from interp.results import ScriptParser, claim_output

    parser = ScriptParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16"))
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4, help="profile the last N of 20 steps")
    parser.add_argument("--read-at", default="final", choices=("final", "patched"))
    parser.add_argument("--batch-size", type=int, default=1536)
    parser.add_argument("--compile", default=None, help="compile mode of the fast arm (default: 'default' on CUDA, "
                                                        "'none' on the CPU)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    claim_output(args, ["profile.json"])

    import torch

    from bench_patching import sweep
    from interp.models import load_model

    out = Path(args.out)
    cuda = args.device.startswith("cuda")
    model = load_model("organism", device=args.device, dtype=getattr(torch, args.dtype))
    fast = {"compile": args.compile or ("default" if cuda else "none")}
    record = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "device": torch.cuda.get_device_name(0) if cuda else f"cpu, {torch.get_num_threads()} threads",
              "torch": torch.__version__, "dtype": args.dtype, "grid": grid_args(args), "fast": fast,
              "load": os.getloadavg(), "time": "CUDA kernel time" if cuda else "aten operators' own CPU time"}
    record["plain"] = profile_arm(model, args, dict(reuse_layers=False, share_states=False), out / "plain")
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.json").write_text(json.dumps(record, indent=2) + "\n")  # kept if the fast arm does not finish
    if fast["compile"] != "none":  # compile outside the profile
        sweep(out / "warm", model=model, device=args.device, dtype=args.dtype, **grid_args(args), **fast)
    record["fast"] = profile_arm(model, args, fast, out / "fast")
    (out / "profile.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
