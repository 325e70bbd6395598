"""Trace task folders for probing; probe a trace store (against its control) and write the report.

:func:`trace_tasks` records what the probes read (``resid_post`` of every block and ``x0``) for
every task of a folder, in batches. :func:`probe_store` is what ``cos probe`` runs: a
:func:`~probes.controls.sweep_with_control` of every target over (branch, layer, step), the
table (``probes.csv`` / ``probes.json``) and the localisation report (``report.md``,
``localisation.json``, ``heatmaps.png``, ``profiles.png``).

Example:
    >>> out = probe_store("trace.h5", "outputs/probes", targets=["wall", "route"],
    ...                   control="trace_random.h5")                        # doctest: +SKIP
    >>> out["paths"]["markdown"]                                            # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from interp.errors import InputError, check_range
from interp.paths import recorded_path
from interp.sites import template_kind
from probes.sweep import SweepSettings


def probe_store(trace: str | Path, out: str | Path, *, targets: Sequence[str], control: str | Path | None = None,
                settings: SweepSettings | None = None, layers=None, steps=None, branches=None,
                band_frac: float = 0.9, num_layers: int | None = None, min_test_mazes: int = 5,
                threads: int | None = None, source: str | None = None) -> dict:
    """Probe ``trace`` (and ``control``) and write the table and report into ``out`` (an existing folder).

    Args:
        trace, control: trace store paths; the control holds a randomly initialised model of the
            same architecture traced the same way (selectivity = score - its score).
        targets: targets of :mod:`probes.targets`.
        settings: how probes are fitted (default :class:`~probes.sweep.SweepSettings`).
        layers, steps, branches: subsets of what the trace holds (``None``: all).
        band_frac: a target's band is the layers within this share of its best.
        num_layers: the model's number of blocks, for relative depth (default: the deepest block in
            the trace + 1).
        min_test_mazes: fewer held-out mazes than this: warn and call no target decodable.
        threads: torch CPU threads while probing (default: torch's).
        source: what the report names as its source (default ``cos probe <trace>``).

    Returns ``{"rows", "seconds", "counts", "paths"}``.
    """
    import torch

    from interp.store import TraceStore
    from probes.controls import sweep_with_control
    from probes.report import sample_counts, write_report
    from probes.sweep import save_table

    settings = settings or SweepSettings()
    settings.validate()
    check_range("band fraction", band_frac, 0.0, 1.0)
    check_range("min test mazes", min_test_mazes, 1, 100_000)
    if threads is not None:
        check_range("threads", threads, 1, 1024)
    stores = [TraceStore.open(trace)]
    try:
        if control is not None:
            from probes.controls import check_control

            stores.append(TraceStore.open(control))
            check_control(stores[0], stores[1])
        depth, depth_from = model_depth(stores[0], settings.site_template, layers, num_layers)
        previous = torch.get_num_threads()
        torch.set_num_threads(threads or previous)
        try:
            started = time.perf_counter()
            rows = sweep_with_control(stores[0], targets, control=stores[1] if control is not None else None,
                                      layers=layers, steps=steps, branches=branches, settings=settings)
            seconds = time.perf_counter() - started
        finally:
            torch.set_num_threads(previous)
        attrs = dict(stores[0].attrs)
    finally:
        for store in stores:
            store.close()
    # paths as the record states them: relative to the repository root (or to ``out``), never the machine's
    meta = {"trace": recorded_path(trace, out), "control": None if control is None else recorded_path(control, out),
            "seconds": round(seconds, 2),
            "model_name": attrs.get("model_name"), "fingerprint": attrs.get("fingerprint")}
    save_table(rows, out, settings=settings, meta=meta)
    counts = sample_counts(rows)
    if counts["test_mazes"] is not None and counts["test_mazes"] < min_test_mazes:
        print(f"cos probe: warning: only {counts['test_mazes']} held-out maze(s) (minimum {min_test_mazes}): "
              "the intervals mean little and no target is called decodable; trace more mazes", file=sys.stderr)
    paths = write_report(rows, out, frac=band_frac, source=source or f"cos probe {recorded_path(trace, out)}", num_layers=depth,
                         min_test_mazes=min_test_mazes, depth_from=depth_from)
    return {"rows": rows, "seconds": seconds, "counts": counts, "paths": paths}


def model_depth(store, site_template: str, layers, num_layers: int | None) -> tuple[int | None, str]:
    """The model's number of blocks for relative depth, and where that number came from."""
    if num_layers is not None:
        check_range("num_layers", num_layers, 1, 10_000)
        depth, source = num_layers, f"the model's last block (--num-layers {num_layers})"
    else:
        captured = store.layers(template_kind(site_template))
        depth = max(captured) + 1 if captured else None
        source = "the deepest block in the trace (give --num-layers if the trace skipped the last blocks)"
    if layers is not None and num_layers is not None and max(layers) >= depth:
        raise InputError(f"layers {list(layers)} go past the model's {depth} blocks (--num-layers)")
    return depth, source


def trace_tasks(model_source, tasks_dir: str | Path, out: str | Path, *, steps: int, batch: int, device: str = "cpu",
                sites: Sequence[str] = ("resid_post", "x0")) -> None:
    """Capture ``sites`` of every task of ``tasks_dir`` into ``out``, ``batch`` mazes per sampling run
    (what ``cos trace --sites resid_post,x0`` stores one maze at a time; batching only makes it faster).

    Each maze is sample ``<task folder>-seed0`` with noise seed 0 and the task's metadata.
    """
    import numpy as np
    from tqdm.auto import tqdm

    from interp.capture import CaptureSpec, capture
    from interp.models import load_model
    from interp.tasks.folders import find_tasks

    model = load_model(model_source, device=device)
    tasks = find_tasks([str(tasks_dir)])
    spec = CaptureSpec.make(list(sites))
    for i in tqdm(range(0, len(tasks), batch), desc=f"tracing {Path(out).name}"):
        chunk = tasks[i:i + batch]
        inputs = model.prepare(first_frame=np.stack([t.first_frame for t in chunk]), seeds=[0] * len(chunk))
        capture(model, inputs, spec, out, num_steps=steps, sample_ids=[f"{t.folder.name}-seed0" for t in chunk],
                tasks=[{"folder": str(t.folder), "prompt": t.prompt, **t.metadata} for t in chunk],
                save_video=False, progress=False)
