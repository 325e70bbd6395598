"""Scores and intervals against scikit-learn's metrics; the split keeps mazes whole."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, r2_score

from interp.errors import InputError
from probes.scoring import (bootstrap_interval, class_scores, class_stats, regress_scores, regress_stats,
                            wilson_interval)
from probes.split import shuffled_sources, split_samples


def test_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.integers(0, 3, 500))
    groups = rng.integers(0, 10, 500)
    y_masked = y.copy()
    y_masked[:50] = -1
    s = class_scores(class_stats(y_masked, pred, groups, 3).sum(0))
    assert s["accuracy"] == pytest.approx(accuracy_score(y[50:], pred[50:]))
    assert s["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y[50:], pred[50:]))
    t = rng.normal(size=500)
    p = t + rng.normal(scale=0.5, size=500)
    t_masked = t.copy()
    t_masked[:30] = np.nan
    assert regress_scores(regress_stats(t_masked, p, groups).sum(0))["r2"] == pytest.approx(r2_score(t[30:], p[30:]))


def test_bootstrap_interval_over_groups():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(40), 50)
    y = rng.integers(0, 2, len(groups))
    pred = np.where(rng.random(len(groups)) < 0.8, y, 1 - y)
    stats = class_stats(y, pred, groups, 2)
    score = lambda s: class_scores(s)["accuracy"]  # noqa: E731
    lo, hi = bootstrap_interval(stats, score, n_boot=300, seed=0)
    point = score(stats.sum(0))
    assert lo < point < hi and hi - lo < 0.06
    # identical groups leave nothing to resample: a zero-width interval
    same = np.repeat(stats[:1], 10, axis=0)
    lo, hi = bootstrap_interval(same, score, n_boot=50)
    assert lo == pytest.approx(hi)


def test_wilson_known_values():
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.49, 0.943)
    lo, hi = wilson_interval(0, 20)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.1611, abs=1e-4)


def test_split_is_by_sample():
    ids = [f"maze{i}" for i in range(20)]
    train, test = split_samples(ids, test_fraction=0.25, seed=3)
    assert len(test) == 5 and not set(train) & set(test) and set(train) | set(test) == set(ids)
    assert split_samples(ids, test_fraction=0.25, seed=3) == (train, test)  # reproducible
    assert split_samples(ids, test_fraction=0.25, seed=4) != (train, test)
    with pytest.raises(InputError, match="at least 2 samples"):
        split_samples(["only"])
    source = shuffled_sources(7, seed=0)
    assert sorted(source) == list(range(7)) and all(source != np.arange(7))
