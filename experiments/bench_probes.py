"""Benchmark the probe sweep: wall time, and held-out agreement with scikit-learn's solver.

Two presets (or give every size yourself):

* ``--preset organism`` (CPU): a 64-maze trace shaped like the organism as first planned
  (8 layers x 20 steps, width 256, 4 frames of 11 x 11 tokens; ``--layers 12`` for the shipped
  one), every default target plus the shuffled control; ``--trace`` takes a real trace instead
  (the CPU figure in the docs comes from a 64-maze trace of the shipped organism);
* ``--preset gpu``: 300 (layer, step) blocks (30 layers x 10 steps) of ~22k tokens at width
  1536 read from a store on disk, solved on CUDA.

Without ``--trace`` the store is written first with planted signals (:mod:`probes.synthetic`;
the writing is not timed). Then the whole sweep is timed, and on a few blocks scikit-learn's
``LogisticRegression`` (lbfgs, float64) is fitted on exactly the sweep's z-scored training
tokens, with the same ``C`` and class weights, and its held-out balanced accuracy is compared
with the sweep's. ``--against-converged`` also reruns the whole sweep with the solver run to
convergence (float64, up to 400 iterations, tolerance 1e-6; ``--converged-layers`` limits it to
some layers) and reports how far the default sweep's held-out scores are from it. Results go to
``OUT/bench_probes.json``.

Examples::

    python experiments/bench_probes.py --preset organism --out outputs/bench_probes
    python experiments/bench_probes.py --preset gpu --device cuda --out $OUT
    python experiments/bench_probes.py --trace trace.h5 --against-converged --out outputs/bench_real
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from interp.paths import recorded_path

PRESETS = {
    "organism": dict(n_samples=64, size=5, frames=4, width=256, layers=8, steps=20,
                     targets=None, device="cpu"),  # None: every target of probes.targets
    "gpu": dict(n_samples=20, size=7, frames=5, width=1536, layers=30, steps=10,
                targets=["wall", "route", "dead_end", "distance"], device="cuda"),
}


def write_store_fast(path: Path, *, n_samples, size, frames, width, layers, steps, device, seed=0) -> None:
    """A planted store like :func:`probes.synthetic.write_planted_store`, drawing the noise with
    torch on ``device`` (a GPU draws 10^10 normals in seconds; numpy would take minutes)."""
    import torch

    from interp.store import TraceWriter
    from interp.tasks import generate_maze, ground_truth_video
    from probes.synthetic import PLANTED
    from probes.targets import unit_targets

    U = 2 * size + 1
    sites = {f"blocks.{l}.resid_post": {"kind": "resid_post", "layer": l, "branches": ["cond"]} for l in range(layers)}
    sites["x0"] = {"kind": "x0", "layer": None, "branches": ["guided"]}
    spec = {"sites": sites, "steps": list(range(steps))}
    axes = lambda h: np.stack(np.meshgrid(np.arange(frames), np.arange(h), np.arange(h), indexing="ij"), -1).reshape(-1, 3)  # noqa: E731
    gen = torch.Generator(device=device).manual_seed(seed)
    with TraceWriter(path, model_name="planted-bench", fingerprint=f"bench-{seed}", spec=spec) as store:
        for i in range(n_samples):
            maze = generate_maze(size, seed=seed * 100_000 + i)
            sample = store.begin(f"maze{i:04d}", seed=i, task=maze.to_dict())
            for site in sites:
                sample.set_token_grid(site, axes(U * 2) if site == "x0" else axes(U))
            grids = unit_targets(maze)
            signals = {l: torch.as_tensor(np.broadcast_to((grids[name] == 1).astype(np.float32) - 0.5,
                                                          (frames, U, U)).reshape(-1), device=device)
                       for l, name in PLANTED.items()}
            video = ground_truth_video(maze, frames, px_per_unit=2).astype(np.float32) / 127.5 - 1.0
            for step in range(steps):
                for l in range(layers):
                    x = torch.randn(frames * U * U, width, generator=gen, device=device)
                    if l in signals:
                        x[:, l % width] += (1.0 + step) * 0.3 * signals[l]
                    sample.write(f"blocks.{l}.resid_post", "cond", step, x.half().cpu().numpy())
                sample.write("x0", "guided", step, video.reshape(-1, 3).astype(np.float16))
            sample.commit()


def informative_blocks(rows, targets, count) -> list[tuple[int, int]]:
    """Blocks whose scores are furthest from both chance and perfection (mean near 0.8), where a
    solver difference would show; saturated or chance-level blocks agree trivially."""
    by_block: dict = {}
    for r in rows:
        if r["target"] in targets and np.isfinite(r["score"]):
            by_block.setdefault((r["layer"], r["step"]), []).append(r["score"])
    ranked = sorted(by_block, key=lambda b: abs(np.mean(by_block[b]) - 0.8))
    return ranked[:count]


def sklearn_agreement(store, rows, settings, targets, blocks) -> list[dict]:
    """Refit chosen (layer, step, target) cells with scikit-learn on the sweep's exact tokens."""
    from sklearn.linear_model import LogisticRegression

    from probes.labels import label_matrix
    from probes.scoring import class_scores, class_stats
    from probes.split import split_samples
    from probes.sweep import _Block, _class_weights
    from probes.targets import TARGETS

    ids = sorted(store.sample_ids())
    train_ids, test_ids = split_samples(ids, test_fraction=settings.test_fraction, seed=settings.seed)
    pos = {s: i for i, s in enumerate(ids)}
    tr, te = np.array([pos[s] for s in train_ids]), np.array([pos[s] for s in test_ids])
    grid = store.token_grid("blocks.0.resid_post")
    labels = label_matrix(store, ids, targets, grid)
    out = []
    for layer, step in blocks:
        X = next(store.iter_blocks(layers=[layer], steps=[step], dtype=None))[2]
        block = _Block(X, None, tr, te, "cpu")
        Xtr, Xte = block.train.double().numpy(), block.test.double().numpy()
        for name in targets:
            y_tr, y_te = labels[name][tr].reshape(-1), labels[name][te].reshape(-1)
            ok = y_tr >= 0
            k = TARGETS[name].n_classes
            w = _class_weights(y_tr, k)[ok]
            started = time.perf_counter()
            ref = LogisticRegression(C=settings.C, tol=1e-6, max_iter=2000).fit(Xtr[ok], y_tr[ok], sample_weight=w)
            seconds = time.perf_counter() - started
            groups = np.repeat(np.arange(len(te)), X.shape[1])
            stats = class_stats(y_te, ref.predict(Xte), groups, k)
            sk = float(class_scores(stats.sum(0))["balanced_accuracy"])
            (row,) = [r for r in rows if (r["layer"], r["step"], r["target"]) == (layer, step, name)]
            out.append({"layer": layer, "step": step, "target": name, "ours": row["score"], "sklearn": sk,
                        "difference_points": round(100 * (row["score"] - sk), 3), "sklearn_seconds": round(seconds, 2)})
    return out


