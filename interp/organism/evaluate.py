"""Exact-solve accuracy of the organism on held-out mazes, by maze size and step count.

Held-out mazes are ``generate_maze(size, seed)`` for ``seed`` in ``first_seed ..
first_seed + count - 1`` (inside ``0 .. EVAL_SEED_LIMIT - 1``; training never uses these seeds).
Each maze is solved once from one noise seed with :func:`interp.models.maze_organism.sample_organism`, and
the video is scored by :func:`interp.tasks.score.score_output` (``exact``: the final frame's path
units plus start and goal equal one of the shortest routes).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from interp.errors import InputError, check_range
from interp.organism.data import heldout_mazes
from interp.organism.model import DEFAULT_ORGANISM, MazeOrganism
from interp.paths import stated_path


def load(model, device: str = "cpu") -> MazeOrganism:
    """An organism from a folder, an instance, or ``None`` (the shipped one)."""
    if isinstance(model, MazeOrganism):
        return model.to(device).eval()
    from interp.models.loading import load_organism

    return load_organism(model or DEFAULT_ORGANISM, device=device)


def first_frames(mazes, organism: MazeOrganism) -> np.ndarray:
    """uint8 ``[B, H, W, 3]``: the bare mazes rendered as the organism was trained to see them."""
    from interp.tasks import render_maze

    cfg = organism.config
    return np.stack([render_maze(m, upto=0, palette=cfg.palette, px_per_unit=cfg.px_per_unit) for m in mazes])


def solve(organism: MazeOrganism, mazes, *, num_steps: int, sample_seed: int = 0, batch: int = 64,
          x0: bool = False):
    """Generated videos uint8 ``[N, F, H, W, 3]``; maze ``i`` uses noise seed ``sample_seed + i``.

    With ``x0``, also every step's clean-video estimate, ``[S, N, 3, F, H, W]`` on the CPU
    (mazes of one size), as ``(videos, x0)``.
    """
    from interp.interventions import observe, run
    from interp.models.maze_organism import OrganismModel

    model = OrganismModel(organism)
    videos, x0s = [], []
    for lo in range(0, len(mazes), batch):
        chunk = mazes[lo:lo + batch]
        inputs = model.prepare(first_frame=first_frames(chunk, organism),
                               seeds=[sample_seed + lo + i for i in range(len(chunk))])
        out = run(model, inputs, observe("x0") if x0 else [], num_steps=num_steps, progress=False)
        videos.append(out.video)
        if x0:
            x0s.append(out.trajectory("x0").cpu())
    if x0:
        return np.concatenate(videos), torch.cat(x0s, dim=1)
    return np.concatenate(videos)


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion ``k / n``."""
    from interp.stats import wilson

    return (math.nan, math.nan) if n == 0 else wilson(k, n, z)


def evaluate(model=None, *, sizes=(5, 7, 9), count: int = 20, first_seed: int = 0, step_counts=(20, 50),
             sample_seed: int = 0, batch: int = 64, device: str = "cpu", out=None) -> dict:
    """Score the organism on held-out mazes; returns (and writes, if ``out``) a JSON-safe dict.

    Example:
        >>> r = evaluate(sizes=[5], count=2, step_counts=[4])   # doctest: +SKIP
        >>> r["rows"][0]["exact"]                                # doctest: +SKIP
    """
    from interp.tasks.score import score_output

    for s in sizes:
        check_range("maze size", s, 4, 12)
    for n in step_counts:
        check_range("num_steps", n, 1, 1000)
    check_range("count", count, 1, 100_000)
    check_range("batch", batch, 1, 4096)
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} exists and is not a folder")
    organism = load(model, device)
    rows = []
    for size in sizes:
        mazes = heldout_mazes(size, count, first_seed=first_seed, extra_openings=organism.config.extra_openings)
        for num_steps in step_counts:
            t0 = time.time()
            videos = solve(organism, mazes, num_steps=num_steps, sample_seed=sample_seed, batch=batch)
            seconds = time.time() - t0
            # a model's video that cannot be scored is a failed solve, recorded with its reason
            scores = [score_output(v, m, palette=organism.config.palette) for v, m in
                      tqdm(zip(videos, mazes), total=len(mazes), desc=f"scoring {size}x{size}", leave=False)]
            k = sum(bool(s.exact) for s in scores)
            lo, hi = wilson_interval(k, len(scores))
            rows.append({
                "size": size, "steps": num_steps, "n": len(scores), "exact": k / len(scores),
                "exact_ci95": [round(lo, 4), round(hi, 4)],
                "valid_route": float(np.mean([bool(s.valid_route) for s in scores])),
                "vbvr_score": float(np.mean([s.vbvr_score for s in scores])),
                "seconds": round(seconds, 1),
                "failed_seeds": [m.seed for m, s in zip(mazes, scores) if not s.exact][:50],
                "unscorable": {str(m.seed): s.failure for m, s in zip(mazes, scores) if s.failure},
            })
    result = {"model": stated_path(model or DEFAULT_ORGANISM), "first_seed": first_seed, "count": count,
              "sample_seed": sample_seed, "device": device, "torch_threads": torch.get_num_threads(), "rows": rows}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def markdown_table(result: dict) -> str:
    """The accuracy table as Markdown (rows: maze size; columns: step counts)."""
    steps = sorted({r["steps"] for r in result["rows"]})
    sizes = sorted({r["size"] for r in result["rows"]})
    head = "| maze size | n | " + " | ".join(f"exact @ {s} steps (95% CI)" for s in steps) + " |"
    lines = [head, "|" + "---|" * (2 + len(steps))]
    for size in sizes:
        cells = []
        n = 0
        for s in steps:
            r = next((r for r in result["rows"] if r["size"] == size and r["steps"] == s), None)
            if r is None:
                cells.append("-")
                continue
            n = r["n"]
            cells.append(f"{100 * r['exact']:.1f}% ({100 * r['exact_ci95'][0]:.0f}-{100 * r['exact_ci95'][1]:.0f})")
        lines.append(f"| {size}x{size} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_table(result: dict, out) -> str:
    """Write ``eval.md`` beside ``eval.json``; returns the table."""
    table = markdown_table(result)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.md").write_text(table + "\n")
    return table
