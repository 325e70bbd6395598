"""Profile the patching sweep: where the device's time goes, per kernel class.

Runs the sweep of ``cos patch`` (``bench_patching.sweep``) under ``torch.profiler`` on the GPU
preset's pairs with a short step axis (the last ``--steps`` steps, so a profile stays small), once
per arm (``--arms``), on one loaded model: the plain sweep (eager, the saved x_s only) and the fast
one (every switch, compiled blocks with ``--compile``'s mode, 'default' on CUDA, and on CUDA the
stacked rotary form; warmed up by one unprofiled run). Kernels (on the CPU: aten operators' own
time) are sorted into classes by name (:func:`kernel_class`: matmul, attention, norm, copy and
cast, element-wise, reduction, index and cat, convolution, compiled fused kernels, random
numbers; ``other`` for names no rule knows). The
record gives each class's device time and share, every kernel with its class (to check the
classes), the aten operators that launched the kernels (CUDA), the sweep's wall time and the share
of it the device was busy, and how often the host waited for the device (``host_waits``). It is
written to ``--out``/profile.json and ``--record`` before the first arm and after each.

Usage::

    python experiments/profile_patching.py --device cuda --steps 3 --out /tmp/prof   # bf16, plain and fast
    python experiments/profile_patching.py --device cuda --dtype float32 --steps 3 --out /tmp/prof32
    python experiments/profile_patching.py --device cpu --dtype float32 --pairs 8 --steps 5 --read-at patched \
        --batch-size 128 --arms plain --out /tmp/prof_cpu
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
from pathlib import Path

# Kernel classes, first match wins: CUDA kernel names (and the runtime's Memcpy/Memset rows) and, on
# the CPU, aten operator names. Compiled (triton) kernels come first since their names list the ops
# they fuse; attention before matmul and convolution (cuDNN's and cutlass's attention kernels);
# convolution before matmul (implicit-GEMM fprop kernels); index and cat before copy
# (CatArrayBatchedCopy); random numbers before norm and element-wise (normal_kernel, distribution_
# elementwise_...). A cast is a copy (``.to(dtype)`` runs aten::_to_copy -> direct_copy_kernel_cuda).
_ATEN_ELEMENTWISE = ("add|sub|rsub|mul|div|neg|exp|exp2|log|log1p|sin|cos|tanh|sigmoid|gelu|silu|relu|pow|rsqrt|"
                     "sqrt|clamp|clamp_min|clamp_max|where|fill|zero|lerp|addcmul|addcdiv|masked_fill|abs|sign|"
                     "maximum|minimum|float_power|square|reciprocal|erf|round|floor|ceil|remainder|fmod|eq|ne|lt|gt|"
                     "le|ge|logical_not|logical_and|logical_or|bitwise_and|bitwise_or|bitwise_not|nan_to_num|"
                     "isnan|isfinite|ones_like|zeros_like|full|full_like|ones|zeros|arange|linspace|polar|complex|"
                     "view_as_real|view_as_complex")
_ATEN_VIEWS = ("view|reshape|_reshape_alias|permute|transpose|t|expand|expand_as|unsqueeze|squeeze|select|slice|"
               "narrow|as_strided|flatten|unflatten|chunk|split|split_with_sizes|unbind|detach|alias|_unsafe_view|"
               "empty|empty_like|empty_strided|resize_|set_|lift_fresh|contiguous|item|_local_scalar_dense|"
               "is_nonzero|result_type|broadcast_tensors|numpy_T|dropout|linear|resolve_conj|resolve_neg|new_empty|"
               "new_zeros|movedim|moveaxis|swapaxes")
CLASSES = (
    ("matmul", r"triton_tem"),
    ("compiled fused (triton)", r"triton"),
    ("attention", r"flash|fmha|attention|sdpa|softmax|\bmha"),
    ("convolution", r"conv(?!ert)|fprop|dgrad|wgrad|im2col|vol2col|col2im|cudnn|nchwtonhwc|nhwctonchw"),
    ("matmul", r"gemm|gemv|cutlass|xmma|nvjet|cublas|matmul|splitkreduce|dot_kernel|aten::(mm|addmm|bmm|baddbmm|"
               r"addbmm|dot|vdot|mv|addmv|einsum)\b"),
    ("random numbers", r"normal_|normal<|philox|curand|distribution|uniform_|random_|randn|randperm|bernoulli|"
                       r"aten::(normal|uniform|rand|randn|randint|randperm)\b"),
    ("norm", r"layer_?norm|rms_?norm|group_?norm|batch_?norm|instance_?norm|rowwisemoments|computefusedparams|"
             r"welford|aten::(norm|linalg_vector_norm|renorm)\b"),
    ("reduction", r"reduce|aten::(sum|mean|amax|amin|max|min|argmax|argmin|std|var|var_mean|std_mean|prod|all|"
                  r"any|cumsum|cumprod|logsumexp)\b"),
    ("index, cat", r"catarray|aten::(cat|stack|hstack|vstack|roll|flip|repeat|repeat_interleave|tile|"
                   r"index_select|gather|scatter|index|index_put_|index_add_|masked_select|nonzero|take|"
                   r"embedding|pad|constant_pad_nd)\b|index|gather|scatter|roll_cuda|flip_kernel"),
    ("copy, cast", r"copy|memcpy|memset|aten::(to|_to_copy|clone|type_as|_copy_from|"
                   r"_copy_from_and_resize)\b"),
    ("element-wise", r"elementwise|vectorized|unrolled|pointwise|functor|aten::(" + _ATEN_ELEMENTWISE + r")_?\b"),
    ("views, allocation (host)", r"aten::(" + _ATEN_VIEWS + r")_?\b"),
)
_COMPILED = tuple((label, re.compile(pattern)) for label, pattern in CLASSES)


def kernel_class(name: str) -> str:
    """The class of a CUDA kernel or an aten operator by its name (``other`` when no rule matches)."""
    low = name.lower()
    return next((label for label, pattern in _COMPILED if pattern.search(low)), "other")


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
    classes, kernels, waits, ops = {}, [], {}, []
    for event in prof.key_averages():
        if "Synchronize" in event.key:  # the host waiting for the device (runtime calls, on the CPU side)
            waits[event.key] = waits.get(event.key, 0) + event.count
        if cuda:
            device_us = getattr(event, "self_device_time_total", 0) or 0
            if "CUDA" not in str(getattr(event, "device_type", "CUDA")):
                if event.key.startswith("aten::") and device_us > 0:  # the operator that launched the kernels
                    ops.append((device_us / 1000, event.count, kernel_class(event.key), event.key))
                continue
        else:  # operators' own CPU time, so that nested operators are not counted twice
            device_us = event.self_cpu_time_total if event.key.startswith("aten::") else 0
        if device_us <= 0 or event.key.startswith("ProfilerStep"):
            continue
        label = kernel_class(event.key)
        row = classes.setdefault(label, {"ms": 0.0, "launches": 0})
        row["ms"] += device_us / 1000
        row["launches"] += event.count
        kernels.append((device_us / 1000, event.count, label, event.key))
    busy = sum(r["ms"] for r in classes.values())
    for row in classes.values():
        row["share"] = round(row["ms"] / busy, 4) if busy else 0.0
        row["ms"] = round(row["ms"], 1)

    def rows(items, limit=None):
        return [{"ms": round(ms, 2), "launches": n, "class": c, "name": k[:400]}
                for ms, n, c, k in sorted(items, key=lambda r: -r[0])[:limit]]

    return {"sweep_seconds_profiled": round(seconds, 2), "device_busy_ms": round(busy, 1),
            "device_busy_share_of_sweep": round(busy / (1000 * seconds), 4) if seconds else None,
            "classes": dict(sorted(classes.items(), key=lambda kv: -kv[1]["ms"])), "host_waits": waits,
            "top_kernels": rows(kernels, 20), "kernels": rows(kernels),  # every kernel, to check the classes
            "operators": rows(ops, 40)}  # on CUDA: the aten operators whose own kernels took the time


def main(argv=None) -> int:
    from interp.results import ScriptParser, claim_output

    parser = ScriptParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16"))
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4, help="profile the last N of 20 steps")
    parser.add_argument("--read-at", default="final", choices=("final", "patched"))
    parser.add_argument("--batch-size", type=int, default=1536)
    parser.add_argument("--rotary", default=None, help="rotary form of the fast arm (default: 'stacked' on CUDA, "
                                                       "'stock' on the CPU)")
    parser.add_argument("--compile", default=None, help="compile mode of the fast arm (default: 'default' on CUDA, "
                                                        "'none' on the CPU)")
    parser.add_argument("--arms", default="plain,fast", help="comma list of plain, fast (profiled in this order)")
    parser.add_argument("--note", default=None, help="kept in the record (e.g. what else ran on the device)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--record", default=None, help="a copy of profile.json (default: experiments/results/"
                                                       "profile_patching/<device>_<dtype>_<date>.json)")
    args = parser.parse_args(argv)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    if not arms or set(arms) - {"plain", "fast"}:
        parser.error(f"--arms {args.arms!r}: choose from plain, fast")
    claim_output(args, ["profile.json"])

    import torch

    from bench_patching import sweep
    from interp.models import load_model

    out = Path(args.out)
    cuda = args.device.startswith("cuda")
    fast = {"compile": args.compile or ("default" if cuda else "none"),
            "rotary": args.rotary or ("stacked" if cuda else "stock")}
    record = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "device": torch.cuda.get_device_name(0) if cuda else f"cpu, {torch.get_num_threads()} threads",
              "machine": platform.node(), "torch": torch.__version__, "dtype": args.dtype, "grid": grid_args(args),
              "arms": arms, "fast_options": fast, "note": args.note, "load": os.getloadavg(),
              "time": "CUDA kernel time" if cuda else "aten operators' own CPU time"}
    path = Path(args.record or Path(__file__).parent / "results" / "profile_patching" /
                f"{args.device.split(':')[0]}_{args.dtype}_{record['date'][:10]}.json")

    def write():  # before the first arm and after each, so that a run cut short keeps what it measured
        for where in (out / "profile.json", path):
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_text(json.dumps(record, indent=2) + "\n")

    write()
    model = load_model("organism", device=args.device, dtype=getattr(torch, args.dtype))
    for arm in arms:
        if arm == "plain":
            record["plain"] = profile_arm(model, args, dict(reuse_layers=False, share_states=False), out / "plain")
        else:
            if fast["compile"] != "none":  # compile outside the profile
                sweep(out / "warm", model=model, device=args.device, dtype=args.dtype, **grid_args(args), **fast)
            record["fast"] = profile_arm(model, args, fast, out / "fast")
        record[f"{arm}_seconds"] = record[arm]["sweep_seconds_profiled"]
        write()
    summary = {arm: {k: record[arm][k] for k in ("sweep_seconds_profiled", "device_busy_share_of_sweep", "classes")}
               for arm in arms}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
