"""Reduce a trace store to what a browser can show quickly: sprite PNGs and small JSON chunks.

Per sample the viewer needs pictures, not activations, so everything heavy happens once here:

* ``x0.png``: the x0_hat step x frame grid (rows steps, columns frames), each frame shrunk to at
  most :data:`THUMB` pixels a side; pixel-space x0 (3 channels, as the organism stores it) is
  shown as an image, latent x0 as a token map like any block site;
* ``<site>.norm.png`` and ``<site>.pca.png`` per block site: the per-token L2 norm (magma, one
  colour scale for every step and frame of the site) and the 3-component PCA colours (one PCA
  fitted over every step and frame of the site, as :func:`interp.viz.maps.sample_maps` does), on
  the same step x frame grid;
* ``video.png``: the final decoded video, one row;
* ``sample.js``: steps, sigmas, colour ranges, explained variance and the task's colour key.

Videos with more than :data:`MAX_FRAMES` frames show that many, evenly spaced (the chunk names
which). Spatially pooled sites have no map and are listed as such.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from interp.viz.maps import TokenPCA, place, token_norms

THUMB = 160       # longest side of one frame in a sprite, in pixels
MAX_FRAMES = 24   # frames shown per row at most
MAP_KINDS = ("norm", "pca")


def write_chunk(path: Path, kind: str, key, payload) -> None:
    """A JSON chunk wrapped in a script call, so that ``index.html`` opened from disk can load it
    (browsers refuse ``fetch`` of ``file://`` URLs but run ``<script src>``)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False, default=_plain)
    path.write_text(f"COS_VIEWER.loaded({json.dumps(kind)},{json.dumps(key)},{text});\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} into a viewer chunk")


def finite(values) -> list:
    """A float array as a JSON list with NaN and infinities as ``null``, rounded to 4 digits."""
    array = np.asarray(values, dtype=np.float64)
    out = np.where(np.isfinite(array), np.round(array, 4), np.nan).astype(object)
    out[~np.isfinite(array)] = None
    return out.tolist()


def frame_picks(count: int, limit: int = MAX_FRAMES) -> list[int]:
    """Indices of the frames shown: all of them, or ``limit`` evenly spaced ones including the last."""
    if count <= limit:
        return list(range(count))
    return sorted({int(round(i * (count - 1) / (limit - 1))) for i in range(limit)})


def sprite(cells: np.ndarray, path: Path) -> dict:
    """Save uint8 ``[rows, cols, H, W, 3]`` as one PNG (cells edge to edge), each cell shrunk so
    its longest side is at most :data:`THUMB`; returns the cell size for the page."""
    rows, cols, h, w, _ = cells.shape
    scale = min(1.0, THUMB / max(h, w))
    ch, cw = max(1, round(h * scale)), max(1, round(w * scale))
    canvas = Image.new("RGB", (cols * cw, rows * ch))
    for i in range(rows):
        for j in range(cols):
            tile = Image.fromarray(np.ascontiguousarray(cells[i, j]))
            if (ch, cw) != (h, w):
                tile = tile.resize((cw, ch), Image.Resampling.BILINEAR)
            canvas.paste(tile, (j * cw, i * ch))
    canvas.save(path, format="PNG", optimize=False, compress_level=6)
    return {"file": path.name, "rows": rows, "cols": cols, "cell": [ch, cw]}


def to_uint8(x0_pixels: np.ndarray) -> np.ndarray:
    """Model-space pixels in [-1, 1] -> uint8."""
    return ((np.clip(np.asarray(x0_pixels, np.float32), -1, 1) + 1) * 127.5).round().astype(np.uint8)


def magma(values: np.ndarray, low: float, high: float, name: str = "magma") -> np.ndarray:
    """Colour ``values`` with a matplotlib colour map between ``low`` and ``high``; NaN (no token) is grey."""
    from matplotlib import colormaps

    table = (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)
    scaled = (np.asarray(values, np.float64) - low) / max(high - low, 1e-12)
    index = (np.clip(np.nan_to_num(scaled), 0, 1) * 255).round().astype(np.int64)
    out = table[index]
    out[~np.isfinite(values)] = 128
    return out


def map_sites(store) -> tuple[list[str], dict[str, str]]:
    """Sites that can be drawn as token maps, and the others with the reason they cannot."""
    maps, skipped = [], {}
    for site in store.sites():
        grid = store.token_grid(site)
        if (grid[:, 1:] < 0).any():
            skipped[site] = "pooled over space: no map"
        elif site == "x0" and _is_pixels(store):
            continue  # drawn as pictures
        else:
            maps.append(site)
    return maps, skipped


def _is_pixels(store) -> bool:
    if "x0" not in store.sites() or store.site_info("x0").get("tokens") != "all":
        return False
    return store.read(store.sample_ids()[0], "x0", steps=[int(store.steps()[0])], tokens=slice(0, 1)).shape[-1] == 3


def _grid_dims(grid: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(grid[:, i].max()) + 1 for i in range(3))


def sample_chunk(store, sample_id: str, folder: Path, sites: list[str], *, pixels: bool, probe_maps=None) -> dict:
    """Write one sample's sprites into ``folder``; return the data of its ``sample.js``."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = store.meta(sample_id)
    steps = [int(s) for s in store.steps()]
    sigmas = meta.get("sigmas") or []
    task = meta.get("task") if isinstance(meta.get("task"), dict) else {}
    out = {"id": sample_id, "seed": meta.get("seed"), "steps": steps,
           "sigmas": [float(s) for s in sigmas] if len(sigmas) == len(steps) else None,
           "task": _task_summary(task), "key": _palette_key(task), "sites": {}}
    if pixels:
        tokens = store.read(sample_id, "x0", steps=steps)  # [S, T, 3]
        f, h, w = _grid_dims(store.token_grid("x0"))
        picks = frame_picks(f)
        frames = to_uint8(tokens.reshape(len(steps), f, h, w, 3))[:, picks]
        out["x0"] = sprite(frames, folder / "x0.png") | {"frames": picks}
    try:
        video = store.video(sample_id)
    except Exception:  # stored without --video: the viewer shows x0_hat only
        video = None
    if video is not None:
        picks = frame_picks(len(video))
        out["video"] = sprite(video[None, picks], folder / "video.png") | {"frames": picks}
    for site in sites:
        out["sites"][site] = _site_maps(store, sample_id, site, steps, folder, probe_maps)
    return out


def _site_maps(store, sample_id: str, site: str, steps: list[int], folder: Path, probe_maps=None) -> dict:
    grid = store.token_grid(site)
    X = store.read(sample_id, site, steps=steps)  # [S, T, D], read once
    norms = np.stack([token_norms(x, grid) for x in X])  # [S, F, H, W]
    picks = frame_picks(norms.shape[1])
    finite_norms = norms[np.isfinite(norms)]
    low, high = (float(finite_norms.min()), float(finite_norms.max())) if finite_norms.size else (0.0, 1.0)
    pca = TokenPCA.fit(list(X))
    colours = np.stack([place(pca.colours(x), grid) for x in X])  # [S, F, H, W, 3] in [0, 1]
    name = site.replace("/", "_")
    norm_sprite = sprite(magma(norms[:, picks], low, high), folder / f"{name}.norm.png")
    pca_sprite = sprite((np.nan_to_num(colours[:, picks], nan=0.5) * 255).round().astype(np.uint8),
                        folder / f"{name}.pca.png")
    out = {"frames": picks, "norm": norm_sprite | {"frames": picks, "range": [round(low, 4), round(high, 4)]},
           "pca": pca_sprite | {"frames": picks, "explained": [round(float(e), 4) for e in pca.explained]},
           "mean_norm": finite(np.nanmean(norms, axis=(2, 3)))}  # [S, F]: for the labels under the maps
    if probe_maps is not None:
        values, per_step = probe_maps.scores(site, sample_id, X)
        labels = probe_maps.labels[site][sample_id]
        undefined = labels < 0 if probe_maps.kind == "class" else ~np.isfinite(labels)
        values = np.where(undefined[None, :], np.nan, values)  # grey where the target is not defined (e.g. walls)
        top = 1.0 if probe_maps.kind == "class" else float(np.nanmax([np.nanmax(v) for v in probe_maps.labels[site].values()]))
        placed = np.stack([place(v, grid) for v in values])[:, picks]
        out["probe"] = sprite(magma(placed, 0.0, top, "viridis"), folder / f"{name}.probe.png") | {
            "frames": picks, "range": [0.0, round(top, 4)], "score": finite(per_step)}
    return out


def _task_summary(task: dict) -> dict:
    """What the page says about a sample's task: maze size and seed, prompt, folder."""
    maze = task.get("maze") if isinstance(task.get("maze"), dict) else {}
    out = {k: task[k] for k in ("prompt", "folder", "palette") if isinstance(task.get(k), str)}
    for key in ("size", "seed"):
        if isinstance(maze.get(key), int):
            out[f"maze_{key}"] = maze[key]
    return out


def _palette_key(task: dict) -> list | None:
    """The maze palette's label colours, the colour key of x0_hat pictures of a maze task."""
    if not isinstance(task.get("maze"), dict):
        return None
    from interp.tasks.render import LABELS, PALETTES

    palette = PALETTES.get(str(task.get("palette", "default")))
    return None if palette is None else [[name, "#%02x%02x%02x" % tuple(palette[name])] for name in LABELS]


def colormap_stops(name: str, n: int = 32) -> list[str]:
    """``n`` hex colours along a matplotlib colour map, for keys and heatmaps drawn by the page."""
    from matplotlib import colormaps

    rgb = (colormaps[name](np.linspace(0, 1, n))[:, :3] * 255).round().astype(int)
    return ["#%02x%02x%02x" % tuple(c) for c in rgb]


def store_manifest(store, sites: list[str], skipped: dict[str, str], *, pixels: bool) -> dict:
    """Everything the page knows before a sample is picked: samples, sites, steps, model."""
    from interp.sites import Site

    kinds: dict[str, list[int]] = {}
    for site in sites:
        parsed = Site.parse(site)
        kinds.setdefault(parsed.kind, []).append(parsed.layer if parsed.layer is not None else -1)
    samples = []
    for sample_id in store.sample_ids():
        task = store.meta(sample_id).get("task")
        summary = _task_summary(task if isinstance(task, dict) else {})
        samples.append({"id": sample_id} | {k: v for k, v in summary.items() if k.startswith("maze_")})
    return {"store": store.path.name, "model": store.attrs.get("model_name"), "fingerprint": store.attrs.get("fingerprint"),
            "created": store.attrs.get("created"), "steps": [int(s) for s in store.steps()],
            "sites": sites, "kinds": {k: sorted(v) for k, v in kinds.items()}, "skipped_sites": skipped,
            "x0_pixels": pixels, "samples": samples,
            "colormaps": {"magma": colormap_stops("magma"), "RdBu_r": colormap_stops("RdBu_r"),
                          "viridis": colormap_stops("viridis")}}
