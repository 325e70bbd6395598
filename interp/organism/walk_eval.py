"""Held-out accuracy of the walker: exact route and exact walk, per size, prompt, guidance and expert.

Each held-out maze (:func:`interp.organism.walk_data.heldout_walks`) is walked once from one noise
seed per prompt; the video is scored by :func:`interp.tasks.walk_score.score_walk`. A row gives
exact (route and walk), exact route, exact walk with 95% Wilson intervals, and the same on the
mazes whose route to the prompt's target has at least ``long_moves`` cell-to-cell moves.

Run::

    python -m interp.organism.walk_eval --model data/organisms/maze-walk-tiny --count 20 --out eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from interp.organism.evaluate import wilson_interval

LONG_MOVES = 12


def first_frames(walks, px_per_unit: int) -> np.ndarray:
    from interp.tasks.walk import first_frame_labels, render_walk

    return np.stack([render_walk(first_frame_labels(w), px_per_unit) for w in walks])


def solve(model, walks, *, prompt: str, guidance_scale: float, num_steps: int = 20, sample_seed: int = 0,
          batch: int = 300) -> np.ndarray:
    """Videos uint8 ``[N, F, H, W, 3]``; maze ``i`` uses noise seed ``sample_seed + i``."""
    from interp.models.walker import sample_walker

    px = model.organism.config.px_per_unit
    videos = []
    for lo in range(0, len(walks), batch):
        chunk = walks[lo:lo + batch]
        result = sample_walker(model, first_frames(chunk, px), prompt=prompt, guidance_scale=guidance_scale,
                               num_steps=num_steps, seed=[sample_seed + lo + i for i in range(len(chunk))])
        videos.append(result.video)
    return np.concatenate(videos)


def _score(job):
    from interp.tasks.walk_score import score_walk

    video, walk, target = job
    s = score_walk(video, walk, target)
    return s.exact, s.exact_route, s.walk_ok


def share(flags) -> dict:
    flags = [bool(f) for f in flags]
    k, n = sum(flags), len(flags)
    lo, hi = wilson_interval(k, n)
    return {"k": k, "n": n, "rate": round(k / n, 4) if n else None, "ci95": [round(lo, 4), round(hi, 4)]}


def score_rows(videos, walks, prompt: str, pool=None) -> dict:
    jobs = list(zip(videos, walks, [prompt] * len(walks)))
    results = list(pool.map(_score, jobs, chunksize=16)) if pool is not None else [_score(j) for j in jobs]
    exact, route, walk_ok = (list(x) for x in zip(*results))
    long = [w.moves(prompt) >= LONG_MOVES for w in walks]
    return {"exact": share(exact), "exact_route": share(route), "exact_walk": share(walk_ok),
            "long_exact": share([e for e, L in zip(exact, long) if L]),
            "failed_seeds": [w.seed for w, e in zip(walks, exact) if not e][:40],
            "_exact_flags": exact, "_long_flags": long}


def evaluate(walker, *, sizes=(5, 7, 9), count: int = 300, first_seed: int = 0, prompts=("goal", "key"),
             scales=(2.0,), experts=("both", "transformer", "transformer_2"), num_steps: int = 20, batch: int = 300,
             out=None, pool=None, deadline: float | None = None) -> dict:
    """Evaluate every (expert set, guidance scale, size, prompt); rows are written to ``out`` as they come."""
    from interp.models.walker import WalkerModel
    from interp.organism.walk_data import heldout_walks

    rows = []
    mazes = {s: heldout_walks(s, count, first_seed=first_seed, extra_openings=walker.config.extra_openings)
             for s in sizes}
    for which in experts:
        model = WalkerModel(walker, experts=None if which == "both" else (which,))
        for scale in scales:
            for size in sizes:
                for prompt in prompts:
                    if deadline is not None and time.time() > deadline:
                        return _finish(rows, out, truncated=True)
                    t0 = time.time()
                    videos = solve(model, mazes[size], prompt=prompt, guidance_scale=scale, num_steps=num_steps,
                                   batch=batch)
                    row = {"experts": which, "guidance_scale": scale, "size": size, "prompt": prompt,
                           "steps": num_steps, "first_seed": first_seed,
                           **score_rows(videos, mazes[size], prompt, pool), "seconds": round(time.time() - t0, 1)}
                    rows.append(row)
                    print(f"{which} g={scale} {size}x{size} {prompt}: exact {row['exact']['rate']} "
                          f"route {row['exact_route']['rate']} walk {row['exact_walk']['rate']}", flush=True)
                    _finish(rows, out)
    return _finish(rows, out)


def _finish(rows, out, truncated: bool = False) -> dict:
    result = {"rows": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows], "truncated": truncated}
    # long routes pooled over sizes, per (experts, scale, prompt)
    pooled = {}
    for r in rows:
        key = f"{r['experts']}|{r['guidance_scale']}|{r['prompt']}"
        pooled.setdefault(key, []).extend(e for e, L in zip(r["_exact_flags"], r["_long_flags"]) if L)
    result["long_routes_pooled"] = {k: share(v) for k, v in pooled.items()}
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def pct(share_: dict) -> str:
    lo, hi = share_["ci95"]
    return f"{100 * share_['rate']:.1f}% ({100 * lo:.0f}-{100 * hi:.0f})" if share_["n"] else "-"


def markdown(rows) -> str:
    """One line per (experts, guidance, size, prompt): exact, route, long routes, with 95% Wilson intervals."""
    head = ("| experts | guidance | size | prompt | n | exact (route and walk) | exact route | "
            f"long routes (>= {LONG_MOVES} moves): n, exact |")
    lines = [head, "|" + "---|" * 8]
    order = {"both": 0, "transformer": 1, "transformer_2": 2}
    for r in sorted(rows, key=lambda r: (order.get(r["experts"], 3), r["guidance_scale"], r["size"], r["prompt"])):
        lines.append(f"| {r['experts']} | {r['guidance_scale']:g} | {r['size']}x{r['size']} | {r['prompt']} | "
                     f"{r['exact']['n']} | {pct(r['exact'])} | {pct(r['exact_route'])} | "
                     f"{r['long_exact']['n']}, {pct(r['long_exact'])} |")
    return "\n".join(lines)


def merge(files, out=None) -> dict:
    """Rows of several evaluation files in one, with long routes pooled over sizes recomputed."""
    rows = []
    for f in files:
        rows.extend(json.loads(Path(f).read_text())["rows"])
    pooled = {}
    for r in rows:
        key = f"{r['experts']}|{r['guidance_scale']}|{r['prompt']}"
        k, n = pooled.get(key, (0, 0))
        pooled[key] = (k + r["long_exact"]["k"], n + r["long_exact"]["n"])
    result = {"sources": [str(f) for f in files], "rows": rows,
              "long_routes_pooled": {k: share([True] * a + [False] * (b - a)) for k, (a, b) in pooled.items()}}
    if out is not None:
        Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv=None) -> int:
    from interp.organism.walk_model import WalkOrganism

    parser = argparse.ArgumentParser(description="held-out accuracy of the walker")
    parser.add_argument("--model", default=None, help="walker folder (default: the shipped one)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 7, 9])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--scales", type=float, nargs="+", default=None)
    parser.add_argument("--experts", nargs="+", default=["both", "transformer", "transformer_2"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--merge", nargs="+", default=None,
                        help="no evaluation: merge these evaluation files into --out and print the Markdown table")
    args = parser.parse_args(argv)
    if args.merge:
        result = merge(args.merge, args.out)
        print(markdown(result["rows"]))
        for key, value in result["long_routes_pooled"].items():
            print(f"long routes pooled over sizes, {key}: {pct(value)} of {value['n']}")
        return 0
    walker = WalkOrganism.from_pretrained(args.model, device=args.device)
    scales = args.scales or [walker.config.guidance_scale]
    with torch.no_grad():
        evaluate(walker, sizes=args.sizes, count=args.count, first_seed=args.first_seed, scales=scales,
                 experts=args.experts, num_steps=args.steps, batch=args.batch, out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
