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
with K times the steps, (D) merge windows. What ran and what was skipped is recorded; the summary,
verdict and figures come from :mod:`interp.ensemble.study` and :mod:`interp.ensemble.plots`.

On the walker the runs walk to the target of its default prompt, and a run is right when the walk
scorer calls it exact (route and walk, :func:`interp.tasks.walk_score.scorer_for`); its answer, for
the vote, is the last frame's trail with the agent. ``--groups``, ``--count``, ``--kmax``, ``--ks``
and ``--screen-n`` set the preset's groups, mazes per group, seeds and screening subset.

    python experiments/seed_ensemble.py --preset cpu
    python experiments/seed_ensemble.py --preset gpu --device cuda --out $OUT/seed_ensemble
    python experiments/seed_ensemble.py --preset gpu --model walker --device cuda --groups 5x5 7x7 --count 300 --kmax 3 --ks 3 --screen-n 100 --budget-s 400
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

from interp.ensemble import OPERATORS, ensemble_run
from interp.ensemble.adaptive import disagreement
from interp.ensemble.plots import study_figure_list
from interp.ensemble.study import report_from_raw
from interp.experiment import Experiment
from interp.results import script_main

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
         "trajectory raises accuracy (about +2 points reported on VBVR-Bench), and beats self-consistency at equal "
         "compute.")


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

    video, maze, scorer = job
    if scorer is not None:              # a walker: exact by the walk scorer; the answer, the trail and the agent
        from interp.organism.walk_frames import AGENT, PATH as TRAIL, decode_walk_labels

        try:
            last = decode_walk_labels(video[-1:], maze.units)[0]
        except (ValueError, FloatingPointError):
            return False, None
        return bool(scorer(video, maze).exact), np.packbits((last == TRAIL) | (last == AGENT)).tobytes()
    try:
        labels = decode_labels(video, maze)
        score = score_labels(labels, maze)
    except (ValueError, FloatingPointError):
        return False, None
    if score.first_frame_agreement < MIN_AGREEMENT:
        return False, None  # not this maze any more: a failed solve, no answer to vote for
    return bool(score.exact), np.packbits(labels[-1] == PATH).tobytes()


class Scorer:
    """Exact-solve and the drawn answer of many videos, on a process pool (``scorer``: how a walker's are read)."""

    def __init__(self, workers, scorer=None):
        self.pool = ProcessPoolExecutor(workers) if workers > 1 else None
        self.scorer = scorer

    def __call__(self, videos, mazes):
        jobs = [(v, m, self.scorer) for v, m in zip(videos, mazes)]
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
        self.more, self.cold, self.colder = {}, {}, {}  # {K: correct}, {K: correct}, {std: correct}
        self.cooled = {}  # {(K, step): correct}

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
    from interp.interventions import observe, run

    saved = {s: [] for s in keep_steps}
    spread = {(s, kk): [] for s in probe_steps for kk in (2, 3)}
    videos = []
    for ids in group.chunks(k):
        inputs = group.inputs(ids, k)
        kept = observe("x_t", steps=sorted(saved)) + observe("x0", steps=sorted(set(probe_steps)))
        out = run(group.model, inputs, kept, num_steps=cfg["num_steps"], progress=False)
        for s, values in saved.items():
            values.append(out.at("x_t", s))
        for (s, kk), values in spread.items():
            rows = [i * k + j for i in range(len(ids)) for j in range(kk)]
            values.append(disagreement(out.at("x0", s)[rows], kk))
        videos.append(out.video)
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
    from interp.interventions import run

    correct = []
    for ids in group.chunks(1):
        video = run(group.model, group.inputs(ids, 1), num_steps=k * group.cfg["num_steps"], progress=False).video
        correct.append(scorer(video, [group.mazes[i] for i in ids])[0])
    return np.concatenate(correct)


