"""NFE accounting, the vote, the paired test, AUROC and the adaptive curve on known numbers."""

from __future__ import annotations

import numpy as np

from interp.ensemble import baseline_nfe, ensemble_nfe
from interp.ensemble.adaptive import adaptive_curve
from interp.ensemble.baselines import best_of_k, majority_vote, self_consistency
from interp.stats import auroc, mcnemar
from interp.stats import share as accuracy


def test_nfe_counts_transformer_forwards():
    assert ensemble_nfe(20, 3, 2) == 3 * 3 + 17
    assert ensemble_nfe(20, 8, 19) == baseline_nfe("self_consistency", 20, 8) == 160
    assert ensemble_nfe(20, 3, 2, guidance=True) == 52
    assert baseline_nfe("more_steps", 20, 3) == 60 and baseline_nfe("single", 20, 5) == 20


def test_vote_and_verifier():
    correct = np.array([[0, 1, 1], [1, 0, 0]], bool)
    answers = [[b"x", b"y", b"y"], [b"r", b"s", b"t"]]
    np.testing.assert_array_equal(self_consistency(correct, answers, 3), [True, True])  # tie -> first seed
    np.testing.assert_array_equal(best_of_k(correct, 1), [False, True])
    assert majority_vote([None, b"a"]) == 1


def test_paired_test_and_intervals():
    a = np.array([1] * 12 + [0] * 8, bool)
    b = np.array([0] * 10 + [1] * 2 + [0] * 8, bool)
    result = mcnemar(a, b)
    assert (result["a_only"], result["b_only"]) == (10, 0) and result["p"] < 0.01
    acc = accuracy(a)
    assert acc["n"] == 20 and acc["ci95"][0] < 0.6 < acc["ci95"][1]


def test_auroc_and_adaptive_curve():
    score = np.array([0.1, 0.2, 0.8, 0.9])
    failed = np.array([0, 0, 1, 1], bool)
    assert auroc(score, failed) == 1.0 and auroc(score, np.zeros(4, bool)) is None
    curve = adaptive_curve(score, ~failed, 22, np.ones(4, bool), 100, quantiles=(0.0, 0.5, 1.0))
    assert [c["accuracy"] for c in curve] == [1.0, 1.0, 0.5]
    assert [c["mean_nfe"] for c in curve] == [100, 61, 22]
