"""Seed ensembles: run one model from K seeds, merge their states early, continue as one trajectory.

A merge is a list of :class:`~interp.interventions.Intervention` s (:func:`merge_interventions`),
run by the one executor; :func:`ensemble_run` runs the K seeds up to the last merge step and
continues each group's reference seed alone. Baselines at matched compute (self-consistency,
best-of-K, more steps) and NFE accounting live beside it; :mod:`interp.ensemble.adaptive` turns
the seeds' early disagreement into a failure predictor and an adaptive-compute policy;
:mod:`interp.ensemble.study` compares merges with those baselines and states the verdict rule,
:mod:`interp.ensemble.plots` draws the comparison.

Example:
    >>> from interp.ensemble import OPERATORS, ensemble_nfe
    >>> sorted(OPERATORS)
    ['x0_mean', 'x0_median', 'x0_renoise', 'xt_mean']
    >>> ensemble_nfe(num_steps=20, k=3, last_merge_step=2)   # 3 seeds x 3 steps + 1 x 17 steps
    26
"""

from interp.ensemble.nfe import baseline_nfe, ensemble_nfe
from interp.ensemble.operators import OPERATORS, check_merge, merge_interventions, seed_groups
from interp.ensemble.merged_run import EnsembleResult, ensemble_run

__all__ = ["OPERATORS", "EnsembleResult", "baseline_nfe", "check_merge", "ensemble_nfe", "ensemble_run",
           "merge_interventions", "seed_groups"]
