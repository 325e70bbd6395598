"""Token maps of a linear probe's scores, each sample scored by probes that never saw it.

For a maze target of :mod:`probes.targets` (a two-class one, or ``distance``), one probe per site
is fitted on the tokens of every step of the *other* samples (samples dealt to at most
:data:`FOLDS` folds; at most :data:`MAX_FIT_TOKENS` training tokens, drawn at random), then
scores every token of the held-out sample: the probability of the target's class 1, or the
predicted distance. So a map shows where, and from which step, the site linearly carries the
target, with its held-out accuracy (R^2 for ``distance``) per step beside it.
"""

from __future__ import annotations

import numpy as np

from interp.errors import InputError

FOLDS = 5
MAX_FIT_TOKENS = 40_000


class ProbeMaps:
    """Cross-fitted probes of one target for every map site of a store."""

    def __init__(self, store, sites: list[str], target: str, *, seed: int = 0, progress: bool = True) -> None:
        from tqdm.auto import tqdm

        from probes.labels import label_matrix
        from probes.linear import LogisticProbe, RidgeProbe
        from probes.targets import TARGETS, check_targets

        (record,) = check_targets([target])
        if record.kind == "class" and record.n_classes != 2:
            valid = ", ".join(n for n, t in TARGETS.items() if t.kind == "regress" or t.n_classes == 2)
            raise InputError(f"probe maps show one score per token: target {target!r} has {record.n_classes} classes; "
                             f"valid are {valid}")
        ids = store.sample_ids()
        if len(ids) < 2:
            raise InputError(f"probe maps need at least 2 samples (each sample's map comes from probes fitted on the "
                             f"others); {store.path} holds {len(ids)}")
        self.target, self.kind = target, record.kind
        folds = min(FOLDS, len(ids))
        self.fold = {sample_id: i % folds for i, sample_id in enumerate(ids)}
        self.labels: dict[str, dict[str, np.ndarray]] = {}   # site -> sample -> [T]
        self.probes: dict[str, list] = {}                    # site -> one probe per fold
        rng = np.random.default_rng(seed)
        for site in tqdm(sites, desc=f"probe maps ({target})", disable=not progress):
            grid = store.token_grid(site)
            labels = label_matrix(store, ids, [target], grid)[target]  # [N, T]
            self.labels[site] = dict(zip(ids, labels))
            fitted = []
            for k in range(folds):
                train = [i for i, sample_id in enumerate(ids) if self.fold[sample_id] != k]
                X, y = self._training_set(store, site, [ids[i] for i in train], labels[train], rng)
                probe = LogisticProbe(C=0.1, max_iter=100) if self.kind == "class" else RidgeProbe(alpha=10.0)
                fitted.append(probe.fit(X, y))
            self.probes[site] = fitted
            store.close()

    def _training_set(self, store, site, sample_ids, labels, rng):
        per_sample = max(1, MAX_FIT_TOKENS // len(sample_ids))
        rows_X, rows_y = [], []
        for sample_id, y in zip(sample_ids, labels):
            X = store.read(sample_id, site)                    # [S, T, D]
            y = np.tile(y, X.shape[0])
            X = X.reshape(-1, X.shape[-1])
            keep = np.flatnonzero(y >= 0) if self.kind == "class" else np.flatnonzero(np.isfinite(y))
            keep = rng.choice(keep, min(per_sample, len(keep)), replace=False)
            rows_X.append(X[keep])
            rows_y.append(y[keep])
        return np.concatenate(rows_X), np.concatenate(rows_y)

    def scores(self, site: str, sample_id: str, X: np.ndarray) -> tuple[np.ndarray, list]:
        """``([S, T] scores, held-out accuracy or R^2 per step)`` of one sample's ``X`` ``[S, T, D]``."""
        probe = self.probes[site][self.fold[sample_id]]
        flat = X.reshape(-1, X.shape[-1])
        values = probe.predict_proba(flat)[:, list(probe.classes_).index(1)] if self.kind == "class" \
            else probe.predict(flat)
        values = values.reshape(X.shape[:2])
        y = self.labels[site][sample_id]
        per_step = []
        for row in values:
            if self.kind == "class":
                valid = y >= 0
                per_step.append(float(((row[valid] >= 0.5) == (y[valid] == 1)).mean()) if valid.any() else None)
            else:
                valid = np.isfinite(y)
                total = ((y[valid] - y[valid].mean()) ** 2).sum()
                per_step.append(float(1 - ((row[valid] - y[valid]) ** 2).sum() / total) if total > 0 else None)
        return values, per_step

    def describe(self) -> dict:
        """What the page says about the maps."""
        return {"target": self.target, "kind": self.kind, "folds": len(next(iter(self.probes.values()))),
                "score": "accuracy" if self.kind == "class" else "R^2",
                "unit": "probability of class 1" if self.kind == "class" else "predicted distance (steps to the goal)"}
