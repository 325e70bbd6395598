"""Activation patching over named axes (region x layer x step), in the manner of TransformerLens.

A cell ``(region, layer, step)`` runs the corrupted input with one block site replaced, at one
step and on the region's tokens, by the clean run's values, and scores the result with a
metric. Every cell is a list of interventions for :func:`~interp.interventions.run`; the sweep
only arranges them:

* a cell patched at step ``s`` starts from the corrupted run's saved ``x_s`` (the steps before
  ``s`` are the corrupted run's own), instead of redoing them (``reuse_prefix=False`` does);
* the metric reads the final video (``read_at="final"``), or the x0_hat of the patched step
  itself (``read_at="patched"``: the patch's direct effect, one forward per cell, so that a
  sweep fits on a CPU), normalised against the clean and corrupted runs read at the same point;
* a cell patched at layer ``L`` starts its patched step at block ``L`` from the corrupted run's
  saved residual, and cells whose patched step gives the clean run's velocity share one state
  (``reuse_layers``, ``share_states``: :mod:`~interp.interventions.patch_cells` says why both
  are exact);
* cells of one step share batched forwards (``batch_size`` rows: region x layer x pair);
* under ``torchrun`` the work is dealt to the ranks by its cost, so that they finish together,
  and the grid gathered on every rank.

The clean values come from an in-memory clean run, or from any source (a
:class:`~interp.store.StoreSource` patches from disk).

Example:
    >>> grid = patch_sweep(model, clean, corrupt, metric, layers=range(12), steps=range(20),
    ...                    regions={"all": Tokens.all()}, num_steps=20)          # doctest: +SKIP
    >>> grid.normalised("preference").shape                                      # doctest: +SKIP
    (1, 12, 20)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from interp.errors import InputError
from interp.outputs import replacing, write_json
from interp.interventions.actions import Patch
from interp.interventions.intervention import Intervention
from interp.interventions.patch_cells import CellRunner, cell_groups, same_conditioning
from interp.interventions.executor import observe, run, site_grid
from interp.interventions.sources import run_with_cache
from interp.interventions.where import At, Tokens
from interp.sites import BLOCK_KINDS, Site

AXES = ("region", "layer", "step", "pair")
#: A metric maps a batch of decoded videos ``[R, F, H, W, 3]`` and each row's pair index to named values ``[R]``.
Metric = Callable[[np.ndarray, Sequence[int]], dict]


def _rounded(value) -> float | None:
    """A JSON number: 6 decimals, ``None`` for NaN."""
    value = float(value)
    return None if value != value else round(value, 6)


@dataclass
class PatchGrid:
    """Metric values of every cell, with the clean and corrupted runs' values per pair.

    Attributes:
        values: metric name -> ``[region, layer, step, pair]``.
        clean, corrupt: metric name -> ``[step, pair]``, read where the cells were read.
        coords: axis name -> labels (regions by name, layers, steps, pair indices).
        meta: how the grid was made (site, schedule, model, timings).
    """

    values: dict[str, np.ndarray]
    clean: dict[str, np.ndarray]
    corrupt: dict[str, np.ndarray]
    coords: dict[str, list]
    meta: dict = field(default_factory=dict)
    axes: tuple[str, ...] = AXES

    def normalised(self, metric: str, pairs: np.ndarray | None = None) -> np.ndarray:
        """``[region, layer, step]``: the pair-mean of ``metric``, 0 at the corrupted run's mean and
        1 at the clean run's (NaN where the two means are within 1e-6)."""
        pairs = np.arange(len(self.coords["pair"])) if pairs is None else pairs
        low = self.corrupt[metric][:, pairs].mean(axis=-1)
        high = self.clean[metric][:, pairs].mean(axis=-1)
        gap = np.where(np.abs(high - low) < 1e-6, np.nan, high - low)
        return (self.values[metric][..., pairs].mean(axis=-1) - low) / gap

    def interval(self, metric: str, *, resamples: int = 1000, seed: int = 0, level: float = 0.95):
        """Bootstrap interval over pairs of :meth:`normalised`: ``(low, high)``, each ``[region, layer, step]``.

        One pair has no interval: both bounds are NaN then (a bootstrap of one value would read as certainty).
        """
        rng = np.random.default_rng(seed)
        n = len(self.coords["pair"])
        if n < 2:
            nan = np.full(self.values[metric].shape[:-1], np.nan)
            return nan, nan.copy()
        draws = np.stack([self.normalised(metric, rng.integers(0, n, n)) for _ in range(resamples)])
        tail = (1 - level) / 2
        return np.nanquantile(draws, tail, axis=0), np.nanquantile(draws, 1 - tail, axis=0)

    def summary(self, *, resamples: int = 500) -> dict:
        """Every cell's normalised value of every metric, with its 95% bootstrap interval over pairs
        (``<metric>_ci95``), and the clean and corrupted runs' means: what ``cos patch`` writes as ``result.json``."""
        cells = []
        normalised = {name: self.normalised(name) for name in self.values}
        intervals = {name: self.interval(name, resamples=resamples) for name in self.values}
        for r, region in enumerate(self.coords["region"]):
            for i, layer in enumerate(self.coords["layer"]):
                for j, step in enumerate(self.coords["step"]):
                    cell = {"region": region, "layer": layer, "step": step}
                    for name in self.values:
                        low, high = intervals[name]
                        cell[name] = _rounded(normalised[name][r, i, j])
                        cell[f"{name}_ci95"] = [_rounded(low[r, i, j]), _rounded(high[r, i, j])]
                    cells.append(cell)
        return {"n_pairs": len(self.coords["pair"]), "meta": self.meta, "cells": cells,
                "clean": {k: _rounded(np.nanmean(v)) for k, v in self.clean.items()},
                "corrupt": {k: _rounded(np.nanmean(v)) for k, v in self.corrupt.items()}}

    def save(self, folder: str | Path) -> Path:
        """Write ``grid.npz`` (arrays) and ``grid.json`` (axes, coords, meta) into ``folder``."""
        folder = Path(folder)
        arrays = {f"values.{k}": v for k, v in self.values.items()}
        arrays |= {f"clean.{k}": v for k, v in self.clean.items()} | {f"corrupt.{k}": v for k, v in self.corrupt.items()}
        with replacing(folder / "grid.npz") as tmp:
            np.savez_compressed(tmp, **arrays)
        write_json(folder / "grid.json", {"axes": list(self.axes), "coords": self.coords, "meta": self.meta},
                   default=str)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> PatchGrid:
        folder = Path(folder)
        info = json.loads((folder / "grid.json").read_text())
        with np.load(folder / "grid.npz") as data:
            parts = {"values": {}, "clean": {}, "corrupt": {}}
            for key in data.files:
                part, name = key.split(".", 1)
                parts[part][name] = data[key]
        return cls(parts["values"], parts["clean"], parts["corrupt"], info["coords"], info["meta"], tuple(info["axes"]))


