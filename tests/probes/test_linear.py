"""The probes against scikit-learn's own solvers, and the estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from interp.errors import InputError
from probes import LogisticProbe, RidgeProbe


def _data(n=600, d=20, k=3, seed=0, scale=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (scale if scale is not None else 1.0) + 0.5
    W = rng.normal(size=(d, k))
    y = (X @ W / (1 if scale is None else scale.mean()) + 1.5 * rng.normal(size=(n, k))).argmax(1)
    return X, y


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("classes", [2, 3])
def test_logistic_matches_sklearn(C, classes):
    X, y = _data(k=classes)
    Xtr, ytr, Xte, yte = X[:450], y[:450], X[450:], y[450:]
    ours = LogisticProbe(C=C, tol=1e-7).fit(Xtr, ytr)
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(Xtr, ytr)
    assert ours.coef_.shape == ref.coef_.shape
    # float32 L-BFGS against float64: within 1e-3 of the largest coefficient
    scale = np.abs(ref.coef_).max()
    assert np.abs(ours.coef_ - ref.coef_).max() <= 1e-3 * max(scale, 1.0)
    assert np.abs(ours.intercept_ - ref.intercept_).max() <= 1e-3 * max(scale, 1.0)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.005
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=2e-3)


def test_logistic_class_weight_and_sample_weight_match_sklearn():
    X, y = _data(k=2)
    y = np.where(np.arange(len(y)) % 5 == 0, 1, 0)  # imbalanced
    X[y == 1, 0] += 1.0
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    ours = LogisticProbe(C=0.5, class_weight="balanced", tol=1e-7).fit(X, y, sample_weight=w)
    ref = LogisticRegression(C=0.5, class_weight="balanced", tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * max(1.0, np.abs(ref.coef_).max()))


def test_standardize_equals_scaler_pipeline():
    scale = np.geomspace(0.01, 100, 20)
    X, y = _data(scale=scale)
    ours = LogisticProbe(C=0.3, standardize=True, tol=1e-7).fit(X, y)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, tol=1e-10, max_iter=10_000)).fit(X, y)
    lr = ref[-1]
    # ours keeps coef_ in raw units; the pipeline's live in z-score units
    np.testing.assert_allclose(ours.coef_ * ours.scale_, lr.coef_, atol=1e-3 * np.abs(lr.coef_).max())
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=5e-3)


def test_ridge_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 15)) * np.geomspace(0.1, 10, 15) + 3.0
    Y = X @ rng.normal(size=(15, 2)) + rng.normal(size=(300, 2)) + 1.0
    w = rng.uniform(0.2, 3.0, size=300)
    for alpha in (0.0, 1.0, 100.0):
        ours = RidgeProbe(alpha=alpha, dtype="float64").fit(X, Y, sample_weight=w)
        ref = Ridge(alpha=alpha).fit(X, Y, sample_weight=w)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    ours = RidgeProbe(alpha=10.0).fit(X, Y[:, 0])  # float32, single output
    ref = Ridge(alpha=10.0).fit(X, Y[:, 0])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
    assert ours.predict(X).shape == (300,)
    stdz = RidgeProbe(alpha=5.0, standardize=True, dtype="float64").fit(X, Y)
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=5.0)).fit(X, Y)
    np.testing.assert_allclose(stdz.predict(X), pipe.predict(X), rtol=1e-6)


def test_estimator_contract():
    probe = LogisticProbe(C=2.0, standardize=True)
    assert probe.get_params()["C"] == 2.0
    twin = clone(probe)
    assert twin is not probe and twin.get_params() == probe.get_params()
    assert not hasattr(twin, "coef_")
    probe.set_params(C=0.5)
    assert probe.C == 0.5
    X, y = _data()
    assert probe.fit(X, y) is probe
    assert set(probe.classes_) == {0, 1, 2} and probe.n_features_in_ == X.shape[1]
    labels = np.array(["a", "b", "c"])[y]  # string labels come back as given
    assert set(LogisticProbe().fit(X, labels).predict(X)) <= {"a", "b", "c"}
    scores = cross_val_score(make_pipeline(StandardScaler(), LogisticProbe(C=1.0)), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.6
    r2 = cross_val_score(RidgeProbe(alpha=1.0), X, X[:, 0] * 2 + 1, cv=3)
    assert r2.min() > 0.99


def test_sklearn_check_estimator():
    """scikit-learn's full estimator checks. The ridge probe passes every check in float64; the
    float32 default differs only in the sample-weight equivalence check, whose 1e-7 tolerance is
    below float32. The logistic probe's L-BFGS stops where a step no longer changes the loss beyond
    rounding, which places a coefficient to about sqrt(eps) of its scale: scikit-learn 1.9's
    equivalence check then sees 7e-9 on a decision value of 0.035 (relative 2e-7, above its rtol
    1e-7), so that one check is expected to fail there too, and every other check must pass."""
    from sklearn.utils.estimator_checks import check_estimator

    float32_limit = {"check_sample_weight_equivalence_on_dense_data": "float32 rounding is above rtol 1e-7"}
    line_search_limit = {"check_sample_weight_equivalence_on_dense_data":
                         "a loss-based line search places coefficients to about sqrt(eps), above rtol 1e-7"}
    cases = [(LogisticProbe(dtype="float64", tol=1e-10), line_search_limit), (RidgeProbe(dtype="float64"), None),
             (RidgeProbe(), float32_limit)]
    for est, expected in cases:
        results = check_estimator(est, on_fail=None, expected_failed_checks=expected)
        bad = [r for r in results if r["status"] == "failed"]
        assert not bad, [(r["check_name"], str(r["exception"])[:200]) for r in bad]
        assert sum(r["status"] == "passed" for r in results) > 30


def test_bad_input_raises_input_error():
    X, y = _data()
    with pytest.raises(InputError, match="C"):
        LogisticProbe(C=-1).fit(X, y)
    with pytest.raises(InputError, match="class_weight"):
        LogisticProbe(class_weight="weird").fit(X, y)
    with pytest.raises(InputError, match="dtype"):
        LogisticProbe(dtype="float8").fit(X, y)
    with pytest.raises(InputError, match="alpha"):
        RidgeProbe(alpha=-2).fit(X, y)
    with pytest.raises(InputError, match="device"):
        LogisticProbe(device="tpu").fit(X, y)
