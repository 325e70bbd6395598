"""Token maps of one traced sample: where activation energy sits, and what it looks like.

What the paper's tool draws, from a trace store instead of live hooks:

* **norm maps** (``norm_layer{L}.png``): per-token L2 norm on the (frame, h, w) grid; rows are
  steps, columns frames; one colour scale per layer, so steps compare;
* **PCA colour maps** (``pca_layer{L}.png``, and ``pca_layer{L}.gif`` over steps): the top 3 principal components of a layer's tokens
  as RGB. The PCA and the colour range are fitted **once per layer over all steps and frames**,
  so a colour means the same direction in activation space in every cell of the figure;
* **layer x frame grids** (``layer_frame_step{S}.png``): norm maps of every chosen layer at one
  step, one colour scale per row;
* **temporal energy** (``energy.png``): mean token norm per frame, one curve per step, a panel
  per layer;
* **norm vs step** (``norm_vs_step.png``): mean token norm per layer over the steps.

``maps.json`` holds the numbers behind the curves.

Example:
    >>> import numpy as np
    >>> grid = np.stack(np.meshgrid(range(2), range(3), range(3), indexing="ij"), -1).reshape(-1, 3)
    >>> X = np.ones((18, 4))
    >>> token_norms(X, grid).shape, float(token_norms(X, grid)[0, 0, 0])
    ((2, 3, 3), 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from interp.errors import InputError
from interp.outputs import save_image, write_json
from interp.viz.figure import finish, pyplot
from interp.sites import template_kind

#: The files :func:`sample_maps` writes (patterns), for the output check before a run.
OUTPUTS = ("norm_layer*.png", "pca_layer*.png", "pca_layer*.gif", "layer_frame_step*.png", "energy.png",
           "norm_vs_step.png", "maps.json")


def _grid_shape(grid: np.ndarray) -> tuple[int, int, int]:
    grid = np.asarray(grid)
    if grid.ndim != 2 or grid.shape[1] != 3:
        raise InputError(f"token grid must be [T, 3] (frame, h, w), got shape {grid.shape}")
    if (grid[:, 1:] < 0).any():
        raise InputError("these tokens were pooled over space (h, w = -1): spatial maps need a site "
                         "captured with tokens 'all', 'stride:N' or 'pool:K'")
    return tuple(int(grid[:, j].max()) + 1 for j in range(3))


def place(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Put per-token values ``[T, ...]`` on the token grid -> ``[F, H, W, ...]`` (NaN where absent).

    Strided or pooled stores keep grid indices in token units of their own, so the result is as
    dense as the stored tokens allow.
    """
    grid = np.asarray(grid)
    _grid_shape(grid)  # validates: no pooled spatial axis
    # compact strided coordinates (stride:N keeps h = 0, N, 2N...) onto consecutive cells
    axes = [np.unique(grid[:, j], return_inverse=True) for j in range(3)]
    shape = tuple(len(a[0]) for a in axes)
    out = np.full(shape + values.shape[1:], np.nan, dtype=np.float64)
    out[axes[0][1], axes[1][1], axes[2][1]] = values
    return out


