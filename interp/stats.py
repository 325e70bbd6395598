"""The statistics every experiment reports: shares, means, paired comparisons, AUROC.

One home for each method, so that two figures on the results page are never computed two ways:

* shares get Wilson score intervals (:func:`wilson`, :func:`share`);
* means get percentile-bootstrap intervals over the items, one maze per row
  (:func:`bootstrap_mean`, :func:`mean_ci`);
* paired outcomes on the same mazes get McNemar's exact test (:func:`mcnemar`), paired values
  a bootstrap interval of the mean difference and Wilcoxon's signed-rank test
  (:func:`paired_difference`);
* scores that predict a binary outcome get the area under the ROC curve (:func:`auroc`).

A figure is a dict ``{"value", "ci95": [low, high], "n"}`` (values rounded to 4 decimals), the
form :func:`interp.results.write_result` stores and the claims registry's rules read.

Example:
    >>> share([True, False, True, True])["value"]
    0.75
    >>> mean_ci([1.0, 3.0])["value"]
    2.0
    >>> mcnemar([1, 1, 1, 0, 1], [1, 0, 0, 0, 1])["a_only"]
    2
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.96          # the two-sided 95% normal quantile, as every published interval used it
N_BOOT = 1000       # bootstrap resamples
DIGITS = 4


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the share ``successes / n``; ``(0, 1)`` when ``n`` is 0 (nothing known).

    Example:
        >>> [round(v, 3) for v in wilson(8, 10)]
        [0.49, 0.943]
    """
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def share(flags) -> dict:
    """A share of true flags as a figure: ``{"value", "ci95" (Wilson), "n"}`` (``value`` None when empty)."""
    flags = np.asarray(flags, bool).ravel()
    k, n = int(flags.sum()), int(flags.size)
    return {"value": round(k / n, DIGITS) if n else None, "ci95": [round(v, DIGITS) for v in wilson(k, n)], "n": n}


def bootstrap_mean(values, n_boot: int = N_BOOT, seed: int = 0):
    """Mean and percentile-bootstrap 95% interval over the rows of ``values`` (one row per maze; any
    trailing shape is kept). One row gives a zero-width interval at the mean.

    Example:
        >>> [float(v) for v in bootstrap_mean([1.0, 2.0, 3.0])][0]
        2.0
    """
    x = np.asarray(values, dtype=float)
    mean = x.mean(axis=0)
    if len(x) < 2:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5], axis=0)
    return mean, low, high


def mean_ci(values, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Mean of one value per maze with its bootstrap 95% interval and n (``value`` None when empty)."""
    values = [float(v) for v in values]
    if not values:
        return {"value": None, "ci95": None, "n": 0}
    mean, low, high = bootstrap_mean(values, n_boot, seed)
    return {"value": round(float(mean), DIGITS), "ci95": [round(float(low), DIGITS), round(float(high), DIGITS)],
            "n": len(values)}


def mcnemar(a, b) -> dict:
    """McNemar's exact test of paired outcomes ``a`` and ``b`` on the same items (two-sided p).

    Returns the items only ``a`` / only ``b`` gets right, ``p`` and the difference of the shares.
    """
    from scipy.stats import binomtest

    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"paired outcomes need equal shapes, got {a.shape} and {b.shape}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    p = 1.0 if a_only + b_only == 0 else float(binomtest(a_only, a_only + b_only, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p": p, "difference": round(float(a.mean() - b.mean()), DIGITS)}


def paired_difference(a, b, n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """Mean of ``a - b`` over paired items with its bootstrap 95% interval, n and Wilcoxon's two-sided p."""
    from scipy.stats import wilcoxon

    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal shapes, got {a.shape} and {b.shape}")
    d = a - b
    figure = mean_ci(d, n_boot, seed)
    figure["p_wilcoxon"] = 1.0 if not np.any(d) else float(wilcoxon(d).pvalue)
    return figure


def auroc(score, positive) -> float | None:
    """Area under the ROC curve of ``score`` predicting ``positive`` (``None`` if only one class occurs).

    Example:
        >>> auroc([0.1, 0.9, 0.2, 0.8], [0, 1, 0, 1])
        1.0
    """
    from sklearn.metrics import roc_auc_score

    positive = np.asarray(positive, bool)
    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, np.asarray(score, float)))
