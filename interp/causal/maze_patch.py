"""Activation patching on minimal maze pairs: what ``cos patch`` runs, as functions.

:func:`patch_maze_pairs` sweeps clean into corrupted runs of maze pairs over layers x steps x
token regions (:func:`~interp.interventions.patch_sweep` with the maze's route metric), summarises
the grid (the normalised route preference with a 95% bootstrap interval over pairs, and the
flip share per cell) and draws the effect maps of the strongest cells; :func:`save_patch_study`
writes the grid, ``result.json`` and the figures. Scripts call these instead of the command.

Example:
    >>> study = patch_maze_pairs(model, make_pairs(5, 4, 910_000), layers=[0, 3], steps=[0, 6],
    ...                          regions="all,changed", read_at="patched")      # doctest: +SKIP
    >>> save_patch_study("outputs/patch", study)                                 # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

#: What a study writes into its folder (``cos patch --out``).
OUTPUTS = ("grid.npz", "grid.json", "result.json", "patch_preference.png", "patch_flip.png", "patch_effects.png")
REGIONS = "all, changed (the changed units' tokens), frame:K (one frame), grid:K (a K x K grid of patches)"


@dataclass
class PatchStudy:
    """A maze patching sweep: the grid, its summary (``result.json``) and the effect maps drawn."""

    grid: object
    summary: dict
    maps: list = field(default_factory=list)


def patch_maze_pairs(model, pairs, *, noise_seed: int = 0, layers=None, steps=None, regions: str = "all,changed",
                     site: str = "resid_post", num_steps: int | None = None, batch_size: int = 128,
                     reuse_prefix: bool = True, read_at: str = "final", effect_maps: int = 3, context=None,
                     record: dict | None = None, began: float | None = None,
                     sweep_options: dict | None = None) -> PatchStudy | None:
    """Patch the clean runs of ``pairs`` into their corrupted runs on the maze organism ``model``.

    Pair ``p`` runs with noise seed ``noise_seed + p``. ``record`` is added to the grid's meta
    (command, date, machine...) before the summary is made; ``began`` is when the whole study
    started (for its total time). Under ``torchrun`` (``context``) every rank sweeps its share and
    only the main rank gets the study back (the others get ``None``). ``sweep_options`` go to
    :func:`~interp.interventions.patch_sweep` (``reuse_layers``, ``share_states``).
    """
    from interp.interventions import patch_sweep
    from interp.interventions.maze_patching import PairMetric
    from interp.organism.evaluate import first_frames

    began = time.perf_counter() if began is None else began
    num_steps = num_steps or model.organism.config.num_inference_steps
    layers = list(range(model.num_layers)) if layers is None else list(layers)
    steps = list(range(num_steps)) if steps is None else list(steps)
    is_main = context is None or context.is_main

    def inputs(which):
        frames = first_frames([getattr(p, which) for p in pairs], model.organism)
        return model.prepare(first_frame=frames, seeds=[noise_seed + i for i in range(len(pairs))])

    clean, corrupt = inputs("clean"), inputs("corrupt")
    grid_shape = model.token_grid(clean.latents.shape)
    named = parse_regions(regions, grid_shape, pairs, model.organism.config.px_per_unit, model.pixels_per_token)
    metric = PairMetric(pairs)
    if is_main:
        print(_estimate(len(pairs), layers, steps, named, num_steps, read_at, effect_maps), file=sys.stderr)
    grid = patch_sweep(model, clean, corrupt, metric, layers=layers, steps=steps, regions=named, site=site,
                       num_steps=num_steps, batch_size=batch_size, reuse_prefix=reuse_prefix, read_at=read_at,
                       progress=is_main, context=context, **(sweep_options or {}))
    if not is_main:
        return None
    grid.meta.update(record or {})
    grid.meta.update(clean_flip_share=float(grid.clean["flip"].mean()),
                     corrupt_flip_share=float(grid.corrupt["flip"].mean()))
    summary = summarise(grid)
    ranked = sorted(summary["cells"], key=lambda c: -(c["preference"] if c["preference"] is not None else -1e9))
    maps = effect_maps_of(model, clean, corrupt, metric, ranked[:effect_maps], named, site=site, num_steps=num_steps)
    grid.meta["effect_map_seconds"] = round(sum(seconds for *_, seconds in maps), 1)
    grid.meta["total_seconds"] = round(time.perf_counter() - began, 1)
    summary["meta"] = grid.meta
    return PatchStudy(grid, summary, maps)


def save_patch_study(out: str | Path, study: PatchStudy) -> Path:
    """Write ``grid.npz`` / ``grid.json``, ``result.json`` and the figures into ``out`` (a claimed folder)."""
    from interp.outputs import write_json
    from interp.viz.patching import plot_effects, plot_grid

    out = Path(out)
    study.grid.save(out)
    write_json(out / "result.json", study.summary)
    for metric_name in ("preference", "flip"):
        plot_grid(study.grid, metric_name, out / f"patch_{metric_name}.png")
    if study.maps:
        plot_effects([(label, amounts) for label, amounts, _ in study.maps], out / "patch_effects.png",
                     title="Patch effect on pair 0's final frame, strongest cells")
    return out


def strongest(summary: dict) -> dict:
    """The cell with the highest normalised preference."""
    return max(summary["cells"], key=lambda c: c["preference"] if c["preference"] is not None else -1e9)


def parse_regions(text: str, grid, pairs, px_per_unit: int, pixels_per_token) -> dict:
    """Region name -> Tokens or a per-pair function; ``grid:K`` expands to K*K named patches."""
    from interp.errors import InputError
    from interp.interventions import Tokens
    from interp.interventions.maze_patching import changed_region

    f, h, w = grid
    out = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, _, arg = part.partition(":")
        if part == "all":
            out["all"] = Tokens.all()
        elif part == "changed":
            out["changed"] = changed_region(pairs, grid, px_per_unit=px_per_unit, pixels_per_token=pixels_per_token)
        elif name == "frame" and arg.isdigit() and int(arg) < f:
            out[part] = Tokens.in_frames(int(arg))
        elif name == "grid" and arg.isdigit() and 1 <= int(arg) <= min(h, w):
            k = int(arg)
            rows = [(i * h // k, (i + 1) * h // k) for i in range(k)]
            cols = [(j * w // k, (j + 1) * w // k) for j in range(k)]
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    out[f"grid{k}:{i},{j}"] = Tokens.region(rows=r, cols=c)
        else:
            raise InputError(f"unknown region {part!r}: valid are {REGIONS} with frame 0..{f - 1}, "
                             f"grid 1..{min(h, w)}")
    if not out:
        raise InputError(f"no region given: choose from {REGIONS}")
    return out


def _estimate(n_pairs: int, layers, steps, regions, num_steps: int, read_at: str, effect_maps: int) -> str:
    """What the sweep will run, in forwards, and how to shrink it (printed before it starts)."""
    cells = n_pairs * len(layers) * len(steps) * len(regions)
    per_cell = 1 if read_at == "patched" else f"up to {num_steps}"
    return (f"cos patch: {cells} cells ({n_pairs} pairs x {len(layers)} layers x {len(steps)} steps x {len(regions)} "
            f"regions), {per_cell} forward(s) each, then {effect_maps} effect map(s) (3 samples of {num_steps} "
            "steps each); fewer --pairs, --layers, --steps, --effect-maps 0 or --read-at patched make it shorter")


def effect_maps_of(model, clean, corrupt, metric, cells, regions, *, site: str, num_steps: int) -> list:
    """``(label, per-unit change of pair 0's answer, seconds)`` for each cell: pair 0 patched at that
    cell alone, minus pair 0 unpatched (at most three full samples per cell)."""
    from tqdm.auto import tqdm

    from interp.interventions import At, Intervention, Patch, run as run_interventions, run_with_cache
    from interp.sites import Site

    base = None
    maps = []
    for cell in tqdm(cells, desc="effect maps", unit="cell"):
        began = time.perf_counter()
        where = Site(site, cell["layer"])
        item = Intervention(At(where, steps=[cell["step"]], tokens=_region_tokens(regions[cell["region"]], 0)),
                            Patch("clean", take=[0]))
        source = run_with_cache(model, clean.take([0]), [str(where)], steps=[cell["step"]], num_steps=num_steps,
                                branches=("cond", "uncond") if clean.do_guidance else ("cond",), progress=False).cache
        patched = run_interventions(model, corrupt.take([0]), [item], sources={"clean": source},
                                    num_steps=num_steps, progress=False)
        if base is None:  # the unpatched run is the same for every cell
            base = metric.amounts(run_interventions(model, corrupt.take([0]), num_steps=num_steps,
                                                    progress=False).video)[0]
        maps.append((f"layer {cell['layer']}, step {cell['step']}, {cell['region']}",
                     metric.amounts(patched.video)[0] - base, time.perf_counter() - began))
    return maps


def _region_tokens(region, pair: int):
    from interp.interventions import Tokens

    return region if isinstance(region, Tokens) else region(pair)


def summarise(grid) -> dict:
    """The grid's cells with normalised preference (95% bootstrap interval) and flip share."""
    normalised = grid.normalised("preference")
    low, high = grid.interval("preference", resamples=500)
    flips = grid.values["flip"].mean(axis=-1)
    cells = []
    for r, region in enumerate(grid.coords["region"]):
        for i, layer in enumerate(grid.coords["layer"]):
            for j, step in enumerate(grid.coords["step"]):
                cells.append({"region": region, "layer": layer, "step": step,
                              "preference": _num(normalised[r, i, j]), "ci95": [_num(low[r, i, j]), _num(high[r, i, j])],
                              "flip_share": _num(flips[r, i, j])})
    return {"n_pairs": len(grid.coords["pair"]), "meta": grid.meta, "cells": cells,
            "clean_preference": _num(grid.clean["preference"].mean()),
            "corrupt_preference": _num(grid.corrupt["preference"].mean())}


def _num(value) -> float | None:
    value = float(value)
    return None if value != value else round(value, 4)
