"""Write the viewer of a trace store into a folder: the page, its script and style, and the data.

The folder is complete in itself: ``index.html`` opened from disk works, nothing is fetched from
the network. The page is built in a temporary folder beside ``out`` and moved into place at the
end, so an interrupted build leaves the previous viewer (or nothing) and never half of one.
"""

from __future__ import annotations

import os
import shutil
import time
from importlib import resources
from pathlib import Path

from interp.errors import InputError
from interp.outputs import claim_folder

#: the entries a viewer folder holds; only these are ever replaced
ENTRIES = ("index.html", "viewer.js", "charts.js", "viewer.css", "data")
STATIC = ("index.html", "viewer.js", "charts.js", "viewer.css")


def default_out(store_path: str | os.PathLike) -> Path:
    """``trace.h5`` -> ``trace.view`` beside it."""
    path = Path(store_path)
    return path.with_name(path.stem + ".view")


def check_out(out: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """``out`` can hold a viewer (the output rule of :mod:`interp.outputs`): a folder, or creatable,
    writable, and holding no viewer unless ``overwrite``."""
    return claim_folder(out, ENTRIES, overwrite=overwrite)


def build_viewer(store, out: str | os.PathLike | None = None, *, patch=None, probes=None, cos=None,
                 probe_map: str | None = None, overwrite: bool = False, progress: bool = True) -> dict:
    """Write the viewer of ``store`` (a path or an open :class:`~interp.store.TraceStore`) into ``out``.

    Args:
        store: the trace store.
        out: output folder (default: ``<store>.view`` beside the store).
        patch: a ``cos patch`` output folder to show as patching heatmaps.
        probes: a ``cos probe`` output folder to show as probe heatmaps with their controls.
        cos: a ``cos cos-metrics`` ``metrics.json`` (or its folder); by default the metrics are
            computed from the store when it holds pixel x0_hat of maze tasks.
        probe_map: a maze target of :mod:`probes.targets` (``wall``, ``route``, ``distance``, ...) whose
            linear probe scores every token, as a third token map (:mod:`interp.viewer.probe_maps`).
        overwrite: replace a viewer already in ``out``.
        progress: show a tqdm bar over samples.

    Returns:
        ``{"out", "index", "samples", "seconds", "bytes"}``.

    Example:
        >>> info = build_viewer("outputs/demo/trace.h5", "outputs/demo/viewer")   # doctest: +SKIP
        >>> info["index"]                                                          # doctest: +SKIP
        PosixPath('outputs/demo/viewer/index.html')
    """
    from tqdm.auto import tqdm

    from interp.store import TraceStore
    from interp.viewer import extras
    from interp.viewer.precompute import map_sites, sample_chunk, store_manifest, write_chunk, _is_pixels

    started = time.perf_counter()
    own = not isinstance(store, TraceStore)
    store = TraceStore.open(store) if own else store
    try:
        out = check_out(default_out(store.path) if out is None else out, overwrite=overwrite)
        if not store.sample_ids():
            raise InputError(f"{store.path} holds no completed sample: nothing to view")
        for option, value in (("--patch", patch), ("--probes", probes), ("--cos", cos)):
            if value is not None and not Path(value).exists():
                raise InputError(f"{option} {str(value)!r} does not exist")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.building-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        data = tmp / "data"
        data.mkdir(parents=True)
        try:
            sites, skipped = map_sites(store)
            pixels = _is_pixels(store)
            manifest = store_manifest(store, sites, skipped, pixels=pixels)
            given_cos = extras.cos_from_file(cos) if cos is not None else None
            maps = None
            if probe_map is not None:
                from interp.viewer.probe_maps import ProbeMaps

                maps = ProbeMaps(store, sites, probe_map, progress=progress)
                manifest["probe_map"] = maps.describe()
            manifest["views"] = {"patch": patch is not None, "probes": probes is not None}
            if patch is not None:
                write_chunk(data / "patch.js", "patch", 0, extras.patching(patch, data))
            if probes is not None:
                write_chunk(data / "probes.js", "probes", 0, extras.probes(probes))
            with_cos = 0
            for index, sample_id in enumerate(tqdm(store.sample_ids(), desc="viewer", disable=not progress)):
                folder = data / f"s{index}"
                chunk = sample_chunk(store, sample_id, folder, sites, pixels=pixels, probe_maps=maps)
                chunk["cos"] = (given_cos or {}).get(sample_id) if given_cos is not None \
                    else (extras.cos_from_store(store, sample_id) if pixels else None)
                with_cos += chunk["cos"] is not None
                write_chunk(folder / "sample.js", "sample", index, chunk)
                store.close()  # drop the sample's open file and its caches: memory stays flat over samples
            manifest["views"]["cos"] = with_cos > 0
            write_chunk(data / "manifest.js", "manifest", 0, manifest)
            for name in STATIC:
                shutil.copyfile(resources.files("interp.viewer").joinpath("static", name), tmp / name)
            _publish(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        size = sum(p.stat().st_size for p in out.joinpath("data").rglob("*") if p.is_file())
        return {"out": out, "index": out / "index.html", "samples": len(store.sample_ids()),
                "seconds": round(time.perf_counter() - started, 2), "bytes": size}
    finally:
        if own:
            store.close()


def _publish(tmp: Path, out: Path) -> None:
    """Move every entry of ``tmp`` into ``out``, replacing older ones; each move is one rename."""
    out.mkdir(parents=True, exist_ok=True)
    old = out / f".old-{os.getpid()}"
    old.mkdir(exist_ok=True)
    try:
        for name in ("data", "viewer.js", "charts.js", "viewer.css", "index.html"):  # the page last: it names the rest
            if (out / name).exists():
                os.replace(out / name, old / name)
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(old, ignore_errors=True)
