"""Several trace stores written side by side (one per process) read back as one.

Under ``torchrun`` each rank writes its own complete store, a *shard*, with the usual crash
safety and resume. :func:`merge_shards` then writes one more index file whose external links
point at the shards' per-sample files: :class:`~interp.store.TraceStore` opens it like any store,
and plain h5py sees every sample under ``/samples``. No activation byte is copied.

Example:
    >>> shard_path("trace.h5", rank=1, world_size=4)
    PosixPath('trace.rank1-of-4.h5')
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from interp.errors import InputError
from interp.store import layout

MATCHING_ATTRS = ("schema_version", "model_name", "fingerprint", "spec")


def shard_path(path: str | os.PathLike, rank: int, world_size: int) -> Path:
    """The file rank ``rank`` of ``world_size`` writes instead of ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rank{rank}-of-{world_size}{path.suffix}")


def shard_paths(path: str | os.PathLike, world_size: int) -> list[Path]:
    return [shard_path(path, rank, world_size) for rank in range(world_size)]


def _read_index(path: Path) -> tuple[dict, list[str]]:
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            ids = [s.decode() if isinstance(s, bytes) else str(s) for s in f["sample_ids"][()]]
    except (OSError, KeyError) as err:
        raise InputError(f"shard {path} is missing or is not a trace store ({err})") from err
    return attrs, ids


def merge_shards(shards: list[str | os.PathLike], out: str | os.PathLike) -> list[str]:
    """Write the index ``out`` that presents ``shards`` as one store; return its sample ids.

    Samples are listed round-robin over the shards (the order in which ``torchrun`` ranks were
    dealt them), so a complete distributed run lists its samples in the single-process order.
    All shards must come from the same model and capture spec.
    """
    out = Path(out)
    indexes = [_read_index(Path(s)) for s in shards]
    first_attrs = indexes[0][0]
    for shard, (attrs, _) in zip(shards, indexes):
        for key in MATCHING_ATTRS:
            if str(attrs.get(key)) != str(first_attrs.get(key)):
                raise InputError(f"cannot merge {shard}: its {key} differs from that of {shards[0]}")
    order, files = [], []
    for position in range(max(len(ids) for _, ids in indexes)):
        for shard, (_, ids) in zip(shards, indexes):
            if position < len(ids):
                sample_id = ids[position]
                if sample_id in order:
                    raise InputError(f"sample {sample_id!r} is in more than one shard")
                order.append(sample_id)
                target = layout.sample_path(Path(shard), sample_id)
                files.append(os.path.relpath(target, out.parent))
    tmp = out.with_name(f"{out.name}.{os.getpid()}{layout.TEMP_SUFFIX}")
    with h5py.File(tmp, "w") as f:
        for key, value in first_attrs.items():
            f.attrs[key] = value
        f.attrs["shards"] = json.dumps([os.path.relpath(Path(s), out.parent) for s in shards])
        f.create_dataset("sample_ids", data=np.array(order, dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("sample_files", data=np.array(files, dtype=object), dtype=h5py.string_dtype())
        group = f.create_group("samples")
        for sample_id, file in zip(order, files):
            group[sample_id] = h5py.ExternalLink(file, "/")
    layout.replace_atomically(tmp, out)
    return order
