"""The Chain-of-Steps signature of the organism: route colour spreads, then commits.

At every denoising step we read the clean-video estimate ``x0_hat = x_t - sigma v`` of the
**final frame** and give each floor unit (not wall, start or goal) a *route-colour affinity*

    a(u) = clip(<c(u) - floor, path - floor> / |path - floor|^2, 0, 1),

with ``c(u)`` the unit's mean RGB in ``x0_hat`` and ``floor``, ``path`` the palette colours
(0 = floor, 1 = route colour). The model's *final route* is the set of units its finished video
paints as path. Per step we report, averaged over held-out mazes:

* ``off_route_fraction``: share of the total affinity lying outside the final route;
* ``mean_affinity_final``: mean affinity of final-route units;
* ``mean_affinity_alternative``: mean affinity of units on another shortest route but not on the
  final one (mazes with several shortest routes only);
* ``mean_affinity_other``: mean affinity of the remaining floor units (dead ends, detours).

Chain-of-Steps predicts early steps with route colour on alternatives as well as on the final
route, falling later once one route is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from interp.errors import InputError, check_range
from interp.organism.data import EVAL_SEED_LIMIT
from interp.organism.evaluate import load, solve
from interp.paths import stated_path
from interp.viz.figure import finish, pyplot


def unit_colours(x0_frame: torch.Tensor, px: int) -> np.ndarray:
    """``[B, 3, H, W]`` in [-1, 1] -> mean RGB per grid unit in 0..255, ``[B, U, U, 3]``."""
    pooled = torch.nn.functional.avg_pool2d(x0_frame.float(), px)
    return ((pooled.clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).cpu().numpy()


def affinity(colours: np.ndarray, floor, path) -> np.ndarray:
    """Route-colour affinity in [0, 1] of each colour (last axis RGB)."""
    floor = np.asarray(floor, float)
    d = np.asarray(path, float) - floor
    return np.clip(((colours - floor) @ d) / (d @ d), 0.0, 1.0)


def multi_route_mazes(size: int, count: int, extra_openings: float, first_seed: int = 0, max_scan: int = 20_000):
    """The first ``count`` held-out mazes of ``size`` with two or more shortest routes."""
    from interp.tasks import generate_maze

    found = []
    for seed in range(first_seed, min(EVAL_SEED_LIMIT, first_seed + max_scan)):
        maze = generate_maze(size, seed, extra_openings=extra_openings)
        if len(maze.routes) >= 2:
            found.append(maze)
            if len(found) == count:
                return found
    raise InputError(f"only {len(found)} mazes of size {size} with several routes among {max_scan} seeds")


def cos_curve(model=None, *, sizes=(7,), count: int = 50, num_steps: int = 20, sample_seed: int = 0,
              batch: int = 64, device: str = "cpu", out=None) -> dict:
    """Compute the curves over held-out multi-route mazes; writes ``cos_curve.json``/``.png`` to ``out``."""
    from interp.tasks import PATH, label_grid
    from interp.tasks.score import decode_labels, score_output

    for s in sizes:
        check_range("maze size", s, 4, 12)
    check_range("count", count, 1, 10_000)
    check_range("num_steps", num_steps, 2, 1000)
    organism = load(model, device)
    cfg = organism.config
    floor, path = cfg.palette_colors["floor"], cfg.palette_colors["path"]
    per_size = {}
    example = None
    for size in sizes:
        mazes = multi_route_mazes(size, count, cfg.extra_openings)
        videos, x0 = solve(organism, mazes, num_steps=num_steps, sample_seed=sample_seed, batch=batch, x0=True)
        aff = np.stack([affinity(unit_colours(x0[k][:, :, -1], cfg.px_per_unit), floor, path)
                        for k in range(num_steps)])
        curves = {k: [] for k in ("off_route_fraction", "mean_affinity_final", "mean_affinity_alternative",
                                  "mean_affinity_other")}
        exact = []
        for i, (maze, video) in enumerate(zip(mazes, videos)):
            base = label_grid(maze, upto=0)
            floor_units = base == 0
            final = (decode_labels(video, maze, palette=cfg.palette)[-1] == PATH) & floor_units
            on_routes = np.zeros_like(floor_units)
            for route in maze.routes:
                for r, c in route:
                    on_routes[r, c] = True
            alt = on_routes & floor_units & ~final
            other = floor_units & ~final & ~on_routes
            exact.append(bool(score_output(video, maze, palette=cfg.palette).exact))
            a = aff[:, i]
            total = (a * floor_units).sum(axis=(1, 2))
            curves["off_route_fraction"].append(np.where(total > 0, (a * (floor_units & ~final)).sum(axis=(1, 2))
                                                         / np.maximum(total, 1e-9), 0.0))
            for key, mask in (("mean_affinity_final", final), ("mean_affinity_alternative", alt),
                              ("mean_affinity_other", other)):
                curves[key].append(a[:, mask].mean(axis=1) if mask.any() else np.full(num_steps, np.nan))
            if alt.any() and (example is None or example["size"] < size):
                example = _example(maze, a, floor_units)
        per_size[size] = {
            "n": len(mazes),
            "exact": float(np.mean(exact)),
            **{k: np.nanmean(np.stack(v), axis=0).round(4).tolist() for k, v in curves.items()},
        }
    result = {"model": stated_path(model or "shipped"), "num_steps": num_steps, "sample_seed": sample_seed,
              "sizes": per_size, "summary": _summary(per_size), "example": example}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "cos_curve.json").write_text(json.dumps(result, indent=2) + "\n")
        plot(result, out / "cos_curve.png")
    return result


def _example(maze, a: np.ndarray, floor_units: np.ndarray) -> dict:
    """One maze's per-step affinity map, walls/start/goal as ``None`` (JSON-safe)."""
    masked = np.where(floor_units[None], a.round(3), np.nan)
    return {"size": maze.size, "seed": maze.seed, "routes": len(maze.routes),
            "affinity": [[[None if np.isnan(v) else float(v) for v in row] for row in step] for step in masked]}


