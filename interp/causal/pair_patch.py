"""Activation patching on the pairs of any task: what ``cos patch`` runs, as functions.

:func:`patch_pairs` sweeps clean into corrupted runs of a task's pairs
(:class:`~interp.tasks.interface.PairTask`: the maze's minimal pairs, a user's prompt or image
pairs) over layers x steps x token regions (:func:`~interp.interventions.patch_sweep` with the
task's metric), summarises the grid (the task's own summary, else every metric normalised with a
95% bootstrap interval over pairs) and draws the effect maps of the strongest cells where the task
reads an answer map; :func:`save_patch_study` writes the grid, ``result.json`` and the figures.
Scripts call these instead of the command.

Example:
    >>> task = MazePairTask(make_pairs(5, 4, 910_000), regions_text="all,changed")     # doctest: +SKIP
    >>> study = patch_pairs(model, task, layers=[0, 3], steps=[0, 6], read_at="patched")  # doctest: +SKIP
    >>> save_patch_study("outputs/patch", study)                                          # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

#: What a study writes into its folder (``cos patch --out``).
OUTPUTS = ("grid.npz", "grid.json", "result.json", "patch_preference.png", "patch_flip.png", "patch_effects.png")


@dataclass
class PatchStudy:
    """A patching sweep: the grid, its summary (``result.json``) and the effect maps drawn."""

    grid: object
    summary: dict
    maps: list = field(default_factory=list)


class LazyRun:
    """A reference run of ``inputs`` made only when a metric reads it (``.latents``, ``.video``)."""

    def __init__(self, model, inputs, num_steps: int) -> None:
        self._args, self._result = (model, inputs, num_steps), None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._result is None:
            from interp.interventions import run

            model, inputs, num_steps = self._args
            self._result = run(model, inputs, num_steps=num_steps, progress=False)
        return getattr(self._result, name)


def patch_pairs(model, task, *, noise_seed: int = 0, layers=None, steps=None, site: str = "resid_post",
                num_steps: int, batch_size: int = 128, reuse_prefix: bool = True,
                read_at: str = "final", effect_maps: int = 3, context=None, record: dict | None = None,
                began: float | None = None, sweep_options: dict | None = None) -> PatchStudy | None:
    """Patch the clean runs of ``task``'s pairs into their corrupted runs on ``model``.

    Pair ``p`` runs with noise seed ``noise_seed + p``, ``num_steps`` denoising steps.
    ``record`` is added to the grid's meta (command, date, machine...) before the summary is made;
    ``began`` is when the whole study started (for its total time). Under ``torchrun``
    (``context``) every rank sweeps its share and only the main rank gets the study back (the
    others get ``None``). ``sweep_options`` go to :func:`~interp.interventions.patch_sweep`
    (``reuse_layers``, ``share_states``). The task's metric gets the unpatched clean and corrupted
    runs as references, run only if it reads them.
    """
    from interp.interventions import patch_sweep
    from interp.tasks.interface import hook

    began = time.perf_counter() if began is None else began
    layers = list(range(model.num_layers)) if layers is None else list(layers)
    steps = list(range(num_steps)) if steps is None else list(steps)
    is_main = context is None or context.is_main
    seeds = [noise_seed + i for i in range(task.num_pairs())]
    clean, corrupt = task.inputs(model, "clean", seeds), task.inputs(model, "corrupt", seeds)
    named = task.regions(model, clean)
    metric = task.metric(model, LazyRun(model, clean, num_steps), LazyRun(model, corrupt, num_steps))
    effect_maps = effect_maps if hook(task, "answer_map") else 0
    if is_main:
        print(_estimate(task.num_pairs(), layers, steps, named, num_steps, read_at, effect_maps), file=sys.stderr)
    grid = patch_sweep(model, clean, corrupt, metric, layers=layers, steps=steps, regions=named, site=site,
                       num_steps=num_steps, batch_size=batch_size, reuse_prefix=reuse_prefix, read_at=read_at,
                       progress=is_main, context=context, **(sweep_options or {}))
    if not is_main:
        return None
    grid.meta.update(record or {})
    summary = (hook(task, "summarise") or summarise)(grid)
    first = next(iter(grid.values))
    ranked = sorted(summary["cells"], key=lambda c: -_key(c, first))
    maps = effect_maps_of(model, clean, corrupt, task, metric, ranked[:effect_maps], named, site=site,
                          num_steps=num_steps) if effect_maps else []
    grid.meta["effect_map_seconds"] = round(sum(seconds for *_, seconds in maps), 1)
    grid.meta["total_seconds"] = round(time.perf_counter() - began, 1)
    summary["meta"] = grid.meta
    return PatchStudy(grid, summary, maps)


def _key(cell: dict, first: str) -> float:
    """A cell's rank value: its normalised first metric (``preference`` in a task's own summary)."""
    value = cell.get("preference", cell.get(first))
    return -1e9 if value is None else value


def save_patch_study(out: str | Path, study: PatchStudy) -> Path:
    """Write ``grid.npz`` / ``grid.json``, ``result.json`` and the figures into ``out`` (a claimed folder)."""
    from interp.outputs import write_json
    from interp.viz.patching import plot_effects, plot_grid

    out = Path(out)
    study.grid.save(out)
    write_json(out / "result.json", study.summary)
    for metric_name in study.grid.values:
        plot_grid(study.grid, metric_name, out / f"patch_{metric_name}.png")
    if study.maps:
        plot_effects([(label, amounts) for label, amounts, _ in study.maps], out / "patch_effects.png",
                     title="Patch effect on pair 0's final frame, strongest cells")
    return out


def strongest(summary: dict, metric: str = "preference") -> dict:
    """The cell with the highest normalised ``metric``."""
    return max(summary["cells"], key=lambda c: -1e9 if c.get(metric) is None else c[metric])


def _estimate(n_pairs: int, layers, steps, regions, num_steps: int, read_at: str, effect_maps: int) -> str:
    """What the sweep will run, in forwards, and how to shrink it (printed before it starts)."""
    cells = n_pairs * len(layers) * len(steps) * len(regions)
    per_cell = 1 if read_at == "patched" else f"up to {num_steps}"
    return (f"cos patch: {cells} cells ({n_pairs} pairs x {len(layers)} layers x {len(steps)} steps x {len(regions)} "
            f"regions), {per_cell} forward(s) each, then {effect_maps} effect map(s) (3 samples of {num_steps} "
            "steps each); fewer --pairs, --layers, --steps, --effect-maps 0 or --read-at patched make it shorter")


def effect_maps_of(model, clean, corrupt, task, metric, cells, regions, *, site: str, num_steps: int) -> list:
    """``(label, change of pair 0's answer map, seconds)`` for each cell: pair 0 patched at that
    cell alone, minus pair 0 unpatched (at most three full samples per cell); the task reads the
    answer map (``task.answer_map(metric, videos)``)."""
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
            base = task.answer_map(metric, run_interventions(model, corrupt.take([0]), num_steps=num_steps,
                                                             progress=False).video)[0]
        maps.append((f"layer {cell['layer']}, step {cell['step']}, {cell['region']}",
                     task.answer_map(metric, patched.video)[0] - base, time.perf_counter() - began))
    return maps


def _region_tokens(region, pair: int):
    from interp.interventions import Tokens

    return region if isinstance(region, Tokens) else region(pair)


def summarise(grid) -> dict:
    """Every cell's normalised value of every metric (with a 95% bootstrap interval over pairs)."""
    return grid.summary()
