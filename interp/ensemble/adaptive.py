"""Adaptive compute: the seeds' early disagreement predicts failure; spend extra seeds only there.

:func:`disagreement` is the mean over elements of the variance across a group's seeds of x0_hat
at an early step (high: the seeds have not agreed on an answer yet). :func:`interp.stats.auroc` scores it as a
predictor of failure; :func:`adaptive_curve` gives accuracy against mean NFE when items above a
threshold get the costly method and the rest the cheap one.

Example:
    >>> import numpy as np
    >>> curve = adaptive_curve([0.1, 0.9], [True, False], 20, [True, True], 60, quantiles=(0.0, 1.0))
    >>> [c["accuracy"] for c in curve]
    [1.0, 0.5]
"""

from __future__ import annotations

import numpy as np
import torch


def disagreement(x0: torch.Tensor, k: int) -> np.ndarray:
    """Per group of ``k`` consecutive rows of ``x0`` ``[B, ...]``: mean over elements of the seeds' variance."""
    grouped = x0.float().reshape(x0.shape[0] // k, k, -1)
    return grouped.var(dim=1, unbiased=False).mean(dim=1).cpu().numpy()


def adaptive_curve(score, cheap_correct, cheap_nfe: float, costly_correct, costly_nfe: float,
                   quantiles=(0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)) -> list[dict]:
    """Accuracy and mean NFE when the items whose ``score`` is above each quantile get the costly method."""
    score = np.asarray(score, float)
    cheap, costly = np.asarray(cheap_correct, bool), np.asarray(costly_correct, bool)
    out = []
    for q in quantiles:
        escalate = score > np.quantile(score, q) if q < 1 else np.zeros(score.shape, bool)
        if q == 0:
            escalate = np.ones(score.shape, bool)
        correct = np.where(escalate, costly, cheap)
        out.append({"escalated_share": float(escalate.mean()), "accuracy": float(correct.mean()),
                    "mean_nfe": float(np.where(escalate, costly_nfe, cheap_nfe).mean()), "correct": correct})
    return out
