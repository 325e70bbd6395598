"""Torch solvers behind the probes: L2 logistic regression (L-BFGS) and ridge (Cholesky).

Both follow scikit-learn's regularisation conventions exactly, so a probe fitted here and one
fitted by ``sklearn.linear_model.LogisticRegression(C=C)`` / ``Ridge(alpha=alpha)`` solve the
same problem:

* logistic: minimise ``C * sum_i w_i * loss_i + 0.5 * ||W||^2`` (intercept not penalised;
  binary problems use one sigmoid column, more classes a softmax over all classes);
* ridge: minimise ``sum_i w_i * (y_i - x_i W - b)^2 + alpha * ||W||^2`` (intercept not penalised).

:func:`fit_logistic_heads` fits several independent logistic problems that share one feature
matrix in one pass (one matrix product per iteration for all heads), which is what makes a
layer x step sweep with many targets cheap. The objective is a sum of strictly convex terms,
so the joint minimiser is each head's own minimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Head:
    """One logistic problem over shared features.

    Attributes:
        codes: int64 ``[n]`` class index per row, ``-1`` where the row does not take part.
        n_classes: number of classes (>= 2); 2 gives one sigmoid column.
        C: inverse regularisation strength, as in scikit-learn.
        weight: optional float ``[n]`` per-row weights (class weights, sample weights).
    """

    codes: torch.Tensor
    n_classes: int
    C: float = 1.0
    weight: torch.Tensor | None = None

    @property
    def width(self) -> int:
        return 1 if self.n_classes == 2 else self.n_classes


@dataclass
class LogisticFit:
    """Coefficients ``[D, sum(width)]`` and intercepts of all heads, plus iterations used."""

    coef: torch.Tensor
    intercept: torch.Tensor
    n_iter: int
    converged: bool

    def head_slices(self, heads: list[Head]) -> list[slice]:
        out, start = [], 0
        for h in heads:
            out.append(slice(start, start + h.width))
            start += h.width
        return out


def fit_logistic_heads(
    X: torch.Tensor,
    heads: list[Head],
    *,
    fit_intercept: bool = True,
    max_iter: int = 200,
    tol: float = 1e-5,
    init: tuple[torch.Tensor, torch.Tensor] | None = None,
    change_tol: float = 1e-10,
) -> LogisticFit:
    """Fit independent L2 logistic regressions sharing ``X`` ``[n, D]``.

    Each head's objective is divided by ``C * sum(w)`` (same minimiser as scikit-learn's) so the
    gradient tolerance ``tol`` means the same for any number of rows.

    Args:
        X: features, float tensor ``[n, D]`` on the device to solve on.
        heads: the problems; rows with code ``-1`` are ignored by that head.
        fit_intercept: learn an unpenalised intercept per column.
        max_iter: L-BFGS iterations at most.
        tol: stop when the largest absolute gradient entry falls below this.
        init: warm start ``(coef, intercept)`` of the right shapes (e.g. the previous step's fit).
        change_tol: also stop when an iteration changes the objective (a sum over heads of
            mean losses) by less than this.
    """
    n, D = X.shape
    slices = LogisticFit(X.new_empty(0), X.new_empty(0), 0, False).head_slices(heads)
    K = slices[-1].stop if slices else 0
    W = torch.zeros(D, K, dtype=X.dtype, device=X.device)
    b = torch.zeros(K, dtype=X.dtype, device=X.device)
    if init is not None:
        W.copy_(init[0])
        b.copy_(init[1])
    params = [W, b] if fit_intercept else [W]

    # Gradients are written by hand in a transposed layout (logits as [K, n] rows): one matrix
    # product each way for all heads, no autograd graph, and contiguous rows per head. On CPU
    # these skinny products are memory-bound, and X^T kept contiguous halves their time.
    Xt = X.T.contiguous()
    row_w = torch.zeros(K, n, dtype=X.dtype, device=X.device)   # per-row weight of each logit
    target = torch.zeros(K, n, dtype=X.dtype, device=X.device)  # sigmoid targets / one-hot
    reg = torch.zeros(K, 1, dtype=X.dtype, device=X.device)     # penalty per logit
    binary = torch.zeros(K, dtype=torch.bool, device=X.device)
    multi_slices = []
    for h, sl in zip(heads, slices):
        codes = h.codes.to(X.device)
        valid = codes >= 0
        w = valid.to(X.dtype)
        if h.weight is not None:
            w = w * h.weight.to(device=X.device, dtype=X.dtype)
        total = w.sum().clamp_min(1e-12)
        row_w[sl] = w / total
        if h.n_classes == 2:
            binary[sl.start] = True
            target[sl.start] = (codes == 1).to(X.dtype)
        else:
            multi_slices.append(sl)
            cols = torch.nonzero(valid).squeeze(1)
            target[sl.start + codes[valid], cols] = 1.0
        reg[sl] = 1.0 / (2.0 * h.C * float(total))
    bin_rows = torch.nonzero(binary).squeeze(1)
    all_binary = bool(binary.all())

    def loss_and_grad() -> torch.Tensor:
        Zt = W.T @ Xt
        if fit_intercept:
            Zt += b[:, None]
        loss = (reg * W.T.square()).sum()
        if all_binary:
            zb, yb, wb = Zt, target, row_w
        else:
            zb, yb, wb = Zt[bin_rows], target[bin_rows], row_w[bin_rows]
        # log(1 + exp(z)) - y z, stable for any z
        loss = loss + (wb * (F.softplus(zb) - yb * zb)).sum()
        Rb = wb * (torch.sigmoid(zb) - yb)
        if all_binary:
            Rt = Rb
        else:
            Rt = torch.empty_like(Zt)
            Rt[bin_rows] = Rb
        for sl in multi_slices:
            logp = torch.log_softmax(Zt[sl], dim=0)
            y, w = target[sl], row_w[sl.start]
            loss = loss - (w * (y * logp).sum(0)).sum()
            Rt[sl] = w * (logp.exp() - y)
        W.grad = ((Rt @ X).T + 2.0 * reg.T * W).contiguous()
        if fit_intercept:
            b.grad = Rt.sum(1)
        return loss

    optimizer = torch.optim.LBFGS(
        params, lr=1.0, max_iter=max_iter, history_size=20, tolerance_grad=tol,
        tolerance_change=change_tol, line_search_fn="strong_wolfe",
    )

    with torch.no_grad():
        optimizer.step(loss_and_grad)
        grad = torch.cat([p.grad.reshape(-1) for p in params])
    state = optimizer.state[optimizer._params[0]]
    n_iter = int(state.get("n_iter", 0))
    converged = bool(grad.abs().max() <= tol) or n_iter < max_iter
    return LogisticFit(W.detach(), b.detach(), n_iter, converged)


def fit_ridge(
    X: torch.Tensor,
    Y: torch.Tensor,
    alpha: float | torch.Tensor,
    *,
    fit_intercept: bool = True,
    sample_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form ridge for every column of ``Y`` ``[n, k]``; returns ``(coef [D, k], intercept [k])``.

    ``alpha`` may be a scalar or one value per column. Solved by Cholesky of the ``D x D``
    system; a singular system (``alpha = 0`` with collinear features) falls back to least squares.
    """
    if sample_weight is not None:
        sw = sample_weight.to(X.dtype)
        total = sw.sum()
    else:
        sw, total = None, X.new_tensor(float(X.shape[0]))
    if fit_intercept:
        x_mean = (sw @ X / total) if sw is not None else X.mean(0)
        y_mean = (sw @ Y / total) if sw is not None else Y.mean(0)
        Xc, Yc = X - x_mean, Y - y_mean
    else:
        x_mean = X.new_zeros(X.shape[1])
        y_mean = Y.new_zeros(Y.shape[1])
        Xc, Yc = X, Y
    if sw is not None:
        root = sw.sqrt()[:, None]
        Xc, Yc = Xc * root, Yc * root
    gram = Xc.T @ Xc
    rhs = Xc.T @ Yc
    alphas = torch.as_tensor(alpha, dtype=X.dtype, device=X.device).reshape(-1)
    eye = torch.eye(gram.shape[0], dtype=X.dtype, device=X.device)
    columns = []
    groups = [(alphas[0], slice(None))] if alphas.numel() == 1 else [(a, slice(j, j + 1)) for j, a in enumerate(alphas)]
    for a, sl in groups:
        A = gram + a * eye
        L, info = torch.linalg.cholesky_ex(A)
        if int(info) == 0:
            columns.append(torch.cholesky_solve(rhs[:, sl], L))
        else:
            columns.append(torch.linalg.lstsq(A, rhs[:, sl]).solution)
    coef = torch.cat(columns, dim=1)
    intercept = y_mean - x_mean @ coef
    return coef, intercept
