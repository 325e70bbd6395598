"""Every experiment script that reproduces a claim, in the order of the paper.

``make reproduce`` runs them all (:mod:`interp.reproduce.__main__`); the results page lists
their ``result.json`` in this order. A script not written yet is skipped with a note.

Examples:
    >>> [e.name for e in EXPERIMENTS][:2]
    ['exploration_pruning', 'erase_candidates']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Experiment:
    """One script ``experiments/<name>.py`` and the paper's claim it tests."""

    name: str
    label: str

    @property
    def script(self) -> Path:
        return Path("experiments") / f"{self.name}.py"


EXPERIMENTS = [
    Experiment("exploration_pruning", "Observation 1: multi-path exploration, then pruning"),
    Experiment("erase_candidates", "Observation 1, causal: erasing candidates"),
    Experiment("noise_step_vs_frame", "Observation 2: noise at a step vs at a frame"),
    Experiment("working_memory", "Observation 3: working memory"),
    Experiment("self_correction", "Observation 4: self-correction"),
    Experiment("perception_before_action", "Observation 5: perception before action"),
    Experiment("layer_swap", "Observation 6: layer swap"),
    Experiment("probe_localisation", "Observation 6: probe localisation by layer"),
    Experiment("patch_localisation", "Activation patching: layer x step localisation"),
    Experiment("seed_ensemble", "Observation 7: seed ensemble"),
    Experiment("reason_early", "Video Models Reason Early: the plan is fixed early"),
]


def by_name() -> dict[str, Experiment]:
    """The registry as ``{name: Experiment}``."""
    return {e.name: e for e in EXPERIMENTS}
