"""Debiased linear CKA against a direct computation, and its invariances."""

import numpy as np
import pytest
import torch

from interp.causal.cka import CkaCollector, debiased_cka
from interp.errors import InputError


def direct_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Song et al.'s unbiased HSIC written out term by term with loops over (i, j) pairs."""
    def hsic(k, l):
        n = len(k)
        k, l = k.copy(), l.copy()
        np.fill_diagonal(k, 0)
        np.fill_diagonal(l, 0)
        trace = sum(k[i, j] * l[j, i] for i in range(n) for j in range(n))
        total = k.sum() * l.sum() / ((n - 1) * (n - 2))
        cross = sum(k[i, j] * l[j, m] for i in range(n) for j in range(n) for m in range(n))
        return (trace + total - 2.0 / (n - 2) * cross) / (n * (n - 3))

    x = x - x.mean(0)
    y = y - y.mean(0)
    k, l = x @ x.T, y @ y.T
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 4))
    y = x @ rng.normal(size=(4, 3)) + 0.5 * rng.normal(size=(9, 3))
    return x, y


def test_matches_direct_computation(xy):
    x, y = xy
    got = float(debiased_cka(torch.tensor(x), torch.tensor(y)))
    assert got == pytest.approx(direct_cka(x, y), rel=1e-9)


def test_batched_equals_one_by_one(xy):
    x, y = xy
    batch = debiased_cka(torch.tensor(np.stack([x[:, :3], y])), torch.tensor(np.stack([y, x[:, :3]])))
    assert float(batch[0]) == pytest.approx(float(debiased_cka(torch.tensor(x[:, :3]), torch.tensor(y))))
    assert float(batch[1]) == pytest.approx(float(batch[0]))


def test_invariant_to_orthogonal_transform_and_isotropic_scaling(xy):
    x, y = xy
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))
    base = float(debiased_cka(torch.tensor(x), torch.tensor(y)))
    assert float(debiased_cka(torch.tensor(x @ q), torch.tensor(y))) == pytest.approx(base, rel=1e-9)
    assert float(debiased_cka(torch.tensor(7.5 * x), torch.tensor(0.1 * y))) == pytest.approx(base, rel=1e-9)
    assert float(debiased_cka(torch.tensor(x), torch.tensor(x))) == pytest.approx(1.0)


def test_rejects_mismatched_or_too_few_tokens():
    with pytest.raises(InputError, match="same tokens"):
        debiased_cka(torch.zeros(5, 2), torch.zeros(6, 2))
    with pytest.raises(InputError, match="at least 4 tokens"):
        debiased_cka(torch.zeros(3, 2), torch.zeros(3, 2))


def test_collector_compares_with_the_clean_rows():
    from interp.interventions import ActivationCache
    from interp.sites import Site

    clean = ActivationCache()
    value = torch.randn(2, 10, 4, generator=torch.Generator().manual_seed(0))
    clean.record(Site("resid_post", 0), "cond", 3, [0, 1], value)
    collector = CkaCollector(clean, take=[1])
    collector(Site("resid_post", 0), "cond", 3, [0], value[1:])
    assert collector.values[("blocks.0.resid_post", 3)] == pytest.approx(1.0)