def converged_gap(store, rows, targets, device, layers=None) -> dict:
    """Held-out score gaps between ``rows`` and the same sweep with the solver run to convergence."""
    from probes.sweep import SweepSettings, sweep

    settings = SweepSettings(device=device, max_iter=400, tol=1e-6, n_boot=0, dtype="float64")
    started = time.perf_counter()
    reference = sweep(store, targets, layers=layers, settings=settings)
    seconds = time.perf_counter() - started
    key = lambda r: (r["branch"], r["layer"], r["step"], r["target"])  # noqa: E731
    ref = {key(r): r for r in reference}
    pairs = [(r, ref[key(r)]) for r in rows if key(r) in ref and np.isfinite(r["score"])]
    gaps = [abs(r["score"] - c["score"]) for r, c in pairs]
    worst = max(pairs, key=lambda p: abs(p[0]["score"] - p[1]["score"]))[0]
    return {"layers": sorted({r["layer"] for r in reference}), "cells": len(pairs),
            "converged_seconds": round(seconds, 2),
            "converged_mean_lbfgs_iterations": round(float(np.mean([r["n_iter"] for r in reference if r["n_iter"]])), 1),
            "max_abs_gap_points": round(100 * max(gaps), 3), "mean_abs_gap_points": round(100 * float(np.mean(gaps)), 4),
            "worst": {k: worst[k] for k in ("layer", "step", "target")}}


