"""Results beside the trace, reduced for the viewer: a patching grid, a probe sweep, CoS metrics.

Each reader takes what the matching command wrote (``cos patch --out DIR``, ``cos probe --out DIR``,
``cos cos-metrics --out DIR``) and returns a JSON-able dict the page draws as heatmaps and curves.
:func:`cos_from_store` computes the Chain-of-Steps metrics itself when the store holds pixel x0_hat
of maze tasks, which is cheap (no model runs).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from interp.errors import InputError
from interp.viewer.precompute import finite

#: per-pair values are kept for the cell panel up to this many pairs (the page draws one bar each)
MAX_PAIRS = 512
PATCH_LABELS = {
    "preference": "restored route preference (0 = corrupted run, 1 = clean run)",
    "flip": "share of pairs whose answer flips to the clean route",
}


def patching(folder: str | Path, out: Path) -> dict:
    """A ``cos patch`` folder (``grid.json`` + ``grid.npz``) as layer x step matrices per region and
    metric, with each cell's per-pair values; ``patch_effects.png`` is copied when present."""
    from interp.interventions.patching import PatchGrid

    folder = Path(folder)
    if not (folder / "grid.json").is_file() or not (folder / "grid.npz").is_file():
        raise InputError(f"--patch {str(folder)!r} holds no patching grid (grid.json and grid.npz, written by cos patch)")
    grid = PatchGrid.load(folder)
    pairs = len(grid.coords["pair"])
    metrics = {}
    for name in grid.values:
        if name == "flip":
            matrix, unit = grid.values[name].mean(axis=-1), "share of pairs"
            per_pair = grid.values[name]
        else:
            matrix, unit = grid.normalised(name), "normalised effect"
            low = grid.corrupt[name].mean(axis=-1)[None, None, :, None]
            high = grid.clean[name].mean(axis=-1)[None, None, :, None]
            gap = np.where(np.abs(high - low) < 1e-6, np.nan, high - low)
            per_pair = (grid.values[name] - low) / gap  # each pair on the grid's own 0..1 scale
        metrics[name] = {"label": PATCH_LABELS.get(name, name), "unit": unit, "matrix": finite(matrix),
                         "pairs": finite(per_pair[..., :MAX_PAIRS]), "range": [0, 1] if name == "flip" else [-1, 1]}
    effects = folder / "patch_effects.png"
    if effects.is_file():
        shutil.copyfile(effects, out / "patch_effects.png")
    return {"source": str(folder), "regions": list(grid.coords["region"]), "layers": list(grid.coords["layer"]),
            "steps": list(grid.coords["step"]), "n_pairs": pairs, "pairs_shown": min(pairs, MAX_PAIRS),
            "site": grid.meta.get("site", "resid_post"), "read_at": grid.meta.get("read_at", "final"),
            "metrics": metrics, "effects_png": "patch_effects.png" if effects.is_file() else None}


def probes(folder: str | Path) -> dict:
    """A ``cos probe`` folder (``probes.json``) as layer x step matrices per (branch, target): the
    held-out score, each control's score and the selectivity."""
    from probes.report import n_label, sample_counts
    from probes.sweep import load_table

    rows = load_table(folder)
    if not rows:
        raise InputError(f"--probes {str(folder)!r}: the probe table is empty")
    panels = {}
    for branch in sorted({r["branch"] for r in rows}):
        for target in dict.fromkeys(r["target"] for r in rows if r["branch"] == branch):
            mine = [r for r in rows if r["branch"] == branch and r["target"] == target]
            layers = sorted({int(r["layer"]) for r in mine})
            steps = sorted({int(r["step"]) for r in mine})
            columns = {}
            for key in ("score", "control_shuffle", "control_random", "selectivity_shuffle", "selectivity"):
                values = np.full((len(layers), len(steps)), np.nan)
                for r in mine:
                    values[layers.index(int(r["layer"])), steps.index(int(r["step"]))] = _num(r.get(key))
                if np.isfinite(values).any():
                    columns[key] = finite(values)
            panels[f"{branch}/{target}"] = {"branch": branch, "target": target, "metric": mine[0].get("metric", "score"),
                                            "family": mine[0].get("family"), "layers": layers, "steps": steps,
                                            "values": columns}
    return {"source": str(folder), "n": n_label(sample_counts(rows)), "panels": panels}


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


COS_KEYS = ("steps", "candidates", "candidates_capped", "shortest_shown", "side_branches", "wrong", "answer_correct",
            "scaffold_correct", "commitment_step", "perception_step", "action_step", "final_correct",
            "self_corrected", "threshold")


def cos_from_file(path: str | Path) -> dict:
    """Per-sample Chain-of-Steps metrics from a ``cos cos-metrics`` ``metrics.json`` (or its folder)."""
    path = Path(path)
    path = path / "metrics.json" if path.is_dir() else path
    try:
        samples = json.loads(path.read_text())["samples"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"--cos {str(path)!r} is not a metrics.json written by cos cos-metrics ({err})") from None
    return {sid: {k: s.get(k) for k in COS_KEYS} for sid, s in samples.items()}


def cos_from_store(store, sample_id: str) -> dict | None:
    """The sample's Chain-of-Steps metrics computed from its pixel x0_hat, or None when the store
    cannot give them (latent x0, no x0, or no maze in the task metadata)."""
    from interp.metrics.cos import cos_metrics, model_space_to_uint8
    from interp.tasks.maze import Maze
    from interp.viz.steps_grid import x0_from_store

    task = store.meta(sample_id).get("task")
    if not isinstance(task, dict) or not isinstance(task.get("maze"), dict):
        return None
    x0, steps, _ = x0_from_store(store, sample_id)
    if x0.shape[1] != 3:
        return None
    frames = model_space_to_uint8(x0.transpose(0, 2, 3, 4, 1))
    result = cos_metrics(frames, Maze.from_dict(task["maze"]), palette=str(task.get("palette", "default")), steps=steps)
    record = result.to_dict()
    return {k: record.get(k) for k in COS_KEYS}