def token_norms(X: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Per-token L2 norm of ``X`` ``[T, D]`` placed on the grid: ``[F, H, W]``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != len(grid):
        raise InputError(f"activations of shape {X.shape} do not match {len(grid)} tokens of the grid")
    return place(np.linalg.norm(X, axis=-1), grid)


def frame_energy(X: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Mean token L2 norm per frame ``[F]`` (works for pooled tokens too)."""
    X = np.asarray(X, dtype=np.float64)
    frames = np.asarray(grid)[:, 0]
    norms = np.linalg.norm(X, axis=-1)
    return np.array([norms[frames == f].mean() for f in np.unique(frames)])


@dataclass
class TokenPCA:
    """A 3-component PCA with a fixed colour range, fitted once on many token sets.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> steps = [rng.normal(size=(50, 8)) for _ in range(3)]
        >>> pca = TokenPCA.fit(steps)
        >>> rgb = pca.colours(steps[0])
        >>> rgb.shape, bool(rgb.min() >= 0 and rgb.max() <= 1)
        ((50, 3), True)
    """

    mean: np.ndarray
    components: np.ndarray  # [3, D]
    low: np.ndarray  # [3] colour range per component
    high: np.ndarray
    explained: np.ndarray  # [3] share of variance

    @classmethod
    def fit(cls, token_sets: Sequence[np.ndarray], *, n_components: int = 3, clip: float = 1.0) -> TokenPCA:
        """Fit on the union of ``token_sets`` (each ``[T, D]``); colours span the
        ``clip``..``100-clip`` percentiles of the projections, so outliers do not wash it out."""
        X = np.concatenate([np.asarray(x, np.float64) for x in token_sets])
        mean = X.mean(0)
        Xc = X - mean
        values, vectors = np.linalg.eigh(Xc.T @ Xc)
        order = np.argsort(values)[::-1][:n_components]
        comps = vectors[:, order].T
        # fix each sign so that the largest loading is positive: colours do not flip between runs
        signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])
        comps = comps * signs[:, None]
        proj = Xc @ comps.T
        low, high = np.percentile(proj, [clip, 100 - clip], axis=0)
        total = max(values.sum(), 1e-30)
        if len(comps) < 3:  # fewer features than colours: pad with flat channels
            pad = 3 - len(comps)
            comps = np.vstack([comps, np.zeros((pad, X.shape[1]))])
            low, high = np.append(low, [0] * pad), np.append(high, [1] * pad)
        return cls(mean, comps, low, high, values[order] / total)

    def colours(self, X: np.ndarray) -> np.ndarray:
        """RGB in [0, 1] per token ``[T, 3]``."""
        proj = (np.asarray(X, np.float64) - self.mean) @ self.components.T
        return np.clip((proj - self.low) / np.maximum(self.high - self.low, 1e-12), 0.0, 1.0)


def _figure(rows: int, cols: int, cell: float = 1.3):
    fig, axes = pyplot().subplots(rows, cols, figsize=(cols * cell + 1.2, rows * cell + 0.6), squeeze=False,
                                  layout="constrained")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def _save(fig, path: Path) -> Path:
    return finish(fig, path, dpi=110, bbox_inches="tight", tight=False)


SCALES = ("layer", "step")


def plot_step_frame_maps(maps: np.ndarray, steps: Sequence[int], path: Path, *, title: str, rgb: bool = False,
                         scale: str = "layer") -> Path:
    """Grid of maps ``[S, F, H, W]`` (or ``[S, F, H, W, 3]`` when ``rgb``): rows steps, columns frames.

    ``scale="layer"``: one colour scale for the whole figure, so steps compare; ``"step"``: one
    per row (with its own colour bar), so a step whose norms are small is not drawn black.
    """
    if scale not in SCALES:
        raise InputError(f"unknown colour scale {scale!r}: valid are {', '.join(SCALES)}")
    S, F_ = maps.shape[:2]
    fig, axes = _figure(S, F_)
    for i in range(S):
        row = maps if scale == "layer" else maps[i]
        vmin, vmax = (None, None) if rgb else (np.nanmin(row), np.nanmax(row))
        image = None
        for f in range(F_):
            ax = axes[i, f]
            image = ax.imshow(np.nan_to_num(maps[i, f]) if rgb else maps[i, f], vmin=vmin, vmax=vmax,
                              cmap=None if rgb else "magma", interpolation="nearest")
            if i == 0:
                ax.set_title(f"frame {f}", fontsize=8)
            if f == 0:
                ax.set_ylabel(f"step {steps[i]}", fontsize=8)
        if not rgb and scale == "step":
            fig.colorbar(image, ax=axes[i, :], shrink=0.9, aspect=8).ax.tick_params(labelsize=6)
    if not rgb and scale == "layer":
        fig.colorbar(image, ax=axes, shrink=0.6, label="token L2 norm")
    if not rgb:
        title += "\n(colour: token L2 norm; " + ("one scale for all steps)" if scale == "layer" else "one scale per step)")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def steps_animation(maps: np.ndarray, path: Path, *, steps: Sequence[int] | None = None, title: str = "",
                    cell: int = 96, ms_per_step: int = 400) -> Path:
    """GIF over steps of RGB maps ``[S, F, H, W, 3]`` in [0, 1]: each animation frame shows the
    video's frames side by side at one step (the PCA colours are the same across steps), under a
    header naming ``title``, the step and the frames."""
    from PIL import Image, ImageDraw

    S, F_, H, W, _ = maps.shape
    steps = list(range(S)) if steps is None else list(steps)
    scale = max(1, cell // max(H, W))
    pad, header = 2, 40
    width = max(F_ * (W * scale + pad) - pad, 320)
    images = []
    for i in range(S):
        canvas = np.full((header + H * scale, width, 3), 255, np.uint8)
        for f in range(F_):
            tile = (np.nan_to_num(maps[i, f]) * 255).round().astype(np.uint8)
            tile = tile.repeat(scale, 0).repeat(scale, 1)
            x = f * (W * scale + pad)
            canvas[header:, x:x + W * scale] = tile
        image = Image.fromarray(canvas)
        draw = ImageDraw.Draw(image)
        draw.text((2, 1), title, fill=(0, 0, 0))
        draw.text((2, 13), f"step {steps[i]} ({i + 1} of {S})", fill=(0, 0, 0))
        for f in range(F_):
            draw.text((f * (W * scale + pad) + 2, 26), f"frame {f}", fill=(0, 0, 0))
        images.append(image)
    return save_image(images[0], path, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_step,
                      loop=0, optimize=False)


def plot_layer_frame(norms: dict[int, np.ndarray], step: int, path: Path) -> Path:
    """Layers x frames grid of norm maps at one step (``norms[layer]`` is ``[F, H, W]``)."""
    layers = sorted(norms)
    F_ = norms[layers[0]].shape[0]
    fig, axes = _figure(len(layers), F_)
    for i, layer in enumerate(layers):
        vmin, vmax = np.nanmin(norms[layer]), np.nanmax(norms[layer])
        for f in range(F_):
            axes[i, f].imshow(norms[layer][f], vmin=vmin, vmax=vmax, cmap="magma", interpolation="nearest")
            if i == 0:
                axes[i, f].set_title(f"frame {f}", fontsize=8)
        axes[i, 0].set_ylabel(f"layer {layer}", fontsize=8)
    fig.suptitle(f"token norm, layers x frames, step {step} (one colour scale per row)", fontsize=10)
    return _save(fig, path)


def plot_energy(energy: dict[int, np.ndarray], steps: Sequence[int], path: Path, *, title: str = "") -> Path:
    """Mean token norm per frame: a panel per layer, one curve per step (dark = early)."""
    import matplotlib.ticker

    plt = pyplot()

    layers = sorted(energy)
    cols = min(4, len(layers))
    rows = -(-len(layers) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False, layout="constrained")
    cmap = plt.get_cmap("viridis")
    for k, layer in enumerate(layers):
        ax = axes.ravel()[k]
        for i, step in enumerate(steps):
            ax.plot(energy[layer][i], color=cmap(i / max(1, len(steps) - 1)), lw=1, label=f"step {step}")
        ax.set_title(f"layer {layer}", fontsize=9)
        ax.set_xticks(range(energy[layer].shape[1]))
        ax.set_xlabel("frame", fontsize=8)
        ax.set_ylabel("mean token L2 norm", fontsize=8)
    for ax in axes.ravel()[len(layers):]:
        ax.axis("off")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(min(steps), max(steps)))
    bar = fig.colorbar(sm, ax=axes, shrink=0.7, label="denoising step")
    bar.ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.suptitle(f"{title}mean token norm per frame, one curve per step (n = 1 sample)", fontsize=10)
    return _save(fig, path)


def plot_norm_vs_step(energy: dict[int, np.ndarray], steps: Sequence[int], path: Path, *, title: str = "") -> Path:
    """Mean token norm (over frames and tokens) per layer, against the denoising step."""
    import matplotlib.ticker

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6.5, 3.5), layout="constrained")
    cmap = plt.get_cmap("plasma")
    layers = sorted(energy)
    for k, layer in enumerate(layers):
        ax.plot(steps, energy[layer].mean(1), marker="o", ms=3, lw=1.2,
                color=cmap(k / max(1, len(layers) - 1)), label=f"layer {layer}")
    ax.set_xlabel("denoising step")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("mean token L2 norm")
    ax.set_title(f"{title}mean token norm per layer over the steps (n = 1 sample)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # beside, not over, the data
    return _save(fig, path)


def sample_maps(store, sample_id: str, out_dir: str | Path, *, layers: Sequence[int] | None = None,
                steps: Sequence[int] | None = None, branch: str | None = None,
                site_template: str = "blocks.{layer}.resid_post", grid_steps: Sequence[int] | None = None,
                progress: bool = True, norm_scale: str = "layer") -> dict[str, Path]:
    """Draw every map of one sample into ``out_dir``; returns name -> PNG/JSON path.

    Args:
        store: an open :class:`interp.store.TraceStore`.
        sample_id: the sample to draw.
        layers, steps: subsets (default: all captured).
        branch: guidance branch (default: the site's first, ``cond``).
        site_template: which site kind to draw.
        grid_steps: steps that get a layer x frame grid (default: first, middle and last).
        progress: show a tqdm bar over layers.
        norm_scale: ``"layer"`` (one colour scale per norm figure) or ``"step"`` (one per row).
    """
    from tqdm.auto import tqdm

    if norm_scale not in SCALES:
        raise InputError(f"unknown colour scale {norm_scale!r}: valid are {', '.join(SCALES)}")
    if "{layer}" not in site_template:
        raise InputError(f"site template {site_template!r} needs a '{{layer}}' field")
    kind = template_kind(site_template)
    all_layers = store.layers(kind)
    if not all_layers:
        raise InputError(f"the store has no {kind!r} layers; its sites are {store.sites()}")
    layers = list(all_layers if layers is None else layers)
    bad = [l for l in layers if l not in all_layers]
    if bad:
        raise InputError(f"unknown layers {bad}: the store has layers {all_layers}")
    captured = [int(s) for s in store.steps()]
    steps = list(captured if steps is None else [int(s) for s in steps])
    bad = [s for s in steps if s not in captured]
    if bad:
        raise InputError(f"unknown steps {bad}: the store has steps {captured}")
    if sample_id not in store.sample_ids():
        shown = ", ".join(store.sample_ids()[:5])
        raise InputError(f"unknown sample {sample_id!r}: the store has {shown}{' ...' if len(store) > 5 else ''}")
    if grid_steps is None:
        grid_steps = sorted({steps[0], steps[len(steps) // 2], steps[-1]})
    bad = [s for s in grid_steps if s not in steps]
    if bad:
        raise InputError(f"grid steps {bad} are not among the drawn steps {steps}")
    grid = store.token_grid(site_template.format(layer=layers[0]))
    _grid_shape(grid)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    paths: dict[str, Path] = {}
    energy: dict[int, np.ndarray] = {}
    at_step: dict[int, dict[int, np.ndarray]] = {s: {} for s in grid_steps}
    explained: dict[int, list[float]] = {}
    for layer in tqdm(layers, desc="token maps", disable=not progress):
        site = site_template.format(layer=layer)
        X = store.read(sample_id, site, branch=branch, steps=steps)  # [S, T, D]
        norms = np.stack([token_norms(x, grid) for x in X])
        energy[layer] = np.stack([frame_energy(x, grid) for x in X])
        for s in grid_steps:
            at_step[s][layer] = norms[steps.index(s)]
        pca = TokenPCA.fit(list(X))
        explained[layer] = pca.explained.tolist()
        colours = np.stack([place(pca.colours(x), grid) for x in X])
        paths[f"norm_layer{layer}"] = plot_step_frame_maps(
            norms, steps, out / f"norm_layer{layer}.png", title=f"{sample_id}: token norm, layer {layer}",
            scale=norm_scale)
        paths[f"pca_layer{layer}"] = plot_step_frame_maps(
            colours, steps, out / f"pca_layer{layer}.png", rgb=True,
            title=f"{sample_id}: PCA colours, layer {layer} (one PCA for all steps; "
                  f"{100 * sum(pca.explained):.0f}% of variance)")
        paths[f"pca_layer{layer}_gif"] = steps_animation(
            colours, out / f"pca_layer{layer}.gif", steps=steps,
            title=f"{sample_id}: PCA colours of layer {layer} (one PCA for all steps)")
    for s in grid_steps:
        paths[f"layer_frame_step{s}"] = plot_layer_frame(at_step[s], s, out / f"layer_frame_step{s}.png")
    paths["energy"] = plot_energy(energy, steps, out / "energy.png", title=f"{sample_id}: ")
    paths["norm_vs_step"] = plot_norm_vs_step(energy, steps, out / "norm_vs_step.png", title=f"{sample_id}: ")
    summary = {
        "sample_id": sample_id, "site_template": site_template, "branch": branch, "layers": layers,
        "steps": steps, "frame_energy": {str(l): energy[l].tolist() for l in layers},
        "pca_explained": {str(l): explained[l] for l in layers},
    }
    paths["json"] = out / "maps.json"
    write_json(paths["json"], summary, indent=1)
    return paths
