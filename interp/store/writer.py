"""Write samples into a trace store, one crash-safe sample file at a time.

See :mod:`interp.store.layout` for the on-disk design. A :class:`TraceWriter` owns the store
for as long as it is open (an advisory lock keeps a second writer out); each sample is written
through a :class:`~interp.store.sample.SampleWriter` and becomes visible to readers only when it commits.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from interp.errors import InputError
from interp.store import layout
from interp.store.sample import SampleWriter, to_json


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
