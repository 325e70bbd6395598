"""Seed ensemble vs self-consistency at equal compute, on the maze organism.

Per maze group (5x5, 7x7, 9x9, and 9x9 mazes whose shortest route has at least 12 moves), the
organism solves every maze from ``kmax`` seeds once (the base runs). Those runs give the
single-seed baseline (seed 0), self-consistency (majority vote of the first K seeds), best-of-K
(the scorer as verifier: an upper bound), the seeds' early x0_hat disagreement (AUROC for
predicting a failure, and an adaptive-compute policy), and the states x_t from which every merge
setting continues (a merge at step m shares the seeds' first m steps with the base runs). Merges
then run in priority order while the time budget lasts: (A) every operator x merge step at K=3
on a screening subset, (B) the best screened setting for every K on every group, (B') the
matched control of a merge of x_t at step 0 (one seed whose starting noise is scaled by
1/sqrt(K), which is what a mean of K standard normal draws is in distribution), (C) one seed
with K times the steps, (D) merge windows. What ran and what was skipped is recorded.

    python experiments/seed_ensemble.py --preset cpu
    python experiments/seed_ensemble.py --preset gpu --device cuda --out $OUT/seed_ensemble
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from interp.ensemble import OPERATORS, baseline_nfe, ensemble_nfe, ensemble_run  # noqa: E402
from interp.ensemble.adaptive import adaptive_curve, auroc, disagreement  # noqa: E402
from interp.ensemble.baselines import best_of_k, self_consistency  # noqa: E402
from interp.ensemble.stats import accuracy, mcnemar  # noqa: E402

PRESETS = {
    "cpu": dict(groups=[("5x5", 5, None, 4), ("long", 9, 13, 2)], kmax=3, ks=[2, 3], num_steps=8,
                screen_steps=[1, 3], screen_group="5x5", screen_n=4, window=(0, 1), more_steps_ks=[2],
                probe_steps=[1, 2], rows_5x5=64, budget_s=900, dtype="float32", colder_stds=[]),
    # groups in priority order: where one seed fails most first (5x5 is near 100% already)
    "gpu": dict(groups=[("9x9", 9, None, 300), ("long", 9, 13, 300), ("7x7", 7, None, 300), ("5x5", 5, None, 300)],
                kmax=8, ks=[3, 8, 5, 2], num_steps=20, screen_steps=[0, 2, 5, 10], screen_group="9x9",
                screen_n=100, window=(0, 3), more_steps_ks=[2, 3], probe_steps=[1, 2, 4], rows_5x5=1536,
                budget_s=480, dtype="bfloat16", colder_stds=[0.25, 0.125, 0.0]),
}
MAZE_SEED = {"5x5": 600_000, "7x7": 600_000, "9x9": 600_000, "long": 700_000}
CLAIM = ("Running one model from K seeds, merging their latents during the early steps and continuing as one "
         "trajectory raises accuracy (about +2 points reported on VBVR-Bench), and beats self-consistency at equal compute.")


def make_mazes(size, min_cells, count, first_seed, extra_openings):
    from interp.errors import InputError
    from interp.tasks import generate_maze

    mazes, seed = [], first_seed
    while len(mazes) < count:
        try:
            mazes.append(generate_maze(size, seed, extra_openings=extra_openings, min_route_cells=min_cells))
        except InputError:
            pass  # no start/goal pair that far apart in this maze
        seed += 1
    return mazes


def _score_one(job):
    from interp.tasks.render import PATH
    from interp.tasks.score import MIN_AGREEMENT, decode_labels, score_labels

    video, maze = job
    try:
        labels = decode_labels(video, maze)
        score = score_labels(labels, maze)
    except (ValueError, FloatingPointError):
        return False, None
    if score.first_frame_agreement < MIN_AGREEMENT:
        return False, None  # not this maze any more: a failed solve, no answer to vote for
    return bool(score.exact), np.packbits(labels[-1] == PATH).tobytes()


class Scorer:
    """Exact-solve and the drawn answer of many videos, on a process pool."""

    def __init__(self, workers):
        self.pool = ProcessPoolExecutor(workers) if workers > 1 else None

    def __call__(self, videos, mazes):
        jobs = list(zip(videos, mazes))
        out = list(self.pool.map(_score_one, jobs, chunksize=32)) if self.pool else [_score_one(j) for j in jobs]
        return np.array([o[0] for o in out], bool), [o[1] for o in out]


class Group:
    """One maze group: its mazes, base runs over kmax seeds, and the saved states to continue from."""

    def __init__(self, name, mazes, model, cfg, device):
        from interp.organism.evaluate import first_frames

        self.name, self.mazes, self.model, self.cfg = name, mazes, model, cfg
        self.kmax, self.n = cfg["kmax"], len(mazes)
        tokens = (2 * mazes[0].size + 1) ** 2
        self.chunk_rows = max(cfg["kmax"], int(cfg["rows_5x5"] * 121 / tokens))
        self.frames = first_frames(mazes, model.organism)

    def inputs(self, maze_ids, seeds_per_maze):
        frames = np.repeat(self.frames[maze_ids], seeds_per_maze, axis=0)
        seeds = [int(i) * 16 + s for i in maze_ids for s in range(seeds_per_maze)]
        return self.model.prepare(first_frame=frames, seeds=seeds)

    def chunks(self, k):
        per = max(1, self.chunk_rows // k)
        return [np.arange(lo, min(lo + per, self.n)) for lo in range(0, self.n, per)]


def run_base(group, scorer, keep_steps, probe_steps):
    """Every maze from kmax seeds: correctness and answers ``[n, kmax]``, saved x_t, x0 disagreement."""
    cfg, k = group.cfg, group.kmax
    from interp.sampling import sample

    saved = {s: [] for s in keep_steps}
    spread = {(s, kk): [] for s in probe_steps for kk in (2, 3)}
    videos = []
    for ids in group.chunks(k):
        inputs = group.inputs(ids, k)

        def on_step(state):
            if state.step in saved:
                saved[state.step].append(state.x_t.detach())
            for (s, kk), values in spread.items():
                if state.step == s:
                    rows = [i * k + j for i in range(len(ids)) for j in range(kk)]
                    values.append(disagreement(state.x0[rows], kk))

        videos.append(sample(group.model, inputs, num_steps=cfg["num_steps"], on_step=on_step, progress=False).video)
    correct, answers = scorer(np.concatenate(videos), [m for m in group.mazes for _ in range(k)])
    group.correct = correct.reshape(group.n, k)
    group.answers = [answers[i * k:(i + 1) * k] for i in range(group.n)]
    group.saved = {s: torch.cat(v) for s, v in saved.items()}
    group.spread = {key: np.concatenate(v) for key, v in spread.items()}


def run_merge(group, scorer, operator, k, steps, maze_ids=None):
    """Exact-solve per maze of one merge setting, continuing from the base runs' saved x_t."""
    cfg = group.cfg
    first = min(steps)
    maze_ids = np.arange(group.n) if maze_ids is None else maze_ids
    correct = []
    for lo in range(0, len(maze_ids), max(1, group.chunk_rows // k)):
        ids = maze_ids[lo:lo + max(1, group.chunk_rows // k)]
        rows = [int(i) * group.kmax + s for i in ids for s in range(k)]
        inputs = group.inputs(ids, k)
        inputs = inputs.take(range(len(rows)), latents=group.saved[first][rows])
        out = ensemble_run(group.model, inputs, k=k, operator=operator, steps=steps, num_steps=cfg["num_steps"],
                           start_step=first)
        correct.append(scorer(out.video, [group.mazes[i] for i in ids])[0])
    return np.concatenate(correct)


def run_more_steps(group, scorer, k):
    """Seed 0 of every maze with k times the steps."""
    from interp.sampling import sample

    correct = []
    for ids in group.chunks(1):
        video = sample(group.model, group.inputs(ids, 1), num_steps=k * group.cfg["num_steps"], progress=False).video
        correct.append(scorer(video, [group.mazes[i] for i in ids])[0])
    return np.concatenate(correct)


def run_cold_start(group, scorer, std):
    """Seed 0 of every maze, its starting noise scaled to ``std``; at 1/sqrt(K), the matched control of ``xt_mean`` at step 0.

    The mean of K independent standard normal draws is a normal draw of std 1/sqrt(K), so merging
    x_t at step 0 is, in distribution, one seed started colder; this run tells the two apart.
    """
    from interp.interventions import At, Intervention, Scale, run

    colder = [Intervention(At("x_t", steps=[0]), Scale(std))]
    correct = []
    for ids in group.chunks(1):
        out = run(group.model, group.inputs(ids, 1), colder, num_steps=group.cfg["num_steps"], progress=False)
        correct.append(scorer(out.video, [group.mazes[i] for i in ids])[0])
    return np.concatenate(correct)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="output folder (default: interp.results.result_folder)")
    parser.add_argument("--budget-s", type=float, default=None, help="seconds of merges before writing (default: the preset's)")
    parser.add_argument("--workers", type=int, default=1, help="processes scoring videos")
    parser.add_argument("--deadline", type=float, default=None, help="Unix time by which all runs must end")
    parser.add_argument("--from-raw", default=None, help="redo the summary from a raw.json.gz written by a run")
    args = parser.parse_args(argv)
    if args.out is None:
        from interp.results import result_folder

        args.out = str(ROOT / result_folder("seed_ensemble", args.preset))
    if args.from_raw:
        with gzip.open(args.from_raw, "rt") as f:
            raw = decode(json.load(f))
        args.device = raw["device"]
        Path(args.out).mkdir(parents=True, exist_ok=True)
        report_from_raw(raw, args, Path(args.out))
        return 0
    cfg = dict(PRESETS[args.preset])
    t0 = time.time()
    budget = args.budget_s or cfg["budget_s"]
    if args.deadline is not None:
        budget = min(budget, args.deadline - t0)
    from interp.models import load_model

    model = load_model("organism", device=args.device, dtype=getattr(torch, cfg["dtype"]))
    scorer = Scorer(args.workers)
    n_steps, kmax = cfg["num_steps"], cfg["kmax"]
    keep = sorted({*cfg["screen_steps"], cfg["window"][0]})
    groups, log = {}, []

    def elapsed():
        return time.time() - t0

    tokens_rate = None  # tokens x steps per second, from the first group's base runs
    for name, size, min_cells, count in cfg["groups"]:
        tokens = (2 * size + 1) ** 2 * count * kmax * n_steps
        if tokens_rate and elapsed() + tokens / tokens_rate > budget:
            log.append(f"base {name}: skipped (estimated {tokens / tokens_rate:.0f} s, {budget - elapsed():.0f} s left)")
            print(log[-1], flush=True)
            continue
        mazes = make_mazes(size, min_cells, count, MAZE_SEED[name], model.organism.config.extra_openings)
        group = groups[name] = Group(name, mazes, model, cfg, args.device)
        t = time.time()
        run_base(group, scorer, keep, cfg["probe_steps"])
        group.rate = group.n * kmax * n_steps / (time.time() - t)  # row-steps per second, scoring included
        tokens_rate = tokens_rate or tokens / (time.time() - t)
        log.append(f"base {name}: {group.n} mazes x {kmax} seeds x {n_steps} steps in {time.time() - t:.1f} s")
        print(log[-1], flush=True)

    merges, skipped = {}, []

    def affordable(group, row_steps, label):
        cost = row_steps / group.rate
        if elapsed() + cost > budget:
            skipped.append(f"{label} (estimated {cost:.0f} s, {budget - elapsed():.0f} s left)")
            return False
        return True

    # (A) screening: every operator x merge step at K=3 on a subset of one group
    screen = groups.get(cfg["screen_group"], next(iter(groups.values())))
    screen_ids = np.arange(min(cfg["screen_n"], screen.n))
    for step in cfg["screen_steps"]:
        for op in OPERATORS:
            label = f"screen {op} K=3 step {step}"
            if affordable(screen, len(screen_ids) * (3 * (step + 1) + n_steps - step - 1), label):
                merges[(screen.name, op, 3, str(step), "screen")] = run_merge(screen, scorer, op, 3, [step], screen_ids)
    screened = {key: float(v.mean()) for key, v in merges.items()}
    best_op, best_step = "x0_renoise", cfg["screen_steps"][1]
    if screened:
        (_, best_op, _, step_text, _), _ = max(screened.items(), key=lambda kv: (kv[1], -int(kv[0][3])))
        best_step = int(step_text)
    # (B) the best screened setting for every K on every group; then the other operators at K=3
    def merge_all(op, k, step):
        for group in groups.values():
            if affordable(group, group.n * (k + n_steps - step - 1), f"{group.name} {op} K={k} step {step}"):
                merges[(group.name, op, k, str(step), "all")] = run_merge(group, scorer, op, k, [step])

    for k in cfg["ks"]:
        merge_all(best_op, k, best_step)
    # (B') the matched control of a merge of x_t at step 0, largest K first: one seed at noise std 1/sqrt(K)
    for k in sorted(cfg["ks"], reverse=True):
        for group in groups.values():
            if affordable(group, group.n * n_steps, f"{group.name} cold start K={k}"):
                group.__dict__.setdefault("cold", {})[k] = run_cold_start(group, scorer, 1 / math.sqrt(k))
    # (B'') colder still: where does accuracy peak against the starting noise's std?
    for std in cfg["colder_stds"]:
        for group in groups.values():
            if affordable(group, group.n * n_steps, f"{group.name} start at noise std {std}"):
                group.__dict__.setdefault("colder", {})[std] = run_cold_start(group, scorer, std)
    for op in OPERATORS:
        if op != best_op:
            merge_all(op, 3, best_step)
    # (C) one seed with K times the steps, hardest groups first
    for k in cfg["more_steps_ks"]:
        for group in sorted(groups.values(), key=lambda g: g.correct[:, 0].mean()):
            if affordable(group, group.n * k * n_steps, f"{group.name} more steps x{k}"):
                group.__dict__.setdefault("more", {})[k] = run_more_steps(group, scorer, k)
    # (D) a merge window with the best operator
    lo, hi = cfg["window"]
    for group in groups.values():
        if affordable(group, group.n * (3 * (hi + 1) + n_steps - hi - 1), f"{group.name} {best_op} K=3 window {lo}-{hi}"):
            merges[(group.name, best_op, 3, f"{lo}-{hi}", "all")] = run_merge(group, scorer, best_op, 3, list(range(lo, hi + 1)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = {"groups": {name: {key: getattr(g, key) for key in ("n", "kmax", "correct", "answers", "spread")}
                      | {key: getattr(g, key, {}) for key in ("more", "cold", "colder")} for name, g in groups.items()},
           "merges": merges, "cfg": cfg, "best_op": best_op, "best_step": best_step, "screened": screened, "log": log,
           "skipped": skipped, "screen": {"group": screen.name, "n": int(len(screen_ids)), "k": 3},
           "seconds": elapsed(), "device": args.device}
    with gzip.open(out / "raw.json.gz", "wt") as f:  # every measurement, so the summary can be redone offline
        json.dump(encode(raw), f)
    report_from_raw(raw, args, out)
    return 0


def encode(obj):
    """Plain JSON for the raw measurements (tuple keys, arrays and bytes tagged), never a pickle."""
    if isinstance(obj, dict):
        return {"__items__": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, bytes):
        return {"__bytes__": obj.hex()}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def decode(obj):
    """The inverse of :func:`encode`."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__items__" in obj:
        return {decode(k): decode(v) for k, v in obj["__items__"]}
    if "__tuple__" in obj:
        return tuple(decode(v) for v in obj["__tuple__"])
    if "__array__" in obj:
        return np.asarray(obj["__array__"], dtype=obj["dtype"])
    if "__bytes__" in obj:
        return bytes.fromhex(obj["__bytes__"])
    return {k: decode(v) for k, v in obj.items()}


def report_from_raw(raw, args, out):
    """Summarise, plot and write result.json from the raw measurements."""
    from types import SimpleNamespace

    groups = {name: SimpleNamespace(**g) for name, g in raw["groups"].items()}
    cfg, screened = raw["cfg"], raw["screened"]
    report = summarise(groups, raw["merges"], cfg, raw["best_op"], raw["best_step"])
    report.update(screened={f"{k[1]} step {k[3]}": v for k, v in screened.items()}, log=raw["log"],
                  skipped=raw["skipped"], screen=raw["screen"])
    images = plot(report, groups, cfg, out)
    write(report, images, args, cfg, out, raw["seconds"])


def sc_at(group, nfe, n_steps):
    """Self-consistency with as many seeds as ``nfe`` affords (1 seed: the single-seed run)."""
    k = max(1, min(group.kmax, int(nfe // n_steps)))
    return k, (group.correct[:, 0] if k == 1 else self_consistency(group.correct, group.answers, k))


def summarise(groups, merges, cfg, best_op, best_step):
    n_steps = cfg["num_steps"]
    rows, figures = [], {}
    for name, group in groups.items():
        single = group.correct[:, 0]
        figures[f"{name}_single"] = {**accuracy(single), "nfe": n_steps}
        rows.append({"group": name, "method": "single seed", "k": 1, "nfe": n_steps, **accuracy(single)})
        for k in range(2, group.kmax + 1):
            sc, bok = self_consistency(group.correct, group.answers, k), best_of_k(group.correct, k)
            rows.append({"group": name, "method": "self-consistency", "k": k, "nfe": baseline_nfe("self_consistency", n_steps, k),
                         **accuracy(sc), "vs_single": mcnemar(sc, single)})
            rows.append({"group": name, "method": "best-of-K (verifier, upper bound)", "k": k,
                         "nfe": baseline_nfe("best_of_k", n_steps, k), **accuracy(bok)})
        for k, correct in getattr(group, "more", {}).items():
            rows.append({"group": name, "method": "more steps", "k": k, "nfe": baseline_nfe("more_steps", n_steps, k),
                         **accuracy(correct), "vs_single": mcnemar(correct, single)})
        for k, correct in getattr(group, "cold", {}).items():
            rows.append({"group": name, "method": "cold start", "k": k, "nfe": n_steps, "std": 1 / math.sqrt(k),
                         **accuracy(correct), "vs_single": mcnemar(correct, single)})
        for std, correct in getattr(group, "colder", {}).items():
            rows.append({"group": name, "method": "colder start", "nfe": n_steps, "std": std, **accuracy(correct),
                         "vs_single": mcnemar(correct, single)})
        failed = ~group.correct[:, 0]
        group.auroc = {f"step {s}, {kk} seeds": auroc(v, failed) for (s, kk), v in group.spread.items()}
        figures[f"{name}_auroc"] = {"value": group.auroc, "n": group.n}
    for (name, op, k, steps, scope), correct in merges.items():
        group = groups[name]
        last = int(steps.split("-")[-1])
        nfe = ensemble_nfe(n_steps, k, last)
        ids = np.arange(len(correct))
        k_sc, sc = sc_at(group, nfe, n_steps)
        rows.append({"group": name, "method": f"merge {op}", "k": k, "steps": steps, "scope": scope, "nfe": nfe,
                     **accuracy(correct), "vs_single": mcnemar(correct, group.correct[ids, 0]),
                     "vs_self_consistency": {"k": k_sc, **mcnemar(correct, sc[ids])}})
    # adaptive: probe 2 seeds to the probe step; escalate uncertain mazes to self-consistency of 5 seeds
    adaptive = {}
    probe = cfg["probe_steps"][1] if len(cfg["probe_steps"]) > 1 else cfg["probe_steps"][0]
    k_hi = min(5, cfg["kmax"])
    for name, group in groups.items():
        cheap_nfe = ensemble_nfe(n_steps, 2, probe)
        costly = self_consistency(group.correct, group.answers, k_hi)
        curve = adaptive_curve(group.spread[(probe, 2)], group.correct[:, 0], cheap_nfe, costly, k_hi * n_steps)
        adaptive[name] = [{k: v for k, v in c.items() if k != "correct"} | {"ci95": accuracy(c["correct"])["ci95"]}
                          for c in curve]
    # pooled over groups: the best setting against one seed and against self-consistency at equal compute
    verdict_rows = [r for r in rows if r["method"] == f"merge {best_op}" and r.get("scope") == "all"]
    pooled = {}
    for r in verdict_rows:
        key = (r["k"], r["steps"])
        pooled.setdefault(key, []).append(r)
    best = None
    for (k, steps), rs in pooled.items():
        if len(rs) != len(groups):
            continue
        merged = np.concatenate([merges[(r["group"], best_op, k, steps, "all")] for r in rs])
        single = np.concatenate([groups[r["group"]].correct[:, 0] for r in rs])
        nfe = rs[0]["nfe"]
        sc = np.concatenate([sc_at(groups[r["group"]], nfe, n_steps)[1] for r in rs])
        entry = {"operator": best_op, "k": k, "steps": steps, "nfe": nfe, "merge": accuracy(merged),
                 "single": accuracy(single), "vs_single": mcnemar(merged, single),
                 "self_consistency": {"k": sc_at(next(iter(groups.values())), nfe, n_steps)[0], **accuracy(sc)},
                 "vs_self_consistency": mcnemar(merged, sc)}
        colder = [getattr(groups[r["group"]], "cold", {}).get(k) for r in rs]
        if best_op == "xt_mean" and steps == "0" and all(c is not None for c in colder):
            colder = np.concatenate(colder)
            entry.update(cold_start=accuracy(colder), vs_cold_start=mcnemar(merged, colder))
        if best is None or entry["merge"]["value"] > best["merge"]["value"]:
            best = entry
    if best is None:
        verdict, why = "does not hold", "no merge setting ran on every group within the time budget"
    else:
        gain, p = best["vs_single"]["difference"], best["vs_single"]["p"]
        over_sc, p_sc = best["vs_self_consistency"]["difference"], best["vs_self_consistency"]["p"]
        beats_single = gain > 0 and p < 0.05
        beats_sc = over_sc > 0 and p_sc < 0.05
        # a merge of x_t at step 0 must also beat one seed started as cold (its matched control)
        control = best.get("vs_cold_start")
        beats_control = control is None or (control["difference"] > 0 and control["p"] < 0.05)
        verdict = ("holds" if beats_single and beats_sc and beats_control
                   else "partly" if beats_single else "does not hold")
        why = (f"Best setting {best_op} with K={best['k']} merged at step {best['steps']} ({best['nfe']} NFE per maze), "
               f"pooled over {len(groups)} groups (n={best['merge']['n']}): {100 * best['merge']['value']:.1f}% exact vs "
               f"{100 * best['single']['value']:.1f}% for one seed (McNemar p={p:.3g}) and "
               f"{100 * best['self_consistency']['value']:.1f}% for self-consistency of {best['self_consistency']['k']} "
               f"seeds at no more compute (p={p_sc:.3g}). Setting chosen on the screening mazes, which are part of the pool.")
        if control is not None:
            why += (f" Matched control, one seed started at noise std 1/sqrt({best['k']}) ({n_steps} NFE): "
                    f"{100 * best['cold_start']['value']:.1f}% (merge minus control {100 * control['difference']:+.1f} "
                    f"points, McNemar p={control['p']:.3g}): "
                    + ("merging beats the colder start." if beats_control else
                       "merging does not beat one seed started as cold: what it gains is a colder start, not a "
                       "combination of seeds."))
            figures["best_vs_cold_start_difference"] = {"value": control["difference"], "p_mcnemar": control["p"],
                                                        "n": best["merge"]["n"]}
            figures["cold_start"] = {**best["cold_start"], "std": 1 / math.sqrt(best["k"])}
        figures["best_merge"] = {**best["merge"], "setting": {k: best[k] for k in ("operator", "k", "steps", "nfe")}}
        figures["best_vs_single_difference"] = {"value": gain, "p_mcnemar": p, "n": best["merge"]["n"]}
        figures["best_vs_self_consistency_difference"] = {"value": over_sc, "p_mcnemar": p_sc, "n": best["merge"]["n"]}
    return {"verdict": verdict, "why": why, "figures": figures, "rows": rows, "adaptive": adaptive, "best": best,
            "best_operator": best_op, "best_step": best_step, "probe_step": probe}


def plot(report, groups, cfg, out):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(groups)
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.6), squeeze=False)
    colours = {"x0_renoise": "tab:red", "x0_median": "tab:purple", "x0_mean": "tab:orange", "xt_mean": "tab:brown"}
    for ax, name in zip(axes[0], names):
        rows = [r for r in report["rows"] if r["group"] == name]

        def line(method, **style):
            rs = sorted((r for r in rows if r["method"] == method), key=lambda r: r["nfe"])
            if rs:
                x, y = [r["nfe"] for r in rs], [100 * r["value"] for r in rs]
                err = [[100 * (r["value"] - r["ci95"][0]) for r in rs], [100 * (r["ci95"][1] - r["value"]) for r in rs]]
                ax.errorbar(x, y, yerr=err, capsize=2, **style)
        single = next(r for r in rows if r["method"] == "single seed")
        ax.errorbar([single["nfe"]], [100 * single["value"]], capsize=2, fmt="ks", label="single seed",
                    yerr=[[100 * (single["value"] - single["ci95"][0])], [100 * (single["ci95"][1] - single["value"])]])
        line("self-consistency", fmt="-o", color="tab:blue", label="self-consistency (vote of K)")
        line("best-of-K (verifier, upper bound)", fmt="--", color="tab:gray", label="best-of-K (verifier, upper bound)")
        line("more steps", fmt="-^", color="tab:green", label="one seed, K x steps")
        cold = [r for r in rows if r["method"] == "cold start"]
        if cold:
            ax.scatter([r["nfe"] for r in cold], [100 * r["value"] for r in cold], color="tab:olive", marker="v",
                       label="one seed, noise std 1/sqrt(K) (control)", zorder=3)
            for r in cold:
                ax.annotate(f"K={r['k']}", (r["nfe"], 100 * r["value"]), textcoords="offset points", xytext=(4, -3),
                            fontsize=6, color="tab:olive")
        for op, colour in colours.items():
            rs = [r for r in rows if r["method"] == f"merge {op}" and r.get("scope") == "all"]
            if rs:
                rs.sort(key=lambda r: r["nfe"])
                ax.scatter([r["nfe"] for r in rs], [100 * r["value"] for r in rs], color=colour, marker="D",
                           label=f"merge {op}", zorder=3)
        curve = report["adaptive"][name]
        ax.plot([c["mean_nfe"] for c in curve], [100 * c["accuracy"] for c in curve], ":x", color="tab:cyan",
                label=f"adaptive (2-seed probe, then vote of {min(5, cfg['kmax'])})")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("transformer forwards per maze (NFE, log scale)")
        ax.set_ylabel("exact-solve accuracy (%)")
        ax.set_title(f"{name} mazes (n={groups[name].n})")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"Seed ensemble vs baselines: accuracy against compute ({cfg['num_steps']} steps; 95% Wilson intervals)")
    fig.tight_layout()
    fig.savefig(out / "accuracy_vs_nfe.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    images = ["accuracy_vs_nfe.png"]
    starts = [r for r in report["rows"] if r["method"] in ("single seed", "cold start", "colder start")]
    if any(r["method"] != "single seed" for r in starts):
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for name, colour in zip(names, ("tab:red", "tab:purple", "tab:blue", "tab:green")):
            pts = sorted((r.get("std", 1.0), r) for r in starts if r["group"] == name)
            x = [std for std, _ in pts]
            y = [100 * r["value"] for _, r in pts]
            err = [[100 * (r["value"] - r["ci95"][0]) for _, r in pts], [100 * (r["ci95"][1] - r["value"]) for _, r in pts]]
            ax.errorbar(x, y, yerr=err, fmt="-o", capsize=2, color=colour, label=f"{name} (n={groups[name].n})")
        ax.set_xlabel("std of the starting noise x_T (1 = the sampler's; 1/sqrt(K) = a mean of K seeds)")
        ax.set_ylabel("exact-solve accuracy, one seed (%)")
        ax.set_title(f"One seed started colder ({cfg['num_steps']} steps; 95% Wilson intervals)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "start_temperature.png", dpi=120)
        plt.close(fig)
        images.append("start_temperature.png")
    screened = report["screened"] if "screened" in report else {}
    if screened:
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for op, colour in colours.items():
            pts = sorted((int(k.split("step ")[1]), 100 * v) for k, v in screened.items() if k.startswith(op + " "))
            if pts:
                ax.plot(*zip(*pts), "-o", color=colour, label=op)
        base = 100 * groups[report["screen"]["group"]].correct[:report["screen"]["n"], 0].mean()
        ax.axhline(base, color="k", ls="--", label="single seed")
        ax.set_xlabel("merge step (0 = first of the schedule)")
        ax.set_ylabel("exact-solve accuracy (%)")
        ax.set_title(f"Merge operator x step, K=3, {report['screen']['group']} (n={report['screen']['n']})")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "merge_step_screen.png", dpi=120)
        plt.close(fig)
        images.append("merge_step_screen.png")
    return images


def write(report, images, args, cfg, out, seconds):
    from interp.results import write_result

    extra = {k: report[k] for k in ("rows", "adaptive", "best", "screened", "screen", "log", "skipped", "probe_step")}
    extra["config"] = {k: v for k, v in cfg.items()}
    write_result(out, name="seed_ensemble", claim=CLAIM, verdict=report["verdict"], why=report["why"],
                 figures=report["figures"], preset=args.preset, images=images, device=args.device, seconds=seconds,
                 command="python experiments/seed_ensemble.py " + " ".join(sys.argv[1:]), extra=extra)
    json.loads((out / "result.json").read_text())  # fails loudly if anything was not JSON-safe
    print(json.dumps({k: report[k] for k in ("verdict", "why")}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
