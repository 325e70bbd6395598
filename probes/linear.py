"""Linear probes with the scikit-learn estimator contract and a torch solver (CPU or GPU).

:class:`LogisticProbe` is L2 logistic regression (binary or multinomial) and :class:`RidgeProbe`
is ridge regression. Their regularisation means what it means in scikit-learn (``C`` of
``LogisticRegression``, ``alpha`` of ``Ridge``), so the same hyper-parameters give the same
model. ``standardize=True`` fits on z-scored features (as ``make_pipeline(StandardScaler(),
...)`` would) and folds the scaling back so ``coef_`` applies to raw activations.

Example:
    >>> import numpy as np
    >>> from probes import LogisticProbe
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)); y = (X[:, 0] > 0).astype(int)
    >>> probe = LogisticProbe(C=10.0).fit(X, y)
    >>> probe.score(X, y) > 0.95
    True
    >>> probe.coef_.shape
    (1, 5)
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from interp.errors import InputError, check_choice
from probes.solvers import Head, fit_logistic_heads, fit_ridge

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks CUDA when available; anything else must be a valid torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda[:i]'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} asked for but CUDA is not available: use 'cpu' or 'auto'")
    return dev


def standardization(X: torch.Tensor, weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean and scale of ``X`` (scale 1 where a feature is constant, as sklearn does)."""
    if weight is None:
        mean = X.mean(0)
        var = X.var(0, unbiased=False)
    else:
        w = weight / weight.sum()
        mean = w @ X
        var = w @ (X - mean).square()
    scale = var.sqrt()
    scale = torch.where(scale > 1e-12 * (1 + mean.abs()), scale, torch.ones_like(scale))
    return mean, scale


