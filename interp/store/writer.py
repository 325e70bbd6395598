"""Write samples into a trace store, one crash-safe sample file at a time.

See :mod:`interp.store.layout` for the on-disk design. A :class:`TraceWriter` owns the store
for as long as it is open (an advisory lock keeps a second writer out); each sample is written
through a :class:`SampleWriter` and becomes visible to readers only when it commits.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from interp.errors import InputError
from interp.store import layout


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


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("cos-interp", "torch", "diffusers", "nnsight", "h5py", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


class TraceWriter:
    """Create a trace store or append to one written by the same model and capture spec.

    Args:
        path: the store's index file (``*.h5``); per-sample files go to ``<path>.d/``.
        model_name: a readable model name, stored as provenance.
        fingerprint: a digest of the model's weights; appending needs the same one.
        spec: the capture spec as a JSON-able dict with at least ``sites`` (site name ->
            ``{"branches": [...], ...}``) and ``steps`` (captured step indices); appending
            needs an identical one.
        compression: ``None``, ``"gzip"`` or ``"lzf"`` for the per-site datasets.
        sync_bytes: flush a sample file to disk after this many bytes of slabs (``None``: only at
            commit). Without it the kernel may keep gigabytes dirty in its page cache until the
            commit's ``fsync``, which then stalls the run; syncing as data arrives overlaps the disk
            with the model, from the writer thread.

        allow_nonfinite: commit samples holding NaN or infinite values (by default such a sample
            is refused at commit: a run that produced them is broken, not a result).

    Opening validates everything before touching the disk, so a mismatched append raises
    :class:`~interp.errors.InputError` and leaves the store as it was. A new store is created
    only when its first sample begins, after that sample's id was checked, so a run refused
    at its first sample leaves nothing behind. Opening an existing store tidies up after a
    killed writer: temporary files are dropped, and a complete sample that was renamed into
    place but not yet listed in the index is adopted. A sample file of another model or spec
    found there is never deleted: opening is refused and names it.

    Example:
        >>> import tempfile, numpy as np
        >>> spec = {"sites": {"x0": {"branches": ["guided"]}}, "steps": [0, 1]}
        >>> path = tempfile.mkdtemp() + "/trace.h5"
        >>> with TraceWriter(path, model_name="toy", fingerprint="abc", spec=spec) as store:
        ...     sample = store.begin("s0", seed=0)
        ...     for step in (0, 1):
        ...         sample.write("x0", "guided", step, np.zeros((4, 3), np.float16))
        ...     sample.commit()
        >>> TraceWriter(path, model_name="toy", fingerprint="abc", spec=spec).completed()
        ['s0']
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        model_name: str,
        fingerprint: str,
        spec: dict,
        compression: str | None = None,
        sync_bytes: int | None = 128 << 20,
        allow_nonfinite: bool = False,
    ) -> None:
        if compression not in (None, "gzip", "lzf"):
            raise InputError(f"unknown compression {compression!r}: valid are none, gzip, lzf")
        if not isinstance(spec.get("sites"), dict) or not spec["sites"] or "steps" not in spec:
            raise InputError("a capture spec needs a non-empty 'sites' table and a 'steps' list")
        self.path = Path(path)
        self.compression = compression
        self.sync_bytes = sync_bytes
        self.allow_nonfinite = allow_nonfinite
        self.spec = json.loads(to_json(spec))
        self.attrs = {
            "schema_version": layout.SCHEMA_VERSION,
            "model_name": model_name,
            "fingerprint": fingerprint,
            "spec": to_json(self.spec),
            "versions": to_json(package_versions()),
        }
        self._order = self._check_existing()
        self._lock = None
        self._closed = False
        self._in_flight: set[Path] = set()  # temporary sample files begun and not yet committed or aborted
        if self.path.exists() or layout.data_dir(self.path).exists():
            self._open_and_lock()  # else created by the first begin()

    # -- opening -------------------------------------------------------------------------
    def _check_existing(self) -> list[str]:
        """Validate an existing index against this writer (reads only); return its samples."""
        if self.path.is_dir():
            raise InputError(f"trace path {self.path} is a folder: give a file name such as trace.h5")
        if not self.path.exists():
            return []
        try:
            with h5py.File(self.path, "r") as f:
                old = dict(f.attrs)
                order = [s.decode() if isinstance(s, bytes) else s for s in f["sample_ids"][()]]
        except (OSError, KeyError) as err:
            raise InputError(f"{self.path} exists and is not a trace store ({err}); choose another --out") from err
        self.attrs["created"] = str(old.get("created", ""))
        for key in ("schema_version", "fingerprint", "model_name", "spec"):
            if str(old.get(key)) != str(self.attrs[key]):
                what, theirs, ours = key, old.get(key), self.attrs[key]
                if key == "spec":
                    what, theirs, ours = _first_difference(json.loads(str(theirs)), self.spec)
                raise InputError(
                    f"cannot append to {self.path}: its {what} is {_short(theirs)}, this run's is "
                    f"{_short(ours)}; write to a new file or rerun with the store's model and spec"
                )
        return order

    def _open_and_lock(self) -> None:
        folder = layout.data_dir(self.path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot create the trace store {self.path}: {err.strerror or err}") from None
        self._lock = open(folder / layout.LOCK_NAME, "a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            self._lock.close()
            self._lock = None
            raise InputError(f"{self.path} is being written by another process; wait for it to finish") from err
        try:
            unlisted = self._unlisted(folder)
        except BaseException:
            self.close()
            raise
        self.attrs.setdefault("created", "")
        if not self.attrs["created"]:
            self.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        for stale in list(folder.glob("*" + layout.TEMP_SUFFIX)) + list(
            self.path.parent.glob(self.path.name + ".*" + layout.TEMP_SUFFIX)
        ):
            stale.unlink()
        self._order.extend(unlisted)  # renamed into place by a writer killed before it updated the index
        if unlisted or not self.path.exists():
            self._write_index()

    def _unlisted(self, folder: Path) -> list[str]:
        """Complete samples of this model and spec that the index does not list, in write order.

        Anything else found there (a sample of another model or spec, a damaged file) is the
        user's: it is left alone and the store is refused, naming the file.
        """
        known = set(self._order)
        found = []
        for file in sorted(folder.glob("*" + layout.SAMPLE_SUFFIX)):
            sample_id = file.name[: -len(layout.SAMPLE_SUFFIX)]
            if sample_id in known:
                continue
            try:
                with h5py.File(file, "r") as f:
                    complete = bool(f.attrs.get("complete"))
                    theirs = {key: str(f.attrs.get(key)) for key in ("fingerprint", "spec")}
                    rank = int(f.attrs.get("write_index", 1 << 30))
            except (OSError, ValueError, TypeError) as err:
                raise InputError(f"{file} is not a readable sample ({err}); move it out of {folder} "
                                 "or write to another --out") from None
            if not complete:
                raise InputError(f"{file} is an incomplete sample; move it out of {folder} or write to another --out")
            for key, value in theirs.items():
                if value != str(self.attrs[key]):
                    what, old, new = key, value, self.attrs[key]
                    if key == "spec":
                        try:
                            what, old, new = _first_difference(json.loads(value), self.spec)
                        except ValueError:
                            pass
                    raise InputError(
                        f"{file} holds a sample of another run (its {what} is {_short(old)}, this run's is "
                        f"{_short(new)}); it is kept: move it out of {folder} or write to another --out"
                    )
            found.append((rank, sample_id))
        found.sort()
        return [sample_id for _, sample_id in found]

    # -- public --------------------------------------------------------------------------
    def completed(self) -> list[str]:
        """Ids of the completed samples, in write order."""
        return list(self._order)

    def begin(self, sample_id: str, *, seed: int | None = None, task: dict | None = None, **meta) -> SampleWriter:
        """Start writing sample ``sample_id``; it becomes visible when it commits."""
        if self._closed:
            raise InputError(f"the writer of {self.path} is closed")
        layout.check_sample_id(sample_id)
        if sample_id in self._order:
            raise InputError(f"sample {sample_id!r} is already in {self.path}; skip it or choose another id")
        if self._lock is None:
            self._open_and_lock()
        return SampleWriter(self, sample_id, seed=seed, task=task or {}, meta=meta)

    def close(self) -> None:
        """Release the store; a sample file begun and never committed (an interrupt can land between
        its creation and the caller's hold on it) is deleted, so only complete samples remain."""
        self._closed = True
        for tmp in list(self._in_flight):
            tmp.unlink(missing_ok=True)
        self._in_flight.clear()
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    def _commit(self, sample_id: str) -> None:
        self._order.append(sample_id)
        self._write_index()

    def _write_index(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}{layout.TEMP_SUFFIX}")
        folder = layout.data_dir(self.path).name
        with h5py.File(tmp, "w") as f:
            for key, value in self.attrs.items():
                f.attrs[key] = value
            f.create_dataset("sample_ids", data=np.array(self._order, dtype=object), dtype=h5py.string_dtype())
            group = f.create_group("samples")
            for sample_id in self._order:
                group[sample_id] = h5py.ExternalLink(f"{folder}/{sample_id}{layout.SAMPLE_SUFFIX}", "/")
        layout.replace_atomically(tmp, self.path)


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


def _first_difference(old: Any, new: Any, where: str = "spec") -> tuple[str, Any, Any]:
    """The first place two JSON values differ, as ``(path, old, new)``."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{where}.{key}")
    return where, old, new


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
