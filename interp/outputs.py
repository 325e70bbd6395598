"""The one output rule of every command and experiment script.

Before any work starts, :func:`claim_folder` checks the output folder: it is a folder (or can be
created as one), it can be written into, and it holds none of the files this run would write,
unless ``overwrite``. Every file is then written under a temporary name beside its final one and
renamed into place (:func:`replacing`), so an interrupted run or a full disk never leaves half a
result where a whole one was, and a refused run changes no byte of the folder.

Example:
    >>> import tempfile
    >>> folder = claim_folder(tempfile.mkdtemp(), ["result.json", "*.png"])
    >>> write_json(folder / "result.json", {"verdict": "holds"})
    >>> claim_folder(folder, ["result.json"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    interp.errors.InputError: --out ... already holds result.json: pass --overwrite to replace it, or choose another folder
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from interp.errors import InputError


def claim_folder(path, names: Iterable[str], *, overwrite: bool = False, option: str = "--out") -> Path:
    """Check the output folder ``path`` before any work; return it as a :class:`Path` (not created).

    ``names`` are the files (or glob patterns, e.g. ``"*.png"``) the run would write there. Any of
    them already present is refused with one :class:`InputError` unless ``overwrite``.
    """
    path = check_output_dir(path, option)
    if path.is_dir() and not overwrite:
        found = sorted({p.name for pattern in names for p in path.glob(pattern)})
        if found:
            shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            raise InputError(f"{option} {str(path)!r} already holds {shown}: pass --overwrite to replace "
                             f"{'it' if len(found) == 1 else 'them'}, or choose another folder")
    return path


def claim_file(path, *, overwrite: bool = False, option: str = "--out") -> Path:
    """Check an output file ``path`` before any work: creatable, and absent unless ``overwrite``."""
    path = check_output_file(path, option)
    if path.exists() and not overwrite:
        raise InputError(f"{option} {str(path)!r} exists: pass --overwrite to replace it, or choose another name")
    return path


def check_output_dir(path, option: str = "--out") -> Path:
    """``path`` is a folder, or can be created as one, and can be written into."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {str(path)!r} exists and is not a folder")
    _check_creatable(path, option, path)
    return path


def check_output_file(path, option: str = "--out") -> Path:
    """``path`` can be created or replaced as a file: not a folder, under folders that are writable."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{option} {str(path)!r} is a folder: give a file name")
    _check_creatable(path.parent, option, path)
    return path


def _check_creatable(folder: Path, option: str, target: Path) -> None:
    """The nearest existing folder at or above ``folder`` is a writable folder."""
    existing = folder if str(folder) else Path(".")
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(f"{option} {str(target)!r} lies under {str(existing)!r}, which is a file, not a folder")
    if existing.exists() and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{option} {str(target)!r}: cannot write into {str(existing)!r} (permission denied "
                         "or read-only file system)")


@contextlib.contextmanager
def replacing(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so writers that read the suffix work);
    rename it to ``path`` when the block ends, delete it when the block fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` all at once."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, obj, *, indent: int = 2, **options) -> Path:
    """Write ``obj`` as JSON (with a final newline) to ``path`` all at once."""
    return write_text(path, json.dumps(obj, indent=indent, **options) + "\n")


def save_figure(fig, path, **savefig_options) -> Path:
    """``fig.savefig(path, ...)`` all at once: a failed draw leaves no partial PNG behind."""
    with replacing(path) as tmp:
        fig.savefig(tmp, **savefig_options)
    return Path(path)


def save_image(image, path, **save_options) -> Path:
    """A Pillow ``image.save(path, ...)`` all at once (``format`` taken from ``path``'s suffix)."""
    save_options.setdefault("format", Path(path).suffix.lstrip(".").upper().replace("JPG", "JPEG"))
    with replacing(path) as tmp:
        image.save(tmp, **save_options)
    return Path(path)


__all__ = ["claim_folder", "claim_file", "check_output_dir", "check_output_file", "replacing", "write_text",
           "write_json", "save_figure", "save_image"]
