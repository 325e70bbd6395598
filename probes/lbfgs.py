"""L-BFGS for many independent problems whose parameters are column groups of one matrix.

A probe sweep fits a dozen logistic heads on the same features. One matrix product evaluates
them all, but one joint L-BFGS (``torch.optim.LBFGS`` over every head's weights) shares one
curvature model and one step length between them, so the slowest head sets the pace of all and
each converges worse than it would alone. Here every head keeps its own history, curvature
scaling, step length (backtracking Armijo line search) and stopping test, while every
function evaluation is still one call for all heads.

Example:
    >>> import torch
    >>> target = torch.tensor([[1.0, -2.0, 3.0]])              # three 1-d problems, heads 0, 0, 1
    >>> def f(P):                                              # per-head loss, gradient [1, 3]
    ...     r = P - target
    ...     return torch.stack([(r[:, :2] ** 2).sum(), (r[:, 2:] ** 2).sum()]), 2 * r
    >>> result = minimize_columns(f, torch.zeros(1, 3), torch.tensor([0, 0, 1]), max_iter=50, tol=1e-8)
    >>> torch.allclose(result.params, target), bool(result.converged.all())
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

ARMIJO = 1e-4
MAX_HALVINGS = 30


@dataclass
class ColumnsResult:
    """Solution ``params`` ``[m, K]``, per-head loss, iterations run and per-head convergence."""

    params: torch.Tensor
    loss: torch.Tensor
    n_iter: int
    converged: torch.Tensor


def minimize_columns(
    func: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    params: torch.Tensor,
    column_head: torch.Tensor,
    *,
    max_iter: int = 100,
    tol: float = 1e-5,
    history: int = 10,
) -> ColumnsResult:
    """Minimise independent smooth convex problems stored as column groups of ``params``.

    Args:
        func: maps parameters ``[m, K]`` to ``(loss per head [H], gradient [m, K])``; head
            ``h``'s loss may depend only on its own columns.
        params: starting point ``[m, K]`` (not modified).
        column_head: int64 ``[K]``, the head (``0..H-1``) each column belongs to.
        max_iter: iterations at most (each costs one ``func`` call, more if a step backtracks).
        tol: a head stops once its largest absolute gradient entry is at most this, or once an
            iteration changes its loss by no more than rounding (``converged`` says which).
        history: curvature pairs kept per head.
    """
    H = int(column_head.max()) + 1 if column_head.numel() else 0
    col = column_head.to(params.device)

    def per_head(a: torch.Tensor) -> torch.Tensor:  # sum of a head's entries of a [m, K]
        return torch.zeros(H, dtype=a.dtype, device=a.device).index_add_(0, col, a.sum(0))

    def grad_max(g: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(H, dtype=g.dtype, device=g.device)
        return out.scatter_reduce_(0, col, g.abs().amax(0), reduce="amax")

    P = params.clone()
    loss, G = func(P)
    active = grad_max(G) > tol
    pairs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []  # (s, y, 1 / s.y per head)
    n_iter = 0
    while n_iter < max_iter and bool(active.any()):
        n_iter += 1
        d = _two_loop(G, pairs, per_head, col, H)
        if not pairs:  # first step: steepest descent, at most unit length (as torch's L-BFGS)
            d = d * (1.0 / per_head(G.abs()).clamp_min(1.0))[col]
        slope = per_head(G * d)
        uphill = slope >= 0  # lost descent (rounding): restart that head from steepest descent
        if bool((uphill & active).any()):
            d = torch.where(uphill[col], -G, d)
            slope = torch.where(uphill, -per_head(G * G), slope)
        d = d * active[col]
        step = torch.ones(H, dtype=P.dtype, device=P.device)
        for _ in range(MAX_HALVINGS):
            trial = P + step[col] * d
            new_loss, new_G = func(trial)
            ok = (new_loss <= loss + ARMIJO * step * slope) | ~active
            if bool(ok.all()):
                break
            step = torch.where(ok, step, step * 0.5)
        else:  # no decrease found: those heads are at the precision limit, stop them where they are
            stuck = ~ok
            step = torch.where(stuck, torch.zeros_like(step), step)
            trial = P + step[col] * d
            new_loss, new_G = func(trial)
            active = active & ~stuck
        s, y = trial - P, new_G - G
        sy = per_head(s * y)
        rho = torch.where(sy > 1e-12 * per_head(y * y).sqrt() * per_head(s * s).sqrt(), 1.0 / sy, 0.0)
        pairs.append((s, y, rho))
        if len(pairs) > history:
            pairs.pop(0)
        # a head that had to backtrack yet moved its loss by no more than rounding has reached
        # its dtype's precision
        flat = (step < 1) & ((loss - new_loss).abs() <= 8 * torch.finfo(P.dtype).eps * loss.abs())
        P, loss, G = trial, new_loss, new_G
        active = active & (grad_max(G) > tol) & ~flat
    return ColumnsResult(P, loss, n_iter, grad_max(G) <= tol)


def _two_loop(G, pairs, per_head, col, H: int) -> torch.Tensor:
    """The L-BFGS direction ``-H G`` with every head's own history (pairs with ``rho = 0`` are
    skipped for that head) and initial scaling ``s.y / y.y`` of its newest usable pair."""
    q = -G
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * per_head(s * q)
        q = q - a[col] * y
        alphas.append(a)
    gamma = torch.ones(H, dtype=G.dtype, device=G.device)
    found = torch.zeros_like(gamma, dtype=torch.bool)
    for s, y, rho in reversed(pairs):
        usable = (rho > 0) & ~found
        gamma = torch.where(usable, 1.0 / (rho * per_head(y * y)).clamp_min(1e-300), gamma)
        found |= usable
    q = q * gamma[col]
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        b = rho * per_head(y * q)
        q = q + (a - b)[col] * s
    return q