def main(argv=None) -> int:
    from interp.results import ScriptParser, claim_output

    parser = ScriptParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="organism")
    parser.add_argument("--trace", help="benchmark an existing store instead of writing a planted one")
    parser.add_argument("--store-dir", help="where to write the planted store (default: a temporary folder)")
    parser.add_argument("--device", help="override the preset's device")
    for name in ("n_samples", "size", "frames", "width", "layers", "steps"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, help=f"override the preset's {name}")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    parser.add_argument("--against-converged", action="store_true",
                        help="also run the sweep to convergence and compare held-out scores")
    parser.add_argument("--converged-layers", help="layers of that comparison, e.g. 1,6 or 0-3 (default: all)")
    parser.add_argument("--agree-blocks", type=int, default=3, help="blocks refitted with scikit-learn")
    parser.add_argument("--agree-targets", type=int, default=3, help="class targets refitted per block")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    claim_output(args, ["bench_probes.json"])

    import torch

    from interp.capture.spec import parse_int_list
    from interp.store import TraceStore
    from probes.sweep import SweepSettings, sweep
    from probes.targets import TARGETS

    cfg = dict(PRESETS[args.preset])
    cfg.update({k: getattr(args, k) for k in ("n_samples", "size", "frames", "width", "layers", "steps")
                if getattr(args, k) is not None})
    device = args.device or cfg.pop("device")
    cfg.pop("device", None)
    targets = cfg.pop("targets") or list(TARGETS)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "preset": args.preset,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                          "python": platform.python_version(), "torch": torch.__version__,
                          "device": device, "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None}}
    if args.trace:
        path = Path(args.trace)
        record["store"] = {"trace": recorded_path(path)}
    else:
        folder = Path(args.store_dir or tempfile.mkdtemp(prefix="bench_probes_"))
        path = folder / "planted.h5"
        started = time.perf_counter()
        write_store_fast(path, device="cuda" if device.startswith("cuda") else "cpu", **cfg)
        record["store"] = dict(cfg, write_seconds=round(time.perf_counter() - started, 1),
                               path=recorded_path(path))
    settings = SweepSettings(device=device)
    with TraceStore.open(path) as store:
        grid = store.token_grid("blocks.0.resid_post")
        record["store"].update(samples=len(store), tokens_per_sample=len(grid),
                               blocks=len(store.layers()) * len(store.steps()),
                               bytes=sum(p.stat().st_size for p in path.parent.rglob("*.h5")))
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        rows = sweep(store, targets, settings=settings)
        seconds = time.perf_counter() - started
        record["sweep"] = {"seconds": round(seconds, 2), "targets": targets, "probes_fitted": len(rows),
                           "blocks_per_second": round(record["store"]["blocks"] / seconds, 2),
                           "train_tokens_per_block": rows[0]["n_train_tokens"],
                           "mean_lbfgs_iterations": round(float(np.mean([r["n_iter"] for r in rows if r["n_iter"]])), 1)}
        print(json.dumps(record["sweep"]))
        (out / "bench_probes.json").write_text(json.dumps(record, indent=1) + "\n")  # kept if refits are cut short
        class_targets = [t for t in targets if t not in ("distance", "start", "goal")][:args.agree_targets]
        picks = informative_blocks(rows, class_targets, args.agree_blocks)
        agree = sklearn_agreement(store, rows, settings, class_targets, picks)
        if args.against_converged:
            layers = None if args.converged_layers is None else parse_int_list(args.converged_layers, "layer")
            record["against_converged"] = converged_gap(store, rows, targets, device, layers)
    record["sklearn_agreement"] = {"cells": agree,
                                   "max_abs_difference_points": max(abs(a["difference_points"]) for a in agree)}
    (out / "bench_probes.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({"sweep_seconds": record["sweep"]["seconds"],
                      "max_abs_difference_points": record["sklearn_agreement"]["max_abs_difference_points"],
                      **({"against_converged": record["against_converged"]} if args.against_converged else {})}))
    return 0


if __name__ == "__main__":
    from interp.results import script_main

    raise SystemExit(script_main(main))
