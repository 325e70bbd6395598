"""A trace store with known answers: planted signals, written through the store's own writer.

Used to check that a sweep finds what is there (and nothing else) and to benchmark sweeps at a
chosen scale without running a model. Layer ``l`` of :data:`PLANTED` carries one target's map
along feature ``l`` (strength growing with the step, as a denoiser commits), every other layer
is Gaussian noise; the ``x0`` site holds the ground-truth video in model space ``[-1, 1]``, so
the final output decodes to the true labels.

Example:
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/planted.h5"
    >>> mazes = write_planted_store(path, n_samples=3, layers=(0, 1), steps=(0,))
    >>> from interp.store import TraceStore
    >>> TraceStore.open(path).layers()
    [0, 1]
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from probes.targets import unit_targets

#: layer -> the target whose map is planted there
PLANTED = {0: "wall", 1: "route"}


def planted_features(maze, rng: np.random.Generator, layer: int, step: int, *, frames: int, width: int,
                     strength: float = 2.0) -> np.ndarray:
    """``[frames * U * U, width]`` float16 activations of one block for one maze."""
    U = maze.units
    x = rng.standard_normal((frames, U, U, width), dtype=np.float32)
    name = PLANTED.get(layer)
    if name is not None:
        signal = (unit_targets(maze)[name] == 1).astype(np.float32)
        x[..., layer % width] += (1.0 + step) * strength * (signal - 0.5)
    return x.reshape(-1, width).astype(np.float16)


def write_planted_store(path, *, n_samples: int = 8, size: int = 4, frames: int = 3, width: int = 16,
                        layers=(0, 1, 2), steps=(0, 1), branches=("cond",), px_per_unit: int = 2,
                        seed: int = 0, progress: bool = False) -> list:
    """Write a planted store at ``path``; returns the mazes in sample order."""
    from interp.store import TraceWriter
    from interp.tasks import generate_maze, ground_truth_video

    U = 2 * size + 1
    sites = {f"blocks.{l}.resid_post": {"kind": "resid_post", "layer": int(l), "branches": list(branches)}
             for l in layers}
    sites["x0"] = {"kind": "x0", "layer": None, "branches": ["guided"]}
    spec = {"sites": sites, "steps": [int(s) for s in steps]}

    def grid(h: int) -> np.ndarray:
        axes = np.meshgrid(np.arange(frames), np.arange(h), np.arange(h), indexing="ij")
        return np.stack(axes, -1).reshape(-1, 3)

    rng = np.random.default_rng(seed)
    mazes = []
    with TraceWriter(path, model_name="planted", fingerprint=f"planted-{seed}", spec=spec) as store:
        for i in tqdm(range(n_samples), desc="writing planted store", disable=not progress):
            maze = generate_maze(size, seed=seed * 100_000 + i)
            mazes.append(maze)
            sample = store.begin(f"maze{i:04d}", seed=i, task=maze.to_dict())
            for site in sites:
                sample.set_token_grid(site, grid(U * px_per_unit) if site == "x0" else grid(U))
            video = ground_truth_video(maze, frames, px_per_unit=px_per_unit).astype(np.float32) / 127.5 - 1.0
            for step in steps:
                for l in layers:
                    for b in branches:
                        x = planted_features(maze, rng, l, step, frames=frames, width=width)
                        sample.write(f"blocks.{l}.resid_post", b, step, x)
                sample.write("x0", "guided", step, video.reshape(-1, 3).astype(np.float16))
            sample.commit()
    return mazes