def run_cold_start(group, scorer, std):
    """Seed 0 of every maze, its starting noise scaled to ``std``; at 1/sqrt(K), the matched control of ``xt_mean``
    at step 0.

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


def run_cooled(group, scorer, k, step):
    """Seed 0 of every maze, the noise part of its state entering ``step`` scaled by 1/sqrt(K)
    (:class:`~interp.interventions.Cool` at ``x0`` of ``step - 1``): the matched control of ``xt_mean``
    at ``step`` > 0, as the cold start is at step 0."""
    from interp.interventions import At, Cool, Intervention, run
    from interp.sampling import schedule

    correct = []
    for ids in group.chunks(1):
        inputs = group.inputs(ids, 1)
        sigmas = schedule(group.model, group.cfg["num_steps"], None, inputs)[2].detach().cpu().double().tolist()
        cool = [Intervention(At("x0", steps=[step - 1]), Cool(1 / math.sqrt(k), sigmas[step - 1], sigmas[step]))]
        out = run(group.model, inputs, cool, num_steps=group.cfg["num_steps"], progress=False)
        correct.append(scorer(out.video, [group.mazes[i] for i in ids])[0])
    return np.concatenate(correct)


def add_options(parser):
    parser.add_argument("--budget-s", type=float, default=None,
                        help="seconds of merges before writing (default: the preset's)")
    parser.add_argument("--workers", type=int, default=1, help="processes scoring videos")
    parser.add_argument("--deadline", type=float, default=None, help="Unix time by which all runs must end")
    parser.add_argument("--groups", dest="group_names", nargs="+", default=None, choices=sorted(MAZE_SEED),
                        help="maze groups to run, in this order of priority; the screening runs on the first unless "
                        "the preset's screening group is among them (default: the preset's)")
    parser.add_argument("--count", type=int, default=None, help="mazes per group (default: the preset's)")
    parser.add_argument("--kmax", type=int, default=None, help="seeds per maze of the base runs (default: the preset's)")
    parser.add_argument("--ks", type=int, nargs="+", default=None, help="merge sizes K (default: the preset's)")
    parser.add_argument("--screen-n", type=int, default=None, help="mazes of the screening subset (default: the preset's)")


def configured(args) -> dict:
    """The preset's settings with those given on the command line in their place (groups, count, kmax, ks, screen_n)."""
    from interp.errors import InputError

    cfg = dict(PRESETS[args.preset])
    groups = cfg["groups"]
    if args.group_names is not None:
        known = {g[0]: g for g in PRESETS["gpu"]["groups"]} | {g[0]: g for g in cfg["groups"]}
        groups = [known[name] for name in dict.fromkeys(args.group_names)]
    if args.count is not None:
        groups = [(name, size, cells, args.count) for name, size, cells, _ in groups]
    cfg.update(groups=groups, kmax=args.kmax, ks=args.ks, screen_n=args.screen_n)
    if cfg["kmax"] < 3 or not all(2 <= k <= cfg["kmax"] for k in cfg["ks"]):
        raise InputError(f"--kmax {cfg['kmax']} must be at least 3 (the screening merges 3 seeds) and --ks "
                         f"{cfg['ks']} lie in 2..kmax")
    return cfg


