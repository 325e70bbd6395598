"""Read a trace store lazily: slices come from disk on demand, never the whole file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from interp.errors import InputError, check_choice
from interp.sites import template_kind
from interp.store import layout


class TraceStore:
    """Read-only view of a trace store written by :class:`~interp.store.TraceWriter`.

    Only completed samples are visible. Arrays are read per request with h5py, so a store far
    larger than memory is fine. Also a context manager.

    Example:
        >>> store = TraceStore.open("trace.h5")                      # doctest: +SKIP
        >>> store.sites()                                           # doctest: +SKIP
        ['blocks.0.resid_post', 'blocks.1.resid_post', 'x0']
        >>> x = store.read(store.sample_ids()[0], "blocks.1.resid_post", steps=[0, 5])  # doctest: +SKIP
        >>> x.shape                                                 # [step, token, dim] # doctest: +SKIP
        (2, 726, 384)
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"no trace store at {self.path}: the file does not exist")
        try:
            with h5py.File(self.path, "r") as f:
                self.attrs: dict[str, Any] = {k: _plain(v) for k, v in f.attrs.items()}
                ids = f["sample_ids"][()]
                # A merged index (see interp.store.shards) names each sample's file explicitly.
                files = f["sample_files"][()] if "sample_files" in f else None
        except (OSError, KeyError) as err:
            raise InputError(f"{self.path} is not a trace store ({err})") from err
        if "spec" not in self.attrs:
            raise InputError(f"{self.path} is not a trace store (no 'spec' attribute)")
        self._ids = [s.decode() if isinstance(s, bytes) else str(s) for s in ids]
        self._paths = {
            sample_id: (layout.sample_path(self.path, sample_id) if files is None
                        else self.path.parent / (files[i].decode() if isinstance(files[i], bytes) else str(files[i])))
            for i, sample_id in enumerate(self._ids)
        }
        self.spec: dict = json.loads(self.attrs["spec"])
        self._sites: dict[str, dict] = self.spec["sites"]
        self._steps = np.asarray(self.spec["steps"], dtype=np.int64)
        self._files: dict[str, h5py.File] = {}

    @classmethod
    def open(cls, path: str | os.PathLike) -> TraceStore:
        """Open the store at ``path`` read-only."""
        return cls(path)

    # -- what is in it ---------------------------------------------------------------------
    def sample_ids(self) -> list[str]:
        """Completed samples, in write order."""
        return list(self._ids)

    def sites(self) -> list[str]:
        """Captured site names in the order a step reaches them (:meth:`interp.sites.Site.order`):
        ``x_t``, then blocks by layer, then ``velocity`` and ``x0``."""
        from interp.sites import Site

        return sorted(self._sites, key=lambda name: Site.parse(name).order())

    def layers(self, kind: str = "resid_post") -> list[int]:
        """Block indices captured for a site kind (``resid_post``, ``attn1.out``, ...)."""
        return sorted(int(i["layer"]) for i in self._sites.values() if i.get("kind") == kind and i.get("layer") is not None)

    def steps(self, sample_id: str | None = None) -> np.ndarray:
        """Captured denoising step indices (the same for every sample of a store)."""
        if sample_id is not None:
            f = self._file(sample_id)
            with self._damaged(sample_id):
                return f["steps"][()]
        return self._steps.copy()

    def branches(self, site: str) -> list[str]:
        """Branches stored for ``site``; the first is the default of :meth:`read`."""
        return list(self._site(site)["branches"])

    def meta(self, sample_id: str) -> dict:
        """Seed, task metadata and run settings of a sample, plus its per-step schedule."""
        f = self._file(sample_id)
        with self._damaged(sample_id):
            out = {"sample_id": sample_id, "seed": int(f.attrs["seed"]), "task": json.loads(f.attrs["task"])}
            out.update(json.loads(f.attrs["meta"]))
            for name in ("sigmas", "timesteps", "experts"):
                if name in f:
                    values = f[name][()]
                    out[name] = [v.decode() if isinstance(v, bytes) else v for v in values.tolist()]
        return out

    def token_grid(self, site: str) -> np.ndarray:
        """``[T, 3]`` array of ``(frame, h, w)`` per stored token; ``-1`` marks a pooled axis."""
        self._site(site)
        if not self._ids:
            raise InputError(f"{self.path} holds no completed sample yet")
        f = self._file(self._ids[0])
        with self._damaged(self._ids[0]):
            return f[f"sites/{site}/token_grid"][()]

    def site_info(self, site: str) -> dict:
        """How ``site`` was captured: kind, layer, token reduction, branches."""
        return dict(self._site(site))

    # -- reading -------------------------------------------------------------------------
    def video(self, sample_id: str) -> np.ndarray:
        """The decoded final video of ``sample_id``, uint8 ``[F, H, W, 3]``."""
        f = self._file(sample_id)
        if "video" not in f:
            raise InputError(f"sample {sample_id!r} has no stored video (it was captured with --no-video)")
        with self._damaged(sample_id):
            return f["video"][()]

    def read(
        self,
        sample_id: str,
        site: str,
        *,
        branch: str | None = None,
        steps: Sequence[int] | None = None,
        tokens: Sequence[int] | slice | None = None,
        torch: bool = False,
        dtype: Any = np.float32,
    ):
        """Read ``[step, token, dim]`` of one sample and site.

        Args:
            sample_id: a completed sample.
            site: a captured site name.
            branch: ``"cond"``, ``"uncond"`` or ``"guided"``; ``None`` takes the site's first
                branch (``cond`` for blocks, ``guided`` for ``x_t``/``velocity``/``x0``).
            steps: denoising step indices to read (default: all captured).
            tokens: token indices or a slice into the stored tokens (default: all).
            torch: return a ``torch.Tensor`` instead of a numpy array.
            dtype: output dtype (default float32); ``None`` keeps the stored dtype.
        """
        dataset = self._dataset(sample_id, site, branch)
        rows = self._rows(steps)
        with self._damaged(sample_id):
            data = dataset[rows] if rows is not None else dataset[()]
        if tokens is not None:
            data = data[:, tokens]
        if dtype is not None:
            data = data.astype(dtype, copy=False)
        if torch:
            import torch as _torch

            return _torch.from_numpy(np.ascontiguousarray(data))
        return data

    def iter_blocks(
        self,
        site_template: str = "blocks.{layer}.resid_post",
        *,
        layers: Sequence[int] | None = None,
        steps: Sequence[int] | None = None,
        branch: str = "cond",
        sample_ids: Sequence[str] | None = None,
        dtype: Any = np.float32,
    ) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(layer, step, X)`` with ``X`` shaped ``[N_samples, T, D]``, one chunk per sample.

        Layers default to every captured layer of the template's site kind, steps to every
        captured step, samples to every completed sample.
        """
        kind = template_kind(site_template)
        layers = list(self.layers(kind) if layers is None else layers)
        ids = list(self._ids if sample_ids is None else sample_ids)
        for sample_id in ids:
            self._check_sample(sample_id)
        step_list = [int(s) for s in (self._steps if steps is None else steps)]
        rows = self._rows(step_list)
        for layer in layers:
            site = site_template.format(layer=layer)
            datasets = [self._dataset(sample_id, site, branch) for sample_id in ids]
            for step, row in zip(step_list, rows):
                stack = np.stack([self._row(sample_id, d, row) for sample_id, d in zip(ids, datasets)]) \
                    if datasets else np.empty((0,))
                yield layer, step, (stack.astype(dtype, copy=False) if dtype is not None else stack)

    # -- plumbing ------------------------------------------------------------------------
    def _site(self, site: str) -> dict:
        check_choice("site", site, list(self._sites))
        return self._sites[site]

    def _check_sample(self, sample_id: str) -> None:
        if sample_id not in self._ids:
            shown = ", ".join(self._ids[:5]) + (" ..." if len(self._ids) > 5 else "")
            raise InputError(f"unknown sample {sample_id!r}: completed samples are {shown or 'none'}")

    def _file(self, sample_id: str) -> h5py.File:
        self._check_sample(sample_id)
        if sample_id not in self._files:
            path = self._paths[sample_id]
            if not path.is_file():
                raise InputError(f"sample {sample_id!r} is listed in {self.path} but its file {path} is missing")
            with self._damaged(sample_id):
                self._files[sample_id] = h5py.File(path, "r")
        return self._files[sample_id]

    @contextmanager
    def _damaged(self, sample_id: str):
        """A sample file that cannot be read (truncated, overwritten) is an :class:`InputError` naming it."""
        try:
            yield
        except (OSError, KeyError) as err:
            raise InputError(f"the file of sample {sample_id!r}, {self._paths[sample_id]}, is damaged or "
                             f"incomplete ({type(err).__name__}: {err})") from None

    def _dataset(self, sample_id: str, site: str, branch: str | None) -> h5py.Dataset:
        branches = self.branches(site)
        branch = branches[0] if branch is None else branch
        check_choice(f"branch of {site}", branch, branches)
        f = self._file(sample_id)
        with self._damaged(sample_id):
            return f[f"sites/{site}/{branch}"]

    def _row(self, sample_id: str, dataset: h5py.Dataset, row: int) -> np.ndarray:
        with self._damaged(sample_id):
            return dataset[row]

    def _rows(self, steps: Sequence[int] | None) -> list[int] | None:
        if steps is None:
            return None
        index = {int(s): i for i, s in enumerate(self._steps)}
        rows = []
        for step in steps:
            if int(step) not in index:
                raise InputError(f"step {step} was not captured: captured steps are {self._steps.tolist()}")
            rows.append(index[int(step)])
        return rows

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self._ids

    def __repr__(self) -> str:
        return f"TraceStore({str(self.path)!r}, samples={len(self._ids)}, sites={len(self._sites)}, steps={len(self._steps)})"


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value
