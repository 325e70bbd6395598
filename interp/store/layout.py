"""Where a trace store keeps its bytes, and how it makes each write atomic.

A store named ``TRACE.h5`` is two things on disk:

* ``TRACE.h5``: a small HDF5 *index* holding the provenance attributes and one external link
  per completed sample (``/samples/<id>``), so plain ``h5py`` sees the whole store as one file;
* ``TRACE.h5.d/<id>.h5``: one HDF5 file per sample, written under a temporary name and renamed
  into place only after its data is flushed, its ``complete`` flag set and the file synced.

A kill can therefore only ever leave a stray temporary file (dropped on the next write) or a
renamed sample the index does not list yet (adopted on the next write). Neither the index nor a
completed sample is ever modified in place: the index is rewritten to a temporary file and
renamed over the old one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SCHEMA_VERSION = 1
SAMPLE_SUFFIX = ".h5"
TEMP_SUFFIX = ".tmp"
LOCK_NAME = ".lock"
_SAMPLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def data_dir(path: Path) -> Path:
    """The folder of per-sample files that belongs to the index ``path``."""
    return path.with_name(path.name + ".d")


def sample_path(path: Path, sample_id: str) -> Path:
    return data_dir(path) / f"{sample_id}{SAMPLE_SUFFIX}"


def is_valid_sample_id(sample_id: str) -> bool:
    """Sample ids become file names: letters, digits, ``_ . -``, at most 128 characters."""
    return bool(_SAMPLE_ID.fullmatch(sample_id)) and not sample_id.endswith(TEMP_SUFFIX)


def check_sample_id(sample_id) -> None:
    """Raise :class:`~interp.errors.InputError` unless ``sample_id`` can name a sample file."""
    from interp.errors import InputError

    if not isinstance(sample_id, str) or not is_valid_sample_id(sample_id):
        raise InputError(
            f"invalid sample id {sample_id!r}: use ASCII letters, digits, '_', '.', '-', starting with a letter "
            f"or digit, at most 128 characters, not ending in {TEMP_SUFFIX}"
        )


def check_sample_ids(sample_ids) -> None:
    """Check every id (valid and distinct) before anything is written."""
    from interp.errors import InputError

    seen = set()
    for sample_id in sample_ids:
        check_sample_id(sample_id)
        if sample_id in seen:
            raise InputError(f"sample id {sample_id!r} is given twice: every sample needs its own id")
        seen.add(sample_id)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(tmp: Path, final: Path) -> None:
    """Sync ``tmp``, rename it over ``final`` and sync the folder, so readers see old or new."""
    fsync_file(tmp)
    os.replace(tmp, final)
    fsync_dir(final.parent)


def remove_store(path: Path) -> None:
    """Delete the store at ``path``: its index and its folder of per-sample files."""
    import shutil

    path = Path(path)
    path.unlink(missing_ok=True)
    shutil.rmtree(data_dir(path), ignore_errors=True)
