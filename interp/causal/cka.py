"""Debiased linear CKA: how alike two sets of token representations are, up to rotation and scale.

For features ``X [n, d1]`` and ``Y [n, d2]`` of the same ``n`` tokens (rows are centred first),
with Gram matrices ``K = X X^T`` and ``L = Y Y^T`` whose diagonals are set to zero,

    HSIC_u(K, L) = [tr(K L) + 1^T K 1 * 1^T L 1 / ((n-1)(n-2)) - 2/(n-2) * 1^T K L 1] / (n (n-3))
    CKA(X, Y) = HSIC_u(K, L) / sqrt(HSIC_u(K, K) HSIC_u(L, L))

(Song et al. 2012's unbiased HSIC; Kornblith et al. 2019's CKA; Nguyen et al. 2021 use the
debiased form). It is invariant to orthogonal transforms and isotropic scaling of either side.
``1 - CKA`` is the dissimilarity reported for perturbed against clean residuals.

Example:
    >>> import torch
    >>> x = torch.randn(50, 8, generator=torch.Generator().manual_seed(0))
    >>> round(float(debiased_cka(x, 3 * x)), 6)
    1.0
"""

from __future__ import annotations

import torch

from interp.errors import InputError


def _gram(x: torch.Tensor) -> torch.Tensor:
    x = x.double() if x.device.type == "cpu" else x.float()
    x = x - x.mean(dim=-2, keepdim=True)
    gram = x @ x.transpose(-1, -2)
    return gram - torch.diag_embed(torch.diagonal(gram, dim1=-2, dim2=-1))


def _hsic(k: torch.Tensor, l: torch.Tensor) -> torch.Tensor:
    n = k.shape[-1]
    ones_k, ones_l = k.sum(dim=(-1, -2)), l.sum(dim=(-1, -2))
    trace = (k * l).sum(dim=(-1, -2))                                   # tr(K L) for symmetric K, L
    middle = (k.sum(dim=-1) * l.sum(dim=-1)).sum(dim=-1)                # 1^T K L 1
    return (trace + ones_k * ones_l / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * middle) / (n * (n - 3))


def debiased_cka(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Debiased linear CKA of ``x [..., n, d1]`` and ``y [..., n, d2]`` (batched over leading dims).

    Returns a tensor of the leading shape; NaN where either side is constant.

    Raises:
        InputError: different token counts, or fewer than 4 tokens (the estimator needs n > 3).
    """
    if x.shape[:-1] != y.shape[:-1]:
        raise InputError(f"CKA needs the same tokens on both sides: got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[-2] < 4:
        raise InputError(f"debiased CKA needs at least 4 tokens; got {x.shape[-2]}")
    k, l = _gram(x), _gram(y)
    denominator = (_hsic(k, k) * _hsic(l, l)).clamp_min(0).sqrt()
    return _hsic(k, l) / torch.where(denominator > 0, denominator, torch.nan)


class CkaCollector:
    """A ``collector`` for :func:`interp.interventions.run`: instead of keeping what ``collect``
    records, it keeps the mean debiased CKA against the same site, step and rows of ``clean``.

    Attributes:
        values: ``(site, step) -> mean CKA`` over the recorded rows (rows map to the clean
            cache's rows through ``take``: row ``i`` of the run is clean row ``take[i]``).

    Example:
        >>> collector = CkaCollector(clean_cache, take=[0, 1])                 # doctest: +SKIP
        >>> run(model, inputs, collects, collector=collector, num_steps=20)    # doctest: +SKIP
        >>> collector.values[("blocks.3.resid_post", 7)]                       # doctest: +SKIP
    """

    def __init__(self, clean, take=None) -> None:
        self.clean = clean
        self.take = None if take is None else list(take)
        self.values: dict[tuple[str, int], float] = {}
        self.per_row: dict[tuple[str, int], torch.Tensor] = {}

    def __call__(self, site, branch, step, rows, value) -> None:
        take = [self.take[r] if self.take is not None else r for r in rows]
        reference = self.clean.get(site, step, branch, take=take).to(value.device)
        cka = debiased_cka(value, reference).float().cpu()
        self.per_row[(str(site), int(step))] = cka
        self.values[(str(site), int(step))] = float(cka.nanmean())

    record = __call__
