"""Batch rows picked and put back without making the host wait for the device.

Indexing a CUDA tensor with a Python list copies the index from pageable host memory, and such a
copy waits for every kernel queued before it: a loop that picks rows this way cannot queue the
next step while the device runs the last. These helpers give the same values with no wait: a
slice when the rows are consecutive (the common case: a sweep's pairs in order), else an index
copied from pinned memory without blocking.

Example:
    >>> import torch
    >>> value = torch.arange(12).reshape(6, 2)
    >>> take_rows(value, [2, 3, 4]).tolist(), take_rows(value, [5, 0]).tolist()
    ([[4, 5], [6, 7], [8, 9]], [[10, 11], [0, 1]])
    >>> put_rows(value, [1, 2], torch.zeros(2, 2, dtype=torch.long))[:3].tolist()
    [[0, 1], [0, 0], [0, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def consecutive(rows: Sequence[int]) -> slice | None:
    """``rows`` as a slice when they are ``a, a+1, ..., b-1`` (non-empty), else ``None``."""
    rows = [int(r) for r in rows]
    if rows and rows == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return None


def to_device(tensor: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """``tensor`` on ``device``; a host tensor goes to a GPU through pinned memory, not waiting
    (the caching host allocator keeps the pinned block until the copy has run)."""
    device = torch.device(device)
    if tensor.device == device:
        return tensor
    if tensor.device.type == "cpu" and device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def row_index(rows: Sequence[int], device: torch.device | str) -> torch.Tensor:
    """A long index of ``rows`` on ``device`` (see :func:`to_device`)."""
    return to_device(torch.as_tensor([int(r) for r in rows], dtype=torch.long), device)


def take_rows(value: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
    """``value[rows]`` along the first axis (a view when the rows are consecutive)."""
    span = consecutive(rows)
    if span is not None:
        return value[span]
    return value.index_select(0, row_index(rows, value.device))


def put_rows(value: torch.Tensor, rows: Sequence[int], new: torch.Tensor) -> torch.Tensor:
    """A copy of ``value`` with ``new[i]`` in row ``rows[i]`` (``value.index_copy(0, rows, new)``)."""
    span = consecutive(rows)
    if span is None:
        return value.index_copy(0, row_index(rows, value.device), new)
    out = value.clone()
    out[span] = new
    return out
