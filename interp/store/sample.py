"""One sample of a trace store being written: its datasets, its crash-safe commit (see :mod:`interp.store.writer`)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from interp.errors import InputError
from interp.store import layout

if TYPE_CHECKING:
    from interp.store.writer import TraceWriter


def to_json(value: Any) -> str:
    """JSON with numpy scalars and arrays turned into plain Python values."""

    def default(obj):
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"cannot store {type(obj).__name__} as JSON")

    return json.dumps(value, sort_keys=True, default=default)


class SampleWriter:
    """Writes one sample's datasets; :meth:`commit` makes it visible, :meth:`abort` drops it.

    Per-site datasets are created at their first write, shaped ``[step, token, dim]`` and chunked
    one step per chunk, so memory stays bounded by one ``[token, dim]`` slab however many steps
    and sites are captured.
    """

    def __init__(self, store: TraceWriter, sample_id: str, *, seed, task: dict, meta: dict) -> None:
        self.store = store
        self.sample_id = sample_id
        self.final = layout.sample_path(store.path, sample_id)
        self.tmp = self.final.with_name(self.final.name + layout.TEMP_SUFFIX)
        self.steps = [int(s) for s in store.spec["steps"]]
        self._position = {step: i for i, step in enumerate(self.steps)}
        self._sites = store.spec["sites"]
        self._written: set[tuple[str, str, int]] = set()
        self._nonfinite: list[str] = []
        self._unsynced = 0
        self._sync_wanted = threading.Event()
        self._syncer: threading.Thread | None = None
        self._closing = False
        store._in_flight.add(self.tmp)
        self.file = h5py.File(self.tmp, "w")
        a = self.file.attrs
        a["sample_id"] = sample_id
        a["seed"] = -1 if seed is None else int(seed)
        a["task"] = to_json(task)
        a["meta"] = to_json(meta)
        a["fingerprint"] = store.attrs["fingerprint"]
        a["spec"] = store.attrs["spec"]
        a["complete"] = False
        self.file.create_dataset("steps", data=np.asarray(self.steps, dtype=np.int64))

    def set_schedule(self, **arrays) -> None:
        """Store per-step arrays such as ``sigmas``, ``timesteps`` or ``experts`` (strings)."""
        for name, values in arrays.items():
            values = list(values) if not isinstance(values, np.ndarray) else values
            if len(values) and isinstance(values[0], str):
                self.file.create_dataset(name, data=np.array(values, dtype=object), dtype=h5py.string_dtype())
            else:
                values = np.asarray(values)
                self._check_finite(name, values)
                self.file.create_dataset(name, data=values)

    def set_token_grid(self, site: str, grid: np.ndarray) -> None:
        """Store the ``(frame, h, w)`` of each stored token of ``site`` (``-1`` on pooled axes)."""
        self._group(site).create_dataset("token_grid", data=np.asarray(grid, dtype=np.int32))

    def write(self, site: str, branch: str, step: int, values: np.ndarray) -> None:
        """Write one ``[token, dim]`` slab of ``site`` / ``branch`` at denoising step ``step``."""
        if site not in self._sites or branch not in self._sites[site]["branches"]:
            raise KeyError(f"{site}/{branch} is not in this store's capture spec")
        position = self._position[int(step)]
        group = self._group(site)
        if branch not in group:
            group.create_dataset(
                branch,
                shape=(len(self.steps),) + values.shape,
                dtype=values.dtype,
                chunks=(1,) + values.shape,
                compression=self.store.compression,
            )
        dataset = group[branch]
        if self.store.compression is None and values.dtype == dataset.dtype and values.flags.c_contiguous:
            # A slab is exactly one chunk: hand its bytes to HDF5 without selection or conversion.
            dataset.id.write_direct_chunk((position,) + (0,) * values.ndim, values)
        else:
            dataset[position] = values
        self._check_finite(f"{site}/{branch}@step{step}", values)
        self._written.add((site, branch, position))
        self._unsynced += values.nbytes
        if self.store.sync_bytes and self._unsynced >= self.store.sync_bytes:
            self._unsynced = 0
            self._request_sync()

    def _check_finite(self, what: str, values: np.ndarray) -> None:
        if values.dtype.kind in "fc" and not self.store.allow_nonfinite and not np.isfinite(values).all():
            self._nonfinite.append(what)

    def missing(self) -> list[str]:
        """Slabs the spec asks for that have not been written yet."""
        out = []
        for site, info in self._sites.items():
            for branch in info["branches"]:
                for position, step in enumerate(self.steps):
                    if (site, branch, position) not in self._written:
                        out.append(f"{site}/{branch}@step{step}")
        return out

    def _request_sync(self) -> None:
        """Ask a background thread to flush the file's dirty pages while writing goes on."""
        if self._syncer is None:
            fd = self.file.id.get_vfd_handle()

            def run():
                while True:
                    self._sync_wanted.wait()
                    self._sync_wanted.clear()
                    if self._closing:
                        return
                    os.fdatasync(fd)

            self._syncer = threading.Thread(target=run, name="trace-sync", daemon=True)
            self._syncer.start()
        self._sync_wanted.set()

    def _stop_syncer(self) -> None:
        if self._syncer is not None:
            self._closing = True
            self._sync_wanted.set()
            self._syncer.join()
            self._syncer = None

    def commit(self) -> None:
        """Flush, mark complete, sync and rename into place, then list the sample in the index."""
        missing = self.missing()
        if missing:
            self.abort()
            raise RuntimeError(f"sample {self.sample_id} is missing {len(missing)} slabs, e.g. {missing[:3]}")
        if self._nonfinite:
            self.abort()
            raise InputError(
                f"sample {self.sample_id!r} was not stored: {len(self._nonfinite)} of its arrays hold NaN or "
                f"infinite values (first {', '.join(self._nonfinite[:3])}); check the run's settings "
                "(shift, guidance) or allow non-finite values explicitly"
            )
        self._stop_syncer()
        self.file.attrs["write_index"] = len(self.store.completed())
        self.file.flush()
        self.file.attrs["complete"] = True
        self.file.close()
        layout.replace_atomically(self.tmp, self.final)
        self.store._in_flight.discard(self.tmp)
        self.store._commit(self.sample_id)

    def abort(self) -> None:
        """Close and delete the unfinished sample file."""
        self._stop_syncer()
        try:
            self.file.close()
        finally:
            self.tmp.unlink(missing_ok=True)
            self.store._in_flight.discard(self.tmp)

    def _group(self, site: str) -> h5py.Group:
        return self.file.require_group(f"sites/{site}")
