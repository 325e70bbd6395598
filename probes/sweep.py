"""Fit one probe per (branch, layer, step, target) from a trace store; report held-out scores.

The store is read one (layer, step) block at a time (``[N_samples, T, D]``), so memory stays
bounded by one block whatever the trace's size. Per block:

1. samples are split train/test **by maze** (:func:`probes.split.split_samples`, fixed seed,
   the same split for every block);
2. features are z-scored with training-token statistics;
3. every class target, plus its shuffled-label control, is fitted in one multi-head L-BFGS
   pass (one history per head, :mod:`probes.lbfgs`), warm-started from the previous step of
   the same layer or, at a layer's first step, from the layer before; the regression target is
   solved in closed form;
4. test tokens are scored per maze and a bootstrap over test mazes gives the interval.

The score is **balanced accuracy** for class targets (chance = 0.5 for binary targets whatever
the class imbalance) and **R^2** for ``distance``. ``selectivity_shuffle`` = score minus the
shuffled-label control's score. :func:`attach_control` adds a second table's scores (the same
sweep on a randomly initialised model) as ``control_random`` and ``selectivity``.

Example:
    >>> from interp.store import TraceStore                                   # doctest: +SKIP
    >>> with TraceStore.open("trace.h5") as store:                            # doctest: +SKIP
    ...     rows = sweep(store, ["wall", "route"], layers=[0, 4])
    >>> rows[0]["score"], rows[0]["ci_low"], rows[0]["ci_high"]               # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from interp.errors import InputError, check_range
from interp.sites import template_kind
from probes.labels import label_matrix
from probes.linear import resolve_device
from probes.scoring import bootstrap_interval, bootstrap_replicates, class_scores, class_stats, regress_scores, regress_stats
from probes.solvers import Head, fit_logistic_heads, fit_ridge
from probes.split import shuffled_sources, split_samples
from probes.table import OUTPUTS, load_table, save_table  # noqa: F401 (the sweep's table, read from here too)
from probes.targets import check_targets

SITE_TEMPLATE = "blocks.{layer}.resid_post"


@dataclass
class SweepSettings:
    """How every probe of a sweep is fitted and scored (saved next to the results).

    Attributes:
        C: inverse L2 strength of the logistic probes (scikit-learn's ``C``) on z-scored features.
        alpha: L2 strength of the ridge probes (scikit-learn's ``alpha``) on z-scored features.
        class_weight: ``"balanced"`` or ``None`` for the logistic probes.
        test_fraction: share of samples (mazes) held out.
        seed: seed of the split, the shuffled control and the bootstrap.
        n_boot: bootstrap replicates over test mazes (0: no interval).
        level: coverage of the interval.
        shuffle: the shuffled-label control: ``"token"`` permutes labels among training tokens
            (the classic control, chance by construction); ``"maze"`` gives each training maze
            another training maze's labels (keeps position priors such as the border always
            being wall); ``None`` skips it.
        frames: keep only tokens of these frames (``None``: all frames).
        max_iter, tol: L-BFGS limits per head. Fits are warm-started from the previous step and
            solved in whitened coordinates; more iterations barely move float32 fits
            (``experiments/bench_probes.py --against-converged`` measures the gap).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        dtype: ``"float32"`` or ``"float64"``, the features' precision in the solver's matrix
            products (parameters and sums are float64 either way); float32 runs about twice as
            fast.
    """

    C: float = 0.1
    alpha: float = 10.0
    class_weight: str | None = "balanced"
    test_fraction: float = 0.25
    seed: int = 0
    n_boot: int = 200
    level: float = 0.95
    shuffle: str | None = "token"
    frames: list[int] | None = None
    max_iter: int = 15
    tol: float = 1e-4
    device: str = "cpu"
    dtype: str = "float32"
    site_template: str = SITE_TEMPLATE
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        if not self.C > 0:
            raise InputError(f"C {self.C} must be positive")
        if not self.alpha >= 0:
            raise InputError(f"alpha {self.alpha} must be non-negative")
        if self.class_weight not in (None, "balanced"):
            raise InputError(f"class_weight {self.class_weight!r} is not valid: use None or 'balanced'")
        if self.shuffle not in (None, "token", "maze"):
            raise InputError(f"shuffle {self.shuffle!r} is not valid: use 'token', 'maze' or None")
        check_range("test_fraction", self.test_fraction, 0.01, 0.99)
        check_range("n_boot", self.n_boot, 0, 100_000)
        check_range("max_iter", self.max_iter, 1, 100_000)
        if not self.tol > 0:
            raise InputError(f"tol {self.tol} must be positive")
        if self.dtype not in ("float32", "float64"):
            raise InputError(f"dtype {self.dtype!r} is not valid: use 'float32' or 'float64'")
        if "{layer}" not in self.site_template:
            raise InputError(f"site template {self.site_template!r} needs a '{{layer}}' field")
        resolve_device(self.device)


def _check_subset(name: str, asked, available) -> list[int]:
    available = [int(a) for a in available]
    if asked is None:
        return available
    asked = [int(a) for a in asked]
    bad = [a for a in asked if a not in available]
    if bad:
        raise InputError(f"unknown {name} {bad}: the store has {name} {available}")
    return asked


def _class_weights(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """``n / (k * count)`` per row's class (scikit-learn's ``balanced``), 0 for masked rows."""
    valid = codes >= 0
    counts = np.bincount(codes[valid], minlength=n_classes).astype(float)
    present = counts > 0
    w_class = np.zeros(n_classes)
    w_class[present] = valid.sum() / (present.sum() * counts[present])
    out = np.zeros(len(codes))
    out[valid] = w_class[codes[valid]]
    return out


class _Block:
    """One (layer, step) block split into z-scored train and test token matrices."""

    def __init__(self, X: np.ndarray, keep: np.ndarray | None, train_pos: np.ndarray, test_pos: np.ndarray,
                 device: torch.device, dtype: torch.dtype = torch.float32):
        D = X.shape[-1]
        xt = torch.from_numpy(X)
        if keep is not None:
            xt = xt[:, torch.as_tensor(keep)]
        self.train = xt[torch.as_tensor(train_pos)].reshape(-1, D).to(device=device, dtype=dtype)
        self.test = xt[torch.as_tensor(test_pos)].reshape(-1, D).to(device=device, dtype=dtype)
        # two passes (mean, then variance of the centred copy) as matrix-vector products: far
        # faster than a strided column reduction on CPU, and as accurate
        n = self.train.shape[0]
        mean = (torch.ones(1, n, device=device, dtype=dtype) @ self.train)[0] / n
        self.train.sub_(mean)
        scale = (self.train.square().sum(0) / n).sqrt_()
        scale = torch.where(scale > 1e-12 * (1 + mean.abs()), scale, torch.ones_like(scale))
        self.train.div_(scale)
        self.test.sub_(mean).div_(scale)


def sweep(
    store,
    targets,
    *,
    layers=None,
    steps=None,
    branches=None,
    settings: SweepSettings | None = None,
    label_store=None,
    progress: bool = True,
) -> list[dict]:
    """Probe every requested (branch, layer, step) for every target; returns tidy rows.

    Args:
        store: an open :class:`interp.store.TraceStore`.
        targets: target names of :data:`probes.targets.TARGETS`.
        layers, steps: subsets to probe (default: all the store captured).
        branches: guidance branches (default: all the site has).
        settings: fitting and scoring settings (default :class:`SweepSettings`).
        label_store: the store whose samples define the labels (default ``store``). A control
            sweep passes the main trace here, so output-based targets (``final_output``,
            ``route_chosen``) are the trained model's answers, not the control model's.
        progress: show a tqdm bar over blocks.

    Returns:
        One dict per (branch, layer, step, target) with ``score``, ``ci_low``, ``ci_high``,
        ``metric``, ``accuracy`` (class targets), ``control_shuffle``, ``selectivity_shuffle``,
        ``chance``, token and sample counts, and ``n_iter``.
    """
    settings = settings or SweepSettings()
    settings.validate()
    records = check_targets(targets)
    template = settings.site_template
    kind = template_kind(template)
    layers = _check_subset("layers", layers, store.layers(kind))
    steps = _check_subset("steps", steps, store.steps())
    if not layers:
        raise InputError(f"the store has no {kind!r} layers; its sites are {store.sites()}")
    site0 = template.format(layer=layers[0])
    site_branches = store.branches(site0)
    branches = list(site_branches if branches is None else branches)
    for b in branches:
        if b not in site_branches:
            raise InputError(f"unknown branch {b!r}: {site0} has branches {site_branches}")
    ids = sorted(store.sample_ids())  # the split depends on which samples, not on write order
    train_ids, test_ids = split_samples(ids, test_fraction=settings.test_fraction, seed=settings.seed)
    grid = store.token_grid(site0)
    keep = np.arange(len(grid))
    if settings.frames is not None:
        frames_present = sorted(set(grid[:, 0].tolist()))
        _check_subset("frames", settings.frames, frames_present)
        keep = np.flatnonzero(np.isin(grid[:, 0], settings.frames))
    source = store if label_store is None else label_store
    missing = [s for s in ids if s not in source.sample_ids()]
    if missing:
        raise InputError(f"the label store lacks samples {missing[:3]}: a control must hold the same samples")
    labels = label_matrix(source, ids, [t.name for t in records], grid[keep])
    position = {s: i for i, s in enumerate(ids)}
    train_pos = np.array([position[s] for s in train_ids])
    test_pos = np.array([position[s] for s in test_ids])
    shuffle = _shuffler(settings.shuffle, len(train_pos), settings.seed)
    device = resolve_device(settings.device)
    dtype = getattr(torch, settings.dtype)
    T = len(keep)
    test_groups = np.repeat(np.arange(len(test_pos)), T)

    class_targets = [t for t in records if t.kind == "class"]
    reg_targets = [t for t in records if t.kind == "regress"]
    heads, head_index = [], []
    for t in class_targets:
        y = labels[t.name][train_pos]
        variants = [("true", y.reshape(-1))]
        if shuffle is not None:
            variants.append(("shuffle", shuffle(y)))
        for variant, codes in variants:
            if len(np.unique(codes[codes >= 0])) < 2:
                continue
            weight = _class_weights(codes, t.n_classes) if settings.class_weight == "balanced" else None
            heads.append(Head(torch.as_tensor(codes, device=device), t.n_classes, settings.C,
                              None if weight is None else torch.as_tensor(weight, dtype=dtype, device=device)))
            head_index.append((t, variant))

    rows: list[dict] = []
    total = len(branches) * len(layers) * len(steps)
    bar = tqdm(total=total, desc="probing", unit="block", disable=not progress)
    for branch in branches:
        # warm starts: the previous step of the same layer, or the first step of the layer before
        # (adjacent layers of a residual stream are close)
        warm: dict[int, tuple] = {}
        first_of_layer = None
        blocks = store.iter_blocks(template, layers=layers, steps=steps, branch=branch, sample_ids=ids, dtype=None)
        for layer, step, X in blocks:
            started = time.perf_counter()
            block = _Block(X, None if len(keep) == len(grid) else keep, train_pos, test_pos, device, dtype)
            results: dict[tuple[str, str], dict] = {}
            if heads:
                cold = layer not in warm
                fit = fit_logistic_heads(block.train, heads, max_iter=settings.max_iter, tol=settings.tol,
                                         init=first_of_layer if cold else warm[layer])
                warm[layer] = (fit.coef, fit.intercept)
                if cold:
                    first_of_layer = warm[layer]
                Z = (block.test @ fit.coef + fit.intercept).cpu().numpy()
                for (t, variant), sl in zip(head_index, fit.head_slices(heads)):
                    z = Z[:, sl]
                    pred = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(1)
                    stats = class_stats(labels[t.name][test_pos].reshape(-1), pred, test_groups, t.n_classes)
                    results[(t.name, variant)] = {"stats": stats, "n_iter": fit.n_iter}
            for t in reg_targets:
                y = labels[t.name]
                variants = [("true", y[train_pos].reshape(-1))]
                if shuffle is not None:
                    variants.append(("shuffle", shuffle(y[train_pos])))
                # variants with the same mask (the token shuffle keeps it) share one Gram matrix
                groups: dict[bytes, list] = {}
                for variant, values in variants:
                    groups.setdefault(np.packbits(np.isnan(values)).tobytes(), []).append((variant, values))
                for members in groups.values():
                    ok = ~np.isnan(members[0][1])
                    target = torch.as_tensor(np.stack([v[ok] for _, v in members], 1), dtype=dtype,
                                             device=device)
                    coef, intercept = fit_ridge(block.train[torch.as_tensor(ok, device=device)], target, settings.alpha)
                    pred = (block.test @ coef + intercept).cpu().numpy()
                    for j, (variant, _) in enumerate(members):
                        stats = regress_stats(y[test_pos].reshape(-1), pred[:, j], test_groups)
                        results[(t.name, variant)] = {"stats": stats, "n_iter": 0}
            seconds = time.perf_counter() - started
            for t in records:
                rows.append(_row(t, branch, layer, step, results, labels, train_pos, test_pos, settings, seconds))
            bar.update(1)
    bar.close()
    return rows


def _shuffler(mode: str | None, n_train: int, seed: int):
    """A function mapping training labels ``[N_train, T]`` to flat shuffled labels, or ``None``."""
    if mode is None:
        return None
    if mode == "maze":
        source = shuffled_sources(n_train, seed)
        return lambda y: y[source].reshape(-1)

    def by_token(y: np.ndarray) -> np.ndarray:
        flat = y.reshape(-1).copy()
        valid = np.flatnonzero(~np.isnan(flat) if flat.dtype.kind == "f" else flat >= 0)
        flat[valid] = flat[np.random.default_rng(seed).permutation(valid)]
        return flat

    return by_token


def _score_fn(t):
    if t.kind == "class":
        return "balanced_accuracy", lambda s: class_scores(s)["balanced_accuracy"]
    return "r2", lambda s: regress_scores(s)["r2"]


def _row(t, branch, layer, step, results, labels, train_pos, test_pos, settings, seconds) -> dict:
    metric, score = _score_fn(t)
    y = labels[t.name]
    valid = (~np.isnan(y)) if t.kind == "regress" else (y >= 0)
    row = {
        "branch": branch, "layer": int(layer), "step": int(step), "target": t.name, "family": t.family,
        "metric": metric, "score": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
        "control_shuffle": float("nan"), "selectivity_shuffle": float("nan"),
        "chance": 0.0 if t.kind == "regress" else 1.0 / max(1, len(np.unique(y[valid]))),
        "n_train_samples": int(len(train_pos)), "n_test_samples": int(len(test_pos)),
        "n_train_tokens": int(valid[train_pos].sum()), "n_test_tokens": int(valid[test_pos].sum()),
        "n_iter": 0, "seconds_block": round(seconds, 4),
    }
    true = results.get((t.name, "true"))
    if true is not None:
        summed = true["stats"].sum(0)
        row["score"] = float(score(summed))
        row["ci_low"], row["ci_high"] = bootstrap_interval(true["stats"], score, n_boot=settings.n_boot,
                                                           level=settings.level, seed=settings.seed)
        # per-replicate scores over the same resampled test mazes in every cell (not saved in the table):
        # what the onset layers' intervals over mazes are computed from (probes.report.onset_intervals)
        row["_boot"] = bootstrap_replicates(true["stats"], score, n_boot=settings.n_boot, seed=settings.seed)
        row["n_iter"] = int(true["n_iter"])
        if t.kind == "class":
            row["accuracy"] = float(class_scores(summed)["accuracy"])
        else:
            row["rmse"] = float(regress_scores(summed)["rmse"])
    shuffled = results.get((t.name, "shuffle"))
    if shuffled is not None:
        row["control_shuffle"] = float(score(shuffled["stats"].sum(0)))
        row["_boot_shuffle"] = bootstrap_replicates(shuffled["stats"], score, n_boot=settings.n_boot, seed=settings.seed)
        row["selectivity_shuffle"] = row["score"] - row["control_shuffle"]
    return row


def attach_control(rows: list[dict], control_rows: list[dict]) -> list[dict]:
    """Add the random-model control's score to each row as ``control_random`` and ``selectivity``.

    Rows are matched on (branch, layer, step, target); a row without a match keeps NaN.
    """
    key = lambda r: (r["branch"], r["layer"], r["step"], r["target"])  # noqa: E731
    control = {key(r): r for r in control_rows}
    for r in rows:
        match = control.get(key(r))
        c = match["score"] if match else float("nan")
        r["control_random"] = c
        r["selectivity"] = r["score"] - c
        if match is not None and "_boot" in match:
            r["_boot_random"] = match["_boot"]
    return rows