def replot(folder, model=None, device: str = "cpu") -> Path:
    """Redraw ``cos_curve.png`` from ``folder/cos_curve.json``.

    When the JSON lacks the example panel, it is computed here from one maze (the first held-out
    multi-route maze of the largest size, same noise seed) and written back into the JSON.
    """
    folder = Path(folder)
    path = folder / "cos_curve.json"
    if not path.is_file():
        raise InputError(f"{path} does not exist: run cos-curve with --out {folder} first")
    result = json.loads(path.read_text())
    if not result.get("example"):
        from interp.tasks import label_grid

        size = max(int(s) for s in result["sizes"])
        organism = load(model, device)
        cfg = organism.config
        maze = multi_route_mazes(size, 1, cfg.extra_openings)[0]
        _, x0 = solve(organism, [maze], num_steps=result["num_steps"], sample_seed=result["sample_seed"], x0=True)
        maps = [affinity(unit_colours(step[:1, :, -1], cfg.px_per_unit), cfg.palette_colors["floor"],
                         cfg.palette_colors["path"])[0] for step in x0]
        result["example"] = _example(maze, np.stack(maps), label_grid(maze, upto=0) == 0)
        path.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, folder / "cos_curve.png")
    return folder / "cos_curve.png"


def _summary(per_size: dict) -> dict:
    """Key numbers: alternative-route affinity at the first step, its peak and where it is at the end."""
    out = {}
    for size, d in per_size.items():
        alt = d["mean_affinity_alternative"]
        out[f"{size}x{size}"] = {
            "off_route_fraction_first_last": [d["off_route_fraction"][0], d["off_route_fraction"][-1]],
            "alternative_affinity_peak_step": int(np.nanargmax(alt)),
            "alternative_affinity_peak": float(np.nanmax(alt)),
            "alternative_affinity_last": alt[-1],
            "final_affinity_first_last": [d["mean_affinity_final"][0], d["mean_affinity_final"][-1]],
            "exact": d["exact"],
        }
    return out


def plot(result: dict, path: Path) -> None:
    """Curves per size (left, middle) and one maze's final-frame affinity at a few steps (right)."""
    import matplotlib

    plt = pyplot()
    example = result.get("example")
    n_ex = 5 if example else 0
    fig = plt.figure(figsize=(9 + 1.5 * n_ex, 3.8))
    grid = fig.add_gridspec(1, 2 + n_ex, width_ratios=[3, 3] + [1.1] * n_ex)
    ax1, ax2 = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    for size, d in result["sizes"].items():
        steps = np.arange(len(d["off_route_fraction"]))
        line = ax1.plot(steps, d["off_route_fraction"], label=f"{size}x{size}")[0]
        c = line.get_color()
        ax2.plot(steps, d["mean_affinity_final"], color=c, label=f"{size}x{size} final route")
        ax2.plot(steps, d["mean_affinity_alternative"], "--", color=c, label=f"{size}x{size} other shortest routes")
        ax2.plot(steps, d["mean_affinity_other"], ":", color=c, label=f"{size}x{size} other floor")
    ax1.set(xlabel="denoising step", ylabel="share of route colour off the final route",
            title="final frame of x0_hat, held-out multi-route mazes")
    ax2.set(xlabel="denoising step", ylabel="mean route-colour affinity")
    ax1.title.set_fontsize(9)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    if example:
        maps = np.array(example["affinity"], dtype=float)
        picks = np.linspace(0, len(maps) - 1, n_ex).round().astype(int)
        cmap = matplotlib.colormaps["Blues"].copy()
        cmap.set_bad("0.35")
        for j, k in enumerate(picks):
            ax = fig.add_subplot(grid[0, 2 + j])
            ax.imshow(np.ma.masked_invalid(maps[k]), cmap=cmap, vmin=0, vmax=1)
            ax.set_title(f"step {k}", fontsize=8)
            ax.axis("off")
        fig.text(0.99, 0.02, f"affinity on floor units (walls, start, goal grey): maze {example['size']}x"
                 f"{example['size']} seed {example['seed']}, {example['routes']} shortest routes",
                 ha="right", fontsize=7)
    finish(fig, path, dpi=120)
