"""Raw measurements as plain JSON, so a summary can be redone offline without unpickling anything.

JSON has no tuples, no non-string dict keys, no arrays and no bytes; :func:`encode` tags them
(``__items__``, ``__tuple__``, ``__array__`` with its ``dtype``, ``__bytes__`` as hex) and
:func:`decode` restores them. :func:`dump` and :func:`load` read and write a gzipped file.

Example:
    >>> import numpy as np
    >>> raw = {("9x9", 3): np.array([True, False]), "answer": b"\\x01"}
    >>> back = decode(encode(raw))
    >>> back[("9x9", 3)].dtype, back["answer"]
    (dtype('bool'), b'\\x01')
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np


def encode(obj):
    """``obj`` as JSON-safe values: dicts, tuples, arrays and bytes tagged; numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {"__items__": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, bytes):
        return {"__bytes__": obj.hex()}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def decode(obj):
    """The inverse of :func:`encode` (an untagged dict is read as a plain one)."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__items__" in obj:
        return {decode(k): decode(v) for k, v in obj["__items__"]}
    if "__tuple__" in obj:
        return tuple(decode(v) for v in obj["__tuple__"])
    if "__array__" in obj:
        return np.asarray(obj["__array__"], dtype=obj["dtype"])
    if "__bytes__" in obj:
        return bytes.fromhex(obj["__bytes__"])
    return {k: decode(v) for k, v in obj.items()}


def dump(obj, path: str | Path) -> None:
    """Write ``obj`` encoded to a gzipped JSON file at ``path``."""
    with gzip.open(path, "wt") as f:
        json.dump(encode(obj), f)


def load(path: str | Path):
    """Read a file written by :func:`dump`."""
    with gzip.open(path, "rt") as f:
        return decode(json.load(f))
