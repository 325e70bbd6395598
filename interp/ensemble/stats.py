"""Intervals and paired tests for accuracies measured on the same items.

Example:
    >>> import numpy as np
    >>> a, b = np.array([1, 1, 1, 0, 1], bool), np.array([1, 0, 0, 0, 1], bool)
    >>> mcnemar(a, b)["b_only"], round(mcnemar(a, b)["p"], 3)
    (0, 0.5)
"""

from __future__ import annotations

import numpy as np

from interp.results import wilson


def accuracy(correct) -> dict:
    """``{"value", "ci95" (Wilson), "n"}`` of a boolean vector."""
    correct = np.asarray(correct, bool)
    return {"value": round(float(correct.mean()), 4) if correct.size else None,
            "ci95": [round(v, 4) for v in wilson(int(correct.sum()), int(correct.size))], "n": int(correct.size)}


def mcnemar(a, b) -> dict:
    """McNemar's exact test of paired outcomes: items only ``a`` gets right vs only ``b``; two-sided p."""
    from scipy.stats import binomtest

    a, b = np.asarray(a, bool), np.asarray(b, bool)
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    p = 1.0 if a_only + b_only == 0 else float(binomtest(a_only, a_only + b_only, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p": p, "difference": round(float(a.mean() - b.mean()), 4)}