def measure(args) -> dict:
    """Base runs, then merges in priority order while the budget lasts: the raw measurements."""
    args.device = args.device or "cpu"
    cfg = configured(args)
    t0 = time.time()
    budget = args.budget_s or cfg["budget_s"]
    if args.deadline is not None:
        budget = min(budget, args.deadline - t0)
    from interp.models import load_model

    from interp.tasks.walk_score import scorer_for

    model = load_model(args.model, device=args.device, dtype=getattr(torch, cfg["dtype"]))
    scorer = Scorer(args.workers, scorer_for(model))
    if scorer.scorer is not None:
        cfg["prompt"] = scorer.scorer.prompt
    n_steps, kmax = cfg["num_steps"], cfg["kmax"]
    keep = sorted({*cfg["screen_steps"], cfg["window"][0]})
    groups, log = {}, []

    def elapsed():
        return time.time() - t0

    tokens_rate = None  # tokens x steps per second, from the first group's base runs
    for name, size, min_cells, count in cfg["groups"]:
        tokens = (2 * size + 1) ** 2 * count * kmax * n_steps
        if tokens_rate and elapsed() + tokens / tokens_rate > budget:
            log.append(f"base {name}: skipped (estimated {tokens / tokens_rate:.0f} s, "
                       f"{budget - elapsed():.0f} s left)")
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
                group.cold[k] = run_cold_start(group, scorer, 1 / math.sqrt(k))
    # (B'+) the matched control of a merge of x_t after step 0: one seed whose state entering the step has
    # its noise part shrunk by 1/sqrt(K)
    if best_op == "xt_mean" and best_step > 0:
        for k in sorted(cfg["ks"], reverse=True):
            for group in groups.values():
                if affordable(group, group.n * n_steps, f"{group.name} cooled at step {best_step} K={k}"):
                    group.cooled[(k, best_step)] = run_cooled(group, scorer, k, best_step)
    # (B'') colder still: where does accuracy peak against the starting noise's std?
    for std in cfg["colder_stds"]:
        for group in groups.values():
            if affordable(group, group.n * n_steps, f"{group.name} start at noise std {std}"):
                group.colder[std] = run_cold_start(group, scorer, std)
    for op in OPERATORS:
        if op != best_op:
            merge_all(op, 3, best_step)
    # (C) one seed with K times the steps, hardest groups first
    for k in cfg["more_steps_ks"]:
        for group in sorted(groups.values(), key=lambda g: g.correct[:, 0].mean()):
            if affordable(group, group.n * k * n_steps, f"{group.name} more steps x{k}"):
                group.more[k] = run_more_steps(group, scorer, k)
    # (D) a merge window with the best operator
    lo, hi = cfg["window"]
    for group in groups.values():
        label = f"{group.name} {best_op} K=3 window {lo}-{hi}"
        if affordable(group, group.n * (3 * (hi + 1) + n_steps - hi - 1), label):
            merges[(group.name, best_op, 3, f"{lo}-{hi}", "all")] = run_merge(group, scorer, best_op, 3,
                                                                              list(range(lo, hi + 1)))
    kept = ("n", "kmax", "correct", "answers", "spread", "more", "cold", "colder", "cooled")
    raw = {"groups": {name: {key: getattr(g, key) for key in kept} for name, g in groups.items()},
           "merges": merges, "cfg": cfg, "best_op": best_op, "best_step": best_step, "screened": screened, "log": log,
           "skipped": skipped, "screen": {"group": screen.name, "n": int(len(screen_ids)), "k": 3},
           "seconds": elapsed(), "device": args.device}
    return raw


def summarise(raw, args) -> dict:
    """The record from the raw measurements: the study's summary (:mod:`interp.ensemble.study`)."""
    report = report_from_raw(raw)
    return {"figures": report["figures"], "device": raw["device"], "dtype": raw["cfg"].get("dtype"),
            "seconds": raw["seconds"],
            "reading": report["why"] + " Against its matched control only: " + report["matched_verdict"]["why"] + ".",
            **{k: report[k] for k in ("matched_verdict", "rows", "adaptive", "best", "screened", "screen", "log",
                                      "skipped", "probe_step")},
            "config": dict(raw["cfg"])}


def figures(record, args, out, raw):
    return study_figure_list(record, raw["groups"], raw["cfg"], out)


def main(argv=None) -> int:
    return Experiment("seed_ensemble", CLAIM, PRESETS, measure, figures, options=add_options,
                      description=__doc__.splitlines()[0], raw="raw.json.gz", summarise=summarise).main(argv)


if __name__ == "__main__":
    sys.exit(script_main(main))