class _TorchProbe(BaseEstimator):
    """Shared plumbing: validation, device/dtype, standardisation and the fold-back."""

    def _check_common(self) -> tuple[torch.device, torch.dtype]:
        check_choice("dtype", self.dtype, tuple(DTYPES))
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise InputError(f"standardize {self.standardize!r} must be True or False")
        return resolve_device(self.device), DTYPES[self.dtype]

    def _prepare(self, X, sample_weight):
        """Features as a tensor (z-scored with sample weights, never class weights, if asked)."""
        device, dtype = self._check_common()
        Xt = torch.as_tensor(np.ascontiguousarray(X), dtype=dtype, device=device)
        sw = None
        if sample_weight is not None:
            sw = torch.as_tensor(sample_weight, dtype=dtype, device=device)
        if self.standardize:
            mean, scale = standardization(Xt, sw)
            Xt = (Xt - mean) / scale
        else:
            mean = scale = None
        return Xt, sw, mean, scale

    def _fold_back(self, W: torch.Tensor, b: torch.Tensor, mean, scale) -> None:
        """Express the fitted linear map in raw-feature units; keep the scaler for reference."""
        if mean is not None:
            W = W / scale[:, None]
            b = b - mean @ W
            self.mean_ = mean.cpu().numpy().astype(np.float64)
            self.scale_ = scale.cpu().numpy().astype(np.float64)
        self.coef_ = W.T.cpu().numpy().astype(np.float64)
        self.intercept_ = b.cpu().numpy().astype(np.float64)

    def _linear(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class LogisticProbe(ClassifierMixin, _TorchProbe):
    """L2-regularised logistic regression solved by full-batch L-BFGS in torch.

    Minimises ``C * sum_i w_i * log_loss_i + 0.5 * ||coef||^2`` exactly like
    ``sklearn.linear_model.LogisticRegression(C=C)`` with the lbfgs solver (binary: one sigmoid
    column; three or more classes: multinomial softmax).

    Args:
        C: inverse regularisation strength (> 0).
        fit_intercept: learn an unpenalised intercept.
        standardize: z-score features before fitting (regularisation then acts on z-scores).
        class_weight: ``None``, ``"balanced"`` (weights ``n / (k * count)`` per class) or a dict
            ``{class: weight}``, as in scikit-learn.
        max_iter: L-BFGS iterations at most.
        tol: gradient tolerance of the mean-scaled objective.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` (default, fast) or ``"float64"``.

    Attributes:
        classes_: sorted class labels.
        coef_: ``[1, D]`` (binary) or ``[K, D]``, in raw-feature units.
        intercept_: ``[1]`` or ``[K]``.
        mean_, scale_: the standardisation used (only with ``standardize=True``).
        n_iter_: L-BFGS iterations run.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> LogisticProbe(C=1.0, standardize=True).fit(X, y).score(X, y) > 0.9
        True
    """

    def __init__(self, C: float = 1.0, *, fit_intercept: bool = True, standardize: bool = False,
                 class_weight=None, max_iter: int = 500, tol: float = 1e-6, device: str = "cpu",
                 dtype: str = "float32"):
        self.C = C
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.device = device
        self.dtype = dtype

    def fit(self, X, y, sample_weight=None) -> LogisticProbe:
        """Fit on ``X`` ``[n, D]`` and labels ``y`` ``[n]``; returns ``self``."""
        if not (isinstance(self.C, (int, float, np.number)) and self.C > 0):
            raise InputError(f"C {self.C!r} must be a positive number (inverse regularisation)")
        if not (self.class_weight in (None, "balanced") or isinstance(self.class_weight, dict)):
            raise InputError(f"class_weight {self.class_weight!r} is not supported: use None, 'balanced' "
                             "or a dict {class: weight}")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=False)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"needs samples of at least 2 classes, got 1 class: {self.classes_.tolist()}")
        weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float64)
        Xt, sw, mean, scale = self._prepare(X, weight)
        if self.class_weight is not None:
            cw = torch.as_tensor(compute_sample_weight(self.class_weight, y), dtype=Xt.dtype, device=Xt.device)
            sw = cw if sw is None else sw * cw
        head = Head(torch.as_tensor(codes, device=Xt.device), len(self.classes_), float(self.C), sw)
        fit = fit_logistic_heads(Xt, [head], fit_intercept=self.fit_intercept,
                                 max_iter=int(self.max_iter), tol=float(self.tol))
        self.n_iter_ = np.array([fit.n_iter])
        self._fold_back(fit.coef, fit.intercept, mean, scale)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Logits: ``[n]`` for binary problems, ``[n, K]`` otherwise."""
        scores = self._linear(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[n, K]`` in the order of ``classes_``."""
        scores = self._linear(X)
        if scores.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1 - p, p], axis=1)
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class label per row."""
        scores = self._linear(X)
        idx = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
        return self.classes_[idx]


class RidgeProbe(RegressorMixin, _TorchProbe):
    """Ridge regression solved in closed form (Cholesky) in torch.

    Minimises ``sum_i w_i (y_i - x_i coef - b)^2 + alpha * ||coef||^2`` exactly like
    ``sklearn.linear_model.Ridge(alpha=alpha)``.

    Args:
        alpha: regularisation strength (>= 0).
        fit_intercept: learn an unpenalised intercept.
        standardize: z-score features before fitting.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` (default) or ``"float64"``.

    Attributes:
        coef_: ``[D]`` for a 1-D target, ``[k, D]`` for a 2-D one, in raw-feature units.
        intercept_: scalar or ``[k]``.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(100, 3))
        >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
        >>> np.round(RidgeProbe(alpha=1e-6).fit(X, y).coef_, 3).tolist()
        [1.0, -2.0, 0.5]
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, standardize: bool = False,
                 device: str = "cpu", dtype: str = "float32"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.device = device
        self.dtype = dtype

    def fit(self, X, y, sample_weight=None) -> RidgeProbe:
        """Fit on ``X`` ``[n, D]`` and targets ``y`` ``[n]`` or ``[n, k]``; returns ``self``."""
        if not (isinstance(self.alpha, (int, float, np.number)) and self.alpha >= 0):
            raise InputError(f"alpha {self.alpha!r} must be a non-negative number")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True, multi_output=True)
        weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float64)
        Xt, sw, mean, scale = self._prepare(X, weight)
        Y = torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(len(y), -1), dtype=Xt.dtype, device=Xt.device)
        W, b = fit_ridge(Xt, Y, float(self.alpha), fit_intercept=self.fit_intercept, sample_weight=sw)
        self._fold_back(W, b, mean, scale)
        self._single_output = np.ndim(y) == 1
        if self._single_output:
            self.coef_, self.intercept_ = self.coef_[0], float(self.intercept_[0])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def predict(self, X) -> np.ndarray:
        """Predicted targets ``[n]`` or ``[n, k]``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        out = X @ np.atleast_2d(self.coef_).T + self.intercept_
        return out[:, 0] if self._single_output else out
