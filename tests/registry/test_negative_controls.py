"""Each published negative control is judged "does not hold" by the same registry rule that judges the claim.

A negative control is a run on which the claim's property is absent by construction (the organism's
random-weight twin solves no maze; a single final video holds no more candidates than a mean of
answers). If the claim's latest rule did not say "does not hold" there, the rule could not fail.
"""

import json
from pathlib import Path

import pytest

from interp import registry
from interp.rules import judge

RESULTS = Path(__file__).resolve().parents[2] / "experiments" / "results"
NEGATIVE = sorted((RESULTS / "negative").glob("*/result.json"))


@pytest.mark.parametrize("path", NEGATIVE, ids=[p.parent.name for p in NEGATIVE])
def test_the_latest_rule_says_does_not_hold_on_the_negative_control(path):
    record = json.loads(path.read_text())
    entry = registry.latest(record["name"])
    assert judge(record, entry.rule, entry.params).verdict == "does not hold"


def test_there_is_a_negative_control_for_the_causal_claims():
    assert {p.parent.name for p in NEGATIVE} >= {"noise_step_vs_frame", "erase_candidates"}


def _with_one_draw_gaps(record):
    """The exploration record with each step's averaging gap replaced by its one-draw negative control."""
    figures = dict(record["figures"])
    for key in list(figures):
        if key.startswith("averaging_one_draw_gap_"):
            figures[key.replace("one_draw_gap", "gap")] = figures[key]
    return {**record, "figures": figures}


EXPLORATION = [p for p in (RESULTS / "exploration_pruning" / "result.json", RESULTS / "cpu" / "exploration_pruning" / "result.json")
               if p.is_file() and "averaging_one_draw_gap_step0" in json.loads(p.read_text())["figures"]]


@pytest.mark.parametrize("path", EXPLORATION, ids=[p.parent.parent.name for p in EXPLORATION])
def test_one_final_video_is_no_search_over_routes(path):
    record = _with_one_draw_gaps(json.loads(path.read_text()))
    entry = registry.latest("exploration_pruning")
    assert judge(record, entry.rule, entry.params).verdict != "holds"
