"""Compute of each method in transformer forwards (NFE) per prompt or maze.

A seed ensemble runs K seeds up to and including its last merge step, then one trajectory:
``K * (last + 1) + (num_steps - last - 1)``. The forward of the merge step itself is counted
K times, because x0-site merges need each seed's prediction at that step (an x_t merge could skip
K - 1 of them; it is counted the same, as the executor runs it). Classifier-free guidance runs
two forwards per step, so every count doubles.

Example:
    >>> ensemble_nfe(20, 3, 0), baseline_nfe("self_consistency", 20, 3), baseline_nfe("single", 20, 1, guidance=True)
    (22, 60, 40)
"""

from __future__ import annotations

from interp.errors import check_choice, check_range

BASELINES = ("single", "self_consistency", "best_of_k", "more_steps")


def ensemble_nfe(num_steps: int, k: int, last_merge_step: int, guidance: bool = False) -> int:
    """Forwards of a K-seed ensemble whose last merge is at step ``last_merge_step``."""
    check_range("k", k, 1, 10_000)
    check_range("last merge step", last_merge_step, 0, num_steps - 1)
    forwards = k * (last_merge_step + 1) + (num_steps - last_merge_step - 1)
    return forwards * (2 if guidance else 1)


def baseline_nfe(method: str, num_steps: int, k: int, guidance: bool = False) -> int:
    """Forwards of a baseline: one seed, K samples (vote or verifier), or one seed with K times the steps."""
    check_choice("baseline", method, BASELINES)
    forwards = num_steps if method == "single" else k * num_steps
    return forwards * (2 if guidance else 1)
