"""interp.stats against independent oracles: scipy's Wilson interval, bootstrap, binomial and
Mann-Whitney statistics, and scikit-learn's ROC AUC."""

import numpy as np
import pytest
from scipy import stats as sps

from interp import stats


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (8, 10), (10, 10), (57, 300), (299, 300)])
def test_wilson_equals_scipy(k, n):
    oracle = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = stats.wilson(k, n)
    # scipy uses the exact normal quantile (1.95996...), the project 1.96: equal to 1e-4
    assert low == pytest.approx(oracle.low, abs=1e-4) and high == pytest.approx(oracle.high, abs=1e-4)
    assert stats.wilson(k, n, z=1.959963984540054) == pytest.approx((oracle.low, oracle.high), abs=1e-12)


def test_share_figure():
    assert stats.share([]) == {"value": None, "ci95": [0.0, 1.0], "n": 0}
    figure = stats.share([True] * 3 + [False])
    assert figure["value"] == 0.75 and figure["n"] == 4 and figure["ci95"][0] < 0.75 < figure["ci95"][1]


def test_bootstrap_mean_agrees_with_scipy_percentile_bootstrap():
    x = np.random.default_rng(1).exponential(size=200)
    mine = stats.mean_ci(x, n_boot=4000)
    oracle = sps.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", random_state=2).confidence_interval
    assert mine["value"] == pytest.approx(x.mean(), abs=1e-4) and mine["n"] == 200
    width = oracle.high - oracle.low
    assert abs(mine["ci95"][0] - oracle.low) < 0.1 * width and abs(mine["ci95"][1] - oracle.high) < 0.1 * width
    assert stats.mean_ci([]) == {"value": None, "ci95": None, "n": 0}
    assert stats.mean_ci([2.0])["ci95"] == [2.0, 2.0]


def test_mcnemar_equals_the_exact_binomial_p():
    rng = np.random.default_rng(0)
    a, b = rng.random(80) < 0.7, rng.random(80) < 0.5
    result = stats.mcnemar(a, b)
    k, m = int((a & ~b).sum()), int(((a & ~b) | (~a & b)).sum())
    oracle = min(1.0, 2 * sps.binom.cdf(min(k, m - k), m, 0.5))
    assert result["p"] == pytest.approx(oracle, rel=1e-9)
    assert result["difference"] == pytest.approx(a.mean() - b.mean(), abs=1e-4)
    assert stats.mcnemar(a, a)["p"] == 1.0
    with pytest.raises(ValueError, match="equal shapes"):
        stats.mcnemar(a, b[:5])


def test_auroc_equals_mann_whitney_u():
    rng = np.random.default_rng(3)
    positive = rng.random(60) < 0.4
    score = rng.normal(size=60) + positive
    u = sps.mannwhitneyu(score[positive], score[~positive]).statistic
    assert stats.auroc(score, positive) == pytest.approx(u / (positive.sum() * (~positive).sum()))
    assert stats.auroc(score, np.zeros(60, bool)) is None


def test_paired_difference_equals_scipy_wilcoxon():
    rng = np.random.default_rng(4)
    a = rng.normal(size=50)
    b = a - 0.3 + rng.normal(scale=0.5, size=50)
    result = stats.paired_difference(a, b)
    assert result["value"] == pytest.approx((a - b).mean(), abs=1e-4)
    assert result["p_wilcoxon"] == pytest.approx(sps.wilcoxon(a - b).pvalue)
    assert result["ci95"][0] < result["value"] < result["ci95"][1]
