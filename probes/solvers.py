"""Torch solvers behind the probes: L2 logistic regression (L-BFGS) and ridge (Cholesky).

Both follow scikit-learn's regularisation conventions exactly, so a probe fitted here and one
fitted by ``sklearn.linear_model.LogisticRegression(C=C)`` / ``Ridge(alpha=alpha)`` solve the
same problem:

* logistic: minimise ``C * sum_i w_i * loss_i + 0.5 * ||W||^2`` (intercept not penalised;
  binary problems use one sigmoid column, more classes a softmax over all classes);
* ridge: minimise ``sum_i w_i * (y_i - x_i W - b)^2 + alpha * ||W||^2`` (intercept not penalised).

:func:`fit_logistic_heads` fits several independent logistic problems that share one feature
matrix together: one matrix product each way per iteration for all heads, while each head keeps
its own L-BFGS history, step length and stopping test (:mod:`probes.lbfgs`). That is what makes
a layer x step sweep with many targets cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from probes.lbfgs import minimize_columns


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

    @staticmethod
    def head_slices(heads: list[Head]) -> list[slice]:
        """The columns of ``coef`` that belong to each head, in order."""
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
    precondition: bool = True,
) -> LogisticFit:
    """Fit independent L2 logistic regressions sharing ``X`` ``[n, D]``.

    Each head's objective is divided by ``C * sum(w)`` (same minimiser as scikit-learn's) so the
    gradient tolerance ``tol`` means the same for any number of rows.

    Args:
        X: features, float tensor ``[n, D]`` on the device to solve on.
        heads: the problems; rows with code ``-1`` are ignored by that head.
        fit_intercept: learn an unpenalised intercept per column.
        max_iter: L-BFGS iterations at most (every head has its own history and step length,
            see :mod:`probes.lbfgs`; one iteration evaluates all heads at once).
        tol: a head stops once its largest absolute gradient entry falls below this.
        init: warm start ``(coef, intercept)`` of the right shapes (e.g. the previous step's fit).
        precondition: solve in whitened coordinates (see :func:`_whitener`): the same
            minimiser, reached in a fraction of the iterations when features are correlated,
            as residual-stream features are. ``tol`` then applies to the whitened gradient.
    """
    n, D = X.shape
    slices = LogisticFit.head_slices(heads)
    K = slices[-1].stop if slices else 0

    # Gradients are written by hand in a transposed layout (logits as [K, n] rows): one matrix
    # product each way for all heads, no autograd graph, and contiguous rows per head. Products
    # and elementwise work run in X's dtype; parameters and every sum are float64 (cheap, and it
    # keeps L-BFGS's curvature pairs, differences of nearby gradients, clear of float32 rounding).
    acc, work = torch.float64, X.dtype
    row_w = torch.zeros(K, n, dtype=work, device=X.device)   # per-row weight of each logit
    target = torch.zeros(K, n, dtype=work, device=X.device)  # sigmoid targets / one-hot
    reg = torch.zeros(K, 1, dtype=acc, device=X.device)     # penalty per logit
    binary = torch.zeros(K, dtype=torch.bool, device=X.device)
    multi_slices = []
    for h, sl in zip(heads, slices):
        codes = h.codes.to(X.device)
        valid = codes >= 0
        w = valid.to(acc)
        if h.weight is not None:
            w = w * h.weight.to(device=X.device, dtype=acc)
        total = w.sum().clamp_min(1e-300)
        row_w[sl] = w / total
        if h.n_classes == 2:
            binary[sl.start] = True
            target[sl.start] = (codes == 1).to(work)
        else:
            multi_slices.append(sl)
            cols = torch.nonzero(valid).squeeze(1)
            target[sl.start + codes[valid], cols] = 1.0
        reg[sl] = 1.0 / (2.0 * h.C * float(total))
    bin_rows = torch.nonzero(binary).squeeze(1)
    all_binary = bool(binary.all())

    # W = M V: fit V on features X M, with the penalty ||M V||^2 = sum_j pen_j ||V_j||^2
    if precondition and K:
        M, M_inv, pen = _whitener(X, row_w.mean(0), 2.0 * float(reg.min()))
        X = X @ M
    else:
        M, pen = None, torch.ones(D, dtype=acc, device=X.device)
    # on CPU these skinny products are memory-bound, and X^T kept contiguous halves their time
    Xt = X.T.contiguous()
    # parameters as one matrix: weights, then the intercept as a last row (not penalised)
    m = X.shape[1]
    P0 = torch.zeros(m + int(fit_intercept), K, dtype=acc, device=X.device)
    if init is not None:
        P0[:m] = init[0] if M is None else M_inv @ init[0].to(M_inv.dtype)
        if fit_intercept:
            P0[m] = init[1]
    penalty = reg * pen[None, :]  # [K, m]
    column_head = torch.cat([torch.full((h.width,), i, dtype=torch.long) for i, h in enumerate(heads)]
                            ) if heads else torch.zeros(0, dtype=torch.long)

    def loss_and_grad(P: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        W = P[:m]
        Zt = W.T.to(work) @ Xt
        if fit_intercept:
            Zt += P[m].to(work)[:, None]
        column_loss = (penalty * W.T.square()).sum(1)
        if all_binary:
            zb, yb, wb = Zt, target, row_w
        else:
            zb, yb, wb = Zt[bin_rows], target[bin_rows], row_w[bin_rows]
        Rb = wb * (torch.sigmoid(zb) - yb)
        # log(1 + exp(z)) - y z, stable for any z
        binary_loss = (wb * (F.softplus(zb) - yb * zb)).sum(1, dtype=acc)
        if all_binary:
            Rt = Rb
            column_loss = column_loss + binary_loss
        else:
            Rt = torch.empty_like(Zt)
            Rt[bin_rows] = Rb
            column_loss = column_loss.index_add(0, bin_rows, binary_loss)
        for sl in multi_slices:
            logp = torch.log_softmax(Zt[sl], dim=0)
            y, w = target[sl], row_w[sl.start]
            column_loss[sl.start] -= (w * (y * logp).sum(0)).sum(dtype=acc)
            Rt[sl] = w * (logp.exp() - y)
        grad = torch.empty_like(P)
        grad[:m] = (Rt @ X).T.to(acc) + 2.0 * penalty.T * W
        if fit_intercept:
            grad[m] = Rt.sum(1, dtype=acc)
        head_loss = torch.zeros(len(heads), dtype=acc, device=X.device)
        return head_loss.index_add_(0, column_head.to(X.device), column_loss), grad

    with torch.no_grad():
        result = minimize_columns(loss_and_grad, P0, column_head, max_iter=max_iter, tol=tol)
    W = result.params[:m].to(X.dtype)
    b = result.params[m].to(X.dtype) if fit_intercept else torch.zeros(K, dtype=X.dtype, device=X.device)
    coef = W if M is None else M @ W
    return LogisticFit(coef, b, result.n_iter, bool(result.converged.all()))


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


def _whitener(X: torch.Tensor, w: torch.Tensor, ridge: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``M = Q (lam/4 + ridge)^-1/2`` from the eigenpairs ``(lam, Q)`` of ``X``'s covariance
    under row weights ``w`` (summing to 1; weights, not duplicated rows, so both give one ``M``).

    ``lam / 4 + ridge`` bounds the logistic Hessian along each eigenvector (curvature at most
    1/4 per row, plus the penalty), so in the coordinates ``V = M^+ W`` the problem is close to
    isotropic. Eigenvectors without variance (below rounding) are dropped: along them only the
    penalty acts, so the minimiser has no component there, the intercept absorbing any constant.
    Returns ``M`` ``[D, r]``, its left inverse ``[r, D]`` and the penalty weight
    ``1 / (lam/4 + ridge)`` of each whitened coordinate (``Q`` is orthonormal, so ``||M V||^2``
    is that weighted sum of squares).
    """
    mean = w @ X
    cov = (X.T @ (X * w[:, None])).double() - torch.outer(mean, mean).double()
    lam, Q = torch.linalg.eigh(cov)
    # the covariance's own (float64) rounding: a float32 threshold would drop directions that
    # carry signal, and the fit would stop short of the optimum
    keep = lam > lam[-1].clamp_min(0) * X.shape[1] * torch.finfo(lam.dtype).eps
    lam, Q = lam[keep], Q[:, keep]
    scale = lam / 4.0 + ridge
    M = (Q * scale.rsqrt()).to(X.dtype)
    M_inv = (Q * scale.sqrt()).T
    return M, M_inv, 1.0 / scale