def _cells(regions: list[str], layers: list[int], pairs: int) -> list[tuple[int, int, int]]:
    return [(r, l, p) for r in range(len(regions)) for l in range(len(layers)) for p in range(pairs)]


def patch_sweep(
    model,
    clean,
    corrupt,
    metric: Metric,
    *,
    layers: Sequence[int],
    steps: Sequence[int],
    regions: dict[str, Tokens | Callable[[int], Tokens]],
    site: str = "resid_post",
    num_steps: int,
    shift: float | None = None,
    source=None,
    batch_size: int = 256,
    reuse_prefix: bool = True,
    reuse_layers: bool = True,
    share_states: bool = True,
    read_at: str = "final",
    progress: bool = True,
    context=None,
) -> PatchGrid:
    """Patch the clean run's ``blocks.{layer}.{site}`` into the corrupted run, one cell at a time.

    Args:
        model: the adapter.
        clean, corrupt: loop inputs with one row per pair (row ``p`` of each is pair ``p``).
        metric: ``metric(videos, pair_indices) -> {name: values}`` on decoded videos, or on
            latents ``[R, C, F, H, W]`` when the metric has ``reads = "latents"``.
        layers, steps: the layer and step axes.
        regions: region name -> :class:`Tokens`, or a function of the pair index giving its
            tokens (for regions such as "the changed units").
        site: the block site kind patched.
        num_steps, shift: the schedule.
        source: where clean values come from (default: an in-memory clean run); it is indexed
            by pair.
        batch_size: rows per batched forward.
        reuse_prefix: start each cell at its step from the corrupted run's saved x_t (``False``:
            the plain sweep, every cell from step 0; it ignores the two options below).
        reuse_layers: start a cell patched at layer ``L`` at block ``L`` from the corrupted run's
            saved ``blocks.{L}.resid_pre`` (see :mod:`~interp.interventions.patch_cells`).
        share_states: cells whose patched step provably gives the clean run's velocity (a
            residual site patched on every token, the pair's conditioning the clean input's, the
            clean values from the in-memory clean run) share one state instead of one forward each.
        read_at: ``"final"`` (the decoded final video) or ``"patched"`` (the x0_hat of the
            patched step, decoded).
        progress: show a progress bar over batches.
        context: a :class:`~interp.distributed.DistributedContext` to split batches across ranks.
    """
    import time

    if site not in BLOCK_KINDS:
        raise InputError(f"unknown block site kind {site!r}: valid are {', '.join(BLOCK_KINDS)}")
    layers, steps = [int(l) for l in layers], sorted({int(s) for s in steps})
    for layer in layers:
        Site(site, layer).check(model.num_layers)
    for step in steps:
        if not 0 <= step < num_steps:
            raise InputError(f"step {step} is out of range: choose 0..{num_steps - 1}")
    if not layers or not steps or not regions:
        raise InputError("a patching sweep needs at least one layer, one step and one region")
    if clean.latents.shape != corrupt.latents.shape:
        raise InputError(f"clean and corrupted inputs differ in shape: {tuple(clean.latents.shape)} vs "
                         f"{tuple(corrupt.latents.shape)}")
    if read_at not in ("final", "patched"):
        raise InputError(f"unknown read_at {read_at!r}: valid are final, patched")
    if batch_size < 1:
        raise InputError(f"batch_size {batch_size} must be >= 1")
    pairs = clean.batch_size
    grid = site_grid(model, corrupt, Site(site, layers[0]))
    names = list(regions)
    masks = {name: _region_masks(regions[name], grid, pairs) for name in names}
    began = time.perf_counter()

    single = model.spec.single_stream  # both switches rest on it (ArchitectureSpec.single_stream)
    reuse_layers = reuse_layers and reuse_prefix and single
    share_states = share_states and reuse_prefix and single and source is None
    branches = ("cond", "uncond") if corrupt.do_guidance else ("cond",)
    starts = sorted({l for l in layers if l > 0}) if reuse_layers else []
    # A metric with ``reads = "latents"`` scores latents [R, C, F, H, W] and spares every decode.
    on_latents = getattr(metric, "reads", "video") == "latents"
    shown = (lambda latents: latents) if on_latents else model.decode
    # Read at the patched step, the two reference runs need only reach the last patched step.
    reference = dict(num_steps=num_steps, shift=shift, progress=False, decode=read_at == "final" and not on_latents,
                     end_step=None if read_at == "final" else steps[-1] + 1)
    corrupt_run = run_with_cache(model, corrupt, [f"blocks.{l}.resid_pre" for l in starts], steps=steps,
                                 branches=branches, interventions=observe("x_t", "x0", steps=steps), **reference)
    saved = {s: corrupt_run.at("x_t", s) for s in steps}
    x0s = {s: corrupt_run.at("x0", s) for s in steps}
    if source is None:
        clean_run = run_with_cache(model, clean, [f"blocks.{l}.{site}" for l in layers], steps=steps,
                                   branches=branches, interventions=observe("x0", "velocity", steps=steps),
                                   **reference)
        source = clean_run.cache
    else:
        clean_run = run(model, clean, observe("x0", steps=steps), **reference)
    clean_x0s = {s: clean_run.at("x0", s) for s in steps}
    clean_velocity = {s: clean_run.at("velocity", s) for s in steps} if share_states else {}
    every = list(range(pairs))
    if read_at == "final":
        final = (lambda r: r.latents) if on_latents else (lambda r: r.video)
        clean_values = {k: np.tile(v, (len(steps), 1)) for k, v in metric(final(clean_run), every).items()}
        corrupt_values = {k: np.tile(v, (len(steps), 1)) for k, v in metric(final(corrupt_run), every).items()}
    else:
        per_step = [(metric(shown(clean_x0s[s]), every), metric(shown(x0s[s]), every)) for s in steps]
        clean_values = {k: np.stack([c[k] for c, _ in per_step]) for k in per_step[0][0]}
        corrupt_values = {k: np.stack([b[k] for _, b in per_step]) for k in per_step[0][1]}
    values = {k: np.full((len(names), len(layers), len(steps), pairs), np.nan) for k in clean_values}

    cells = _cells(names, layers, pairs)
    world = 1 if context is None else context.world_size
    if reuse_prefix:
        runner = CellRunner(model, corrupt, metric, names, masks, layers, steps, site, num_steps, shift, source,
                            batch_size, read_at, on_latents, saved, corrupt_run.cache if starts else None,
                            clean_velocity, same_conditioning(clean, corrupt) if share_states else [False] * pairs)
        # Whole steps balance well by cost when there are several per rank; else split the pairs too.
        chunks = 1 if len(steps) >= 4 * world else world
        units = [(si, every[c::chunks]) for si in range(len(steps)) for c in range(chunks) if every[c::chunks]]
        costs = [runner.cost(si, unit_pairs) for si, unit_pairs in units]
    else:
        units = [(si, cells[i:i + batch_size]) for si in range(len(steps)) for i in range(0, len(cells), batch_size)]
        costs = [len(batch) * (num_steps if read_at == "final" else steps[si] + 1) for si, batch in units]
    mine = units if context is None or not context.enabled else context.deal_balanced(units, costs)
    filled = []
    for si, part in tqdm(mine, desc="patching", disable=not progress):
        if reuse_prefix:
            filled.extend(runner.step(si, part))
        else:
            filled.extend(_rerun(model, corrupt, metric, part, si, steps, names, masks, layers, site, num_steps,
                                 shift, source, read_at, on_latents))
    if context is not None and context.enabled:
        gathered = [None] * context.world_size
        torch.distributed.all_gather_object(gathered, filled)
        filled = [item for part in gathered for item in part]
    for r, l, si, p, scores in filled:
        for k, v in scores.items():
            values[k][r, l, si, p] = v
    meta = {"site": site, "num_steps": num_steps, "shift": shift, "model": getattr(model, "name", ""),
            "reuse_prefix": reuse_prefix, "reuse_layers": reuse_layers, "share_states": share_states,
            "read_at": read_at, "batch_size": batch_size, "seconds": time.perf_counter() - began,
            "cells": len(cells) * len(steps)}
    return PatchGrid(values, {k: np.asarray(v, float) for k, v in clean_values.items()},
                     {k: np.asarray(v, float) for k, v in corrupt_values.items()},
                     {"region": names, "layer": layers, "step": steps, "pair": list(range(pairs))}, meta)


