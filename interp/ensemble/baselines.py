"""Baselines at matched compute, from K independent samples of one prompt or maze.

* self-consistency: a majority vote over the decoded answers (ties: the earliest seed's answer);
* best-of-K: correct when any sample is correct, i.e. the task's scorer used as a verifier. It is
  an upper bound that no method without the ground truth can reach, and is labelled as one;
* more steps: one seed with K times the steps (run it with ``num_steps = K * N``).

For mazes, an answer is the set of units the final frame draws as path (:func:`maze_answer`).

Example:
    >>> majority_vote([b"a", b"b", b"b", None])
    1
    >>> majority_vote([b"a", b"b"]), majority_vote([None, None])
    (0, 0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def majority_vote(answers: Sequence) -> int:
    """Index of a sample holding the most frequent answer (``None``: no readable answer, never voted for)."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return 0
    top = max(counts.values())
    return next(i for i, a in enumerate(answers) if a is not None and counts[a] == top)


def maze_answer(video, maze, palette: str = "default") -> bytes | None:
    """The final frame's path units as bytes (the drawn answer), or ``None`` if the video cannot be read."""
    from interp.tasks.render import PATH
    from interp.tasks.score import decode_labels

    try:
        labels = decode_labels(video, maze, palette=palette)
    except (ValueError, FloatingPointError):
        return None
    return np.packbits(labels[-1] == PATH).tobytes()


def self_consistency(correct: np.ndarray, answers: Sequence[Sequence], k: int) -> np.ndarray:
    """Per item, whether the vote over its first ``k`` samples is correct (``correct``: ``[items, seeds]``)."""
    return np.array([bool(correct[i, majority_vote(list(answers[i][:k]))]) for i in range(len(answers))])


def best_of_k(correct: np.ndarray, k: int) -> np.ndarray:
    """Per item, whether any of its first ``k`` samples is correct (an oracle verifier: an upper bound)."""
    return np.asarray(correct)[:, :k].any(axis=1)
