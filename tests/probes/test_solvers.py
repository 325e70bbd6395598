"""The multi-head logistic solver against scikit-learn, and the properties it relies on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from probes.lbfgs import minimize_columns
from probes.solvers import Head, fit_logistic_heads


def _correlated(n=400, d=12, seed=0):
    """Features with a strongly anisotropic covariance, as residual streams have."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) * np.geomspace(10.0, 0.1, d)[:, None]
    X = rng.normal(size=(n, d)) @ mix + 3.0
    return X, rng


def _heads(X, rng):
    direction = rng.normal(size=X.shape[1])
    score = (X - X.mean(0)) @ direction / X.std(0).mean()
    binary = (score + rng.normal(scale=2.0, size=len(X)) > 0).astype(int)
    three = np.digitize(score + rng.normal(scale=2.0, size=len(X)), np.quantile(score, [0.3, 0.7]))
    rare = (score > np.quantile(score, 0.9)).astype(int)
    masked = binary.copy()
    masked[: len(X) // 3] = -1
    weight = rng.uniform(0.5, 2.0, size=len(X))
    return [(binary, 2, 1.0, None), (three, 3, 0.3, None), (rare, 2, 10.0, weight), (masked, 2, 0.1, None)]


def _sklearn_logits(X, codes, n_classes, C, weight):
    ok = codes >= 0
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=20_000).fit(
        X[ok], codes[ok], sample_weight=None if weight is None else weight[ok])
    return ref.decision_function(X).reshape(len(X), -1)


def test_heads_solved_together_match_sklearn_one_by_one():
    X, rng = _correlated()
    problems = _heads(X, rng)
    Xt = torch.as_tensor(X)
    heads = [Head(torch.as_tensor(c), k, C, None if w is None else torch.as_tensor(w)) for c, k, C, w in problems]
    fit = fit_logistic_heads(Xt, heads, max_iter=5000, tol=1e-10)
    logits = (Xt @ fit.coef + fit.intercept).numpy()
    for (codes, k, C, w), sl in zip(problems, fit.head_slices(heads)):
        ref = _sklearn_logits(X, codes, k, C, w)
        np.testing.assert_allclose(logits[:, sl], ref, atol=1e-4 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("precondition", [False, True])
def test_whitening_and_warm_starts_keep_the_minimiser(precondition):
    X, rng = _correlated(seed=1)
    Xt = torch.as_tensor(X)
    heads = [Head(torch.as_tensor(c), k, C, None if w is None else torch.as_tensor(w))
             for c, k, C, w in _heads(X, rng)]
    reference = fit_logistic_heads(Xt, heads, max_iter=5000, tol=1e-10, precondition=False)
    fit = fit_logistic_heads(Xt, heads, max_iter=5000, tol=1e-10, precondition=precondition)
    scale = reference.coef.abs().max()
    assert (fit.coef - reference.coef).abs().max() <= 1e-4 * scale
    # started at the solution, a fit has little left to do and stays there
    again = fit_logistic_heads(Xt, heads, max_iter=5000, tol=1e-6, precondition=precondition,
                               init=(fit.coef, fit.intercept))
    assert again.n_iter < fit.n_iter / 10
    assert (again.coef - fit.coef).abs().max() <= 1e-4 * scale


def test_whitening_needs_fewer_iterations_on_correlated_features():
    X, rng = _correlated(n=2000, d=40, seed=2)
    Xt = torch.as_tensor(X)
    heads = [Head(torch.as_tensor(c), k, C, None if w is None else torch.as_tensor(w))
             for c, k, C, w in _heads(X, rng)]
    raw = fit_logistic_heads(Xt, heads, max_iter=1500, tol=1e-5, precondition=False)
    white = fit_logistic_heads(Xt, heads, max_iter=1500, tol=1e-5, precondition=True)
    assert white.converged and not raw.converged


def test_features_without_variance_are_harmless():
    """More features than rows, a constant and a duplicated column: the same probabilities as
    scikit-learn's solver."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 30))
    X[:, 5] = 4.0
    X[:, 7] = X[:, 6]
    y = rng.integers(0, 3, size=20)
    fit = fit_logistic_heads(torch.as_tensor(X), [Head(torch.as_tensor(y), 3, 1.0)], max_iter=5000, tol=1e-10)
    ours = torch.softmax(torch.as_tensor(X) @ fit.coef + fit.intercept, dim=1).numpy()
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=20_000).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_each_head_keeps_its_own_pace():
    """Quadratics of very different conditioning: each column group reaches its own minimiser,
    the well-conditioned head stops early, and a head's result does not depend on the others."""
    # columns: heads 0, 0, 1, 2; head 0 is isotropic, heads 1 and 2 span six orders of magnitude
    curv = torch.tensor([[1.0, 1.0, 1e-3, 1e3], [1.0, 1.0, 1.0, 1e-3], [1.0, 1.0, 1e3, 1.0], [1.0, 1.0, 1e-1, 1e1]],
                        dtype=torch.float64)
    target = torch.arange(16.0).reshape(4, 4)
    heads = torch.tensor([0, 0, 1, 2])

    def f(P):
        r = P - target
        per_column = (curv * r * r).sum(0) / 2
        return torch.zeros(3, dtype=P.dtype).index_add_(0, heads, per_column), curv * r

    P0 = torch.zeros(4, 4, dtype=torch.float64)
    together = minimize_columns(f, P0, heads, max_iter=500, tol=1e-10)
    assert bool(together.converged.all())
    torch.testing.assert_close(together.params, target.double(), atol=1e-8, rtol=0)
    easy = minimize_columns(f, P0, heads, max_iter=3, tol=1e-10)
    torch.testing.assert_close(easy.params[:, :2], target.double()[:, :2], atol=1e-8, rtol=0)
