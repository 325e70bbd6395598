"""Held-out scores with confidence intervals from a bootstrap over test mazes.

Tokens of one maze are not independent, so intervals resample whole mazes: scores are computed
from per-maze sufficient statistics, and each bootstrap replicate reweights the mazes with
multinomial counts. Wilson's interval is available for a plain proportion.

Example:
    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 0, 1, 1]); pred = np.array([0, 1, 0, 0, 1, 1]); maze = np.array([0, 0, 0, 1, 1, 1])
    >>> stats = class_stats(y, pred, maze, n_classes=2)
    >>> round(float(class_scores(stats.sum(0))["accuracy"]), 3)
    0.833
"""

from __future__ import annotations


import numpy as np


def class_stats(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-group counts ``[G, 2, K]``: row 0 = tokens of class k, row 1 = of those predicted right.

    ``groups`` holds group indices ``0..G-1`` (one group per maze); entries with ``y_true < 0``
    are masked and not counted.
    """
    y_true, y_pred, groups = (np.asarray(a).ravel() for a in (y_true, y_pred, groups))
    ok = y_true >= 0
    G = int(groups.max()) + 1 if groups.size else 0
    out = np.zeros((G, 2, n_classes))
    np.add.at(out, (groups[ok], 0, y_true[ok]), 1)
    np.add.at(out, (groups[ok], 1, y_true[ok]), (y_true[ok] == y_pred[ok]).astype(float))
    return out


def class_scores(stats: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy and balanced accuracy (mean recall over classes present) from summed counts.

    ``stats`` is ``[..., 2, K]``; leading axes (e.g. bootstrap replicates) are kept.
    """
    total, right = stats[..., 0, :], stats[..., 1, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = right.sum(-1) / total.sum(-1)
        present = total > 0
        recall = np.where(present, right / np.where(present, total, 1), 0.0)
        balanced = recall.sum(-1) / present.sum(-1)
    return {"accuracy": accuracy, "balanced_accuracy": balanced}


def regress_stats(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per-group sums ``[G, 4]``: count, sum y, sum y^2, sum squared error (NaN targets masked)."""
    y_true, y_pred, groups = (np.asarray(a, float).ravel() for a in (y_true, y_pred, groups))
    groups = groups.astype(int)
    ok = ~np.isnan(y_true)
    G = int(groups.max()) + 1 if groups.size else 0
    out = np.zeros((G, 4))
    g, y, p = groups[ok], y_true[ok], y_pred[ok]
    for j, v in enumerate((np.ones_like(y), y, y * y, (y - p) ** 2)):
        np.add.at(out[:, j], g, v)
    return out


def regress_scores(stats: np.ndarray) -> dict[str, np.ndarray]:
    """R^2 (against the test mean) and RMSE from summed ``[..., 4]`` statistics."""
    n, s, s2, sse = (stats[..., j] for j in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        sst = s2 - s * s / n
        return {"r2": 1.0 - sse / sst, "rmse": np.sqrt(sse / n)}


def bootstrap_replicates(stats: np.ndarray, score, *, n_boot: int = 200, seed: int = 0) -> np.ndarray:
    """``score(sum of resampled groups' stats)`` for each of ``n_boot`` replicates (NaN where undefined).

    The resampling depends only on ``seed``, ``n_boot`` and the number of groups, so tables scored
    on the same groups (e.g. every (layer, step) cell of one sweep's test mazes) share replicates:
    replicate ``b`` resamples the same mazes everywhere, and a statistic of many cells (an onset
    layer) can be bootstrapped over mazes from them.
    """
    G = stats.shape[0]
    if n_boot <= 0 or G == 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(G, np.full(G, 1.0 / G), size=n_boot).astype(float)
    summed = np.tensordot(counts, stats, axes=(1, 0))
    return np.asarray(score(summed), float)


def bootstrap_interval(stats: np.ndarray, score, *, n_boot: int = 200, level: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile interval of ``score(sum of resampled groups' stats)`` over ``n_boot`` replicates.

    Args:
        stats: per-group statistics ``[G, ...]``.
        score: maps summed statistics (with a leading replicate axis) to scores.
        n_boot: replicates; 0 returns ``(nan, nan)``.
        level: coverage of the interval.
        seed: seed of the resampling.
    """
    values = bootstrap_replicates(stats, score, n_boot=n_boot, seed=seed)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [tail, 1.0 - tail])
    return float(lo), float(hi)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Example:
        >>> tuple(round(v, 3) for v in wilson_interval(8, 10))
        (0.49, 0.943)
    """
    if n <= 0:
        return float("nan"), float("nan")
    from statistics import NormalDist

    from interp.stats import wilson

    return wilson(successes, n, NormalDist().inv_cdf(0.5 + level / 2.0))
