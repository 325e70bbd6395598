"""Train/test split by maze: every token of a sample falls on the same side.

Tokens of one maze share its layout, so a split by token would let a probe memorise mazes and
report it as generalisation. The split is a seeded permutation of sample ids.

Example:
    >>> train, test = split_samples([f"s{i}" for i in range(10)], test_fraction=0.3, seed=0)
    >>> len(train), len(test), set(train) & set(test)
    (7, 3, set())
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from interp.errors import InputError, check_range


def split_samples(sample_ids: Sequence[str], *, test_fraction: float = 0.25, seed: int = 0) -> tuple[list[str], list[str]]:
    """Split sample ids into ``(train, test)``, each in the original order.

    At least one sample lands on each side; fewer than two samples is an :class:`InputError`.
    """
    ids = list(sample_ids)
    if len(set(ids)) != len(ids):
        raise InputError("sample ids must be unique to split by sample")
    if len(ids) < 2:
        raise InputError(f"need at least 2 samples to split train/test by maze, got {len(ids)}")
    check_range("test_fraction", test_fraction, 0.01, 0.99)
    n_test = min(max(1, int(round(test_fraction * len(ids)))), len(ids) - 1)
    order = np.random.default_rng(seed).permutation(len(ids))
    test_set = set(order[:n_test].tolist())
    train = [s for i, s in enumerate(ids) if i not in test_set]
    test = [s for i, s in enumerate(ids) if i in test_set]
    return train, test


def shuffled_sources(n: int, seed: int = 0) -> np.ndarray:
    """A permutation of ``range(n)`` without fixed points: sample ``i`` borrows labels of ``out[i]``.

    Used for the shuffled-label control: each training maze's tokens get another maze's labels,
    which keeps the label statistics and any position prior but breaks the link to activations.
    """
    if n < 2:
        raise InputError(f"the shuffled-label control needs at least 2 training samples, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    out = np.empty(n, dtype=int)
    out[order] = np.roll(order, 1)
    return out
