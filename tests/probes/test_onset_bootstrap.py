"""Onset layers get bootstrap intervals over test mazes: narrow when every maze agrees, wide when they do not."""

import numpy as np

from probes.scoring import bootstrap_interval, bootstrap_replicates
from probes.report import localise, onset_intervals


def _rows(onset_by_maze, layers=6, n_boot=200, seed=0):
    """One perception target whose per-maze accuracy jumps to 1 at that maze's onset layer; the control scores 0.5.

    Per-maze statistics are (correct, total) counts, scored as their ratio, as a sweep sums them.
    """
    rows = []
    for layer in range(layers):
        stats = np.array([[1.0 if layer >= onset else 0.5, 1.0] for onset in onset_by_maze])
        score = lambda s: s[..., 0] / s[..., 1]                                       # noqa: E731
        control = np.column_stack([np.full(len(onset_by_maze), 0.5), np.ones(len(onset_by_maze))])
        rows.append({"branch": "cond", "layer": layer, "step": 0, "target": "wall", "family": "perception",
                     "score": float(score(stats.sum(0))), "selectivity": float(score(stats.sum(0))) - 0.5,
                     "_boot": bootstrap_replicates(stats, score, n_boot=n_boot, seed=seed),
                     "_boot_random": bootstrap_replicates(control, score, n_boot=n_boot, seed=seed)})
    return rows


def test_replicates_give_the_interval_and_share_their_resamples_across_cells():
    stats = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    score = lambda s: s[..., 0] / s[..., 1]                                           # noqa: E731
    reps = bootstrap_replicates(stats, score, n_boot=300, seed=3)
    assert np.allclose(np.quantile(reps, [0.025, 0.975]), bootstrap_interval(stats, score, n_boot=300, seed=3))
    twice = bootstrap_replicates(stats * 2, score, n_boot=300, seed=3)
    assert np.array_equal(reps, twice)                                               # same mazes resampled


def test_onset_interval_is_a_point_when_mazes_agree_and_wide_when_they_do_not():
    agree = _rows([2] * 12)
    assert localise(agree, key="selectivity")["targets"]["cond/wall"]["onset_layer"] == 2
    assert onset_intervals(agree, key="selectivity")["targets"]["cond/wall"]["onset_ci95"] == [2.0, 2.0]
    spread = _rows([0, 1, 2, 3, 4, 5] * 2)
    low, high = onset_intervals(spread, key="selectivity")["targets"]["cond/wall"]["onset_ci95"]
    assert high - low >= 1
    assert onset_intervals([{k: v for k, v in r.items() if k != "_boot_random"} for r in spread],
                           key="selectivity") == {}