def _region_masks(region, grid, pairs: int) -> list[np.ndarray]:
    """One boolean ``[1, T]`` mask per pair, as host arrays: the cells' token choices are made from
    them with no read of a tensor per batch."""
    if isinstance(region, Tokens):
        mask = region.mask(grid).numpy()
        return [mask] * pairs
    return [region(p).mask(grid).numpy() for p in range(pairs)]


def _rerun(model, corrupt, metric, batch, si, steps, names, masks, layers, site, num_steps, shift, source,
           read_at, on_latents) -> list:
    """One batch of cells of one step, each rerun from step 0 (the plain sweep, for comparison)."""
    step = steps[si]
    rows = [p for _, _, p in batch]
    items = []
    for (r, l), members in cell_groups(batch).items():
        mask = np.concatenate([masks[names[r]][batch[i][2]] for i in members])
        tokens = Tokens.all() if mask.all() else Tokens.from_mask(mask)
        items.append(Intervention(At(Site(site, layers[l]), steps=[step], samples=members, tokens=tokens),
                                  Patch("clean", take=[batch[i][2] for i in members])))
    if read_at == "patched":
        items += observe("x0", steps=[step])
    out = run(model, corrupt.take(rows), items, num_steps=num_steps, shift=shift,
              end_step=None if read_at == "final" else step + 1, sources={"clean": source}, progress=False,
              decode=read_at == "final" and not on_latents)
    shown = (lambda latents: latents) if on_latents else model.decode
    scores = metric((out.latents if on_latents else out.video) if read_at == "final" else shown(out.at("x0", step)),
                    rows)
    return [(r, l, si, p, {k: float(v[i]) for k, v in scores.items()}) for i, (r, l, p) in enumerate(batch)]
