"""The seed-ensemble study's summary and verdict on hand-made measurements whose answer is known."""

import numpy as np

from interp import registry

from interp.ensemble.plots import study_figures
from interp.ensemble.study import report_from_raw, sc_at, summarise

CFG = {"num_steps": 10, "kmax": 3, "probe_steps": [1, 2]}
N = 20  # mazes per group: enough for McNemar's exact test to call 20 wins and no losses significant


def _group(seed0_solves: bool, n=N):
    """Seeds 1 and 2 solve every maze and seed 0 solves all or none; seed 0's answer is the odd one out."""
    correct = np.ones((n, 3), bool)
    correct[:, 0] = seed0_solves
    answers = [[b"wrong", b"route", b"route"] for _ in range(n)]
    spread = {(2, 2): np.linspace(0.0, 1.0, n)}
    return {"n": n, "kmax": 3, "correct": correct, "answers": answers, "spread": spread}


def _groups(**extra):
    return {name: _group(False) | extra for name in ("5x5", "9x9")}


def _merges(op, steps="0", ks=(3,), names=("5x5", "9x9")):
    return {(name, op, k, steps, "all"): np.ones(N, bool) for name in names for k in ks}


def test_self_consistency_gets_the_seeds_the_compute_affords():
    group = _group(False)
    assert sc_at(group, nfe=12, n_steps=10)[0] == 1 and not sc_at(group, nfe=12, n_steps=10)[1].any()
    k, correct = sc_at(group, nfe=30, n_steps=10)
    assert k == 3 and correct.all()                    # two of three seeds agree on the right route
    assert sc_at(group, nfe=1000, n_steps=10)[0] == 3  # never more seeds than were run


def _first_rules(report):
    """The verdicts of the registry's two first seed-ensemble rules (2026-11-30) on the report's figures."""
    return [v["verdict"] for v in registry.verdicts({"name": "seed_ensemble", "figures": report["figures"]})][:2]


def test_a_merge_that_wins_every_maze_against_one_seed_and_self_consistency_holds_only_by_the_first_rules():
    report = summarise(_groups(), _merges("x0_renoise"), CFG, "x0_renoise", 0)
    assert _first_rules(report) == ["holds", "holds"]
    assert report["verdict"] == "does not hold", report["why"]           # no matched control: not as an ensemble
    best = report["best"]
    assert (best["k"], best["steps"], best["nfe"]) == (3, "0", 12)   # 3 seeds for step 0, then 9 steps alone
    assert best["merge"]["value"] == 1.0 and best["single"]["value"] == 0.0 and best["merge"]["n"] == 2 * N
    assert best["vs_self_consistency"]["p"] < 0.05 and "vs_cold_start" not in best
    assert report["figures"]["best_vs_single_difference"]["value"] == 1.0
    assert "best_vs_cold_start_difference" not in report["figures"]


def test_the_same_merge_matched_by_its_cold_start_control_does_not_hold():
    groups = _groups(cold={3: np.ones(N, bool)})       # one seed started at std 1/sqrt(3) solves every maze too
    report = summarise(groups, _merges("xt_mean"), CFG, "xt_mean", 0)
    assert _first_rules(report) == ["holds", "partly"] and report["verdict"] == "does not hold"
    assert report["best"]["vs_cold_start"]["difference"] == 0.0
    assert "what it gains is a colder state" in report["why"]
    assert report["figures"]["cold_start"]["std"] == 1 / np.sqrt(3)
    cold_rows = [r for r in report["rows"] if r["method"] == "cold start"]
    assert len(cold_rows) == 2 and all(r["vs_single"]["difference"] == 1.0 for r in cold_rows)


def test_a_control_measured_on_one_group_only_does_not_judge_the_pool():
    groups = _groups()
    groups["5x5"] = groups["5x5"] | {"cold": {3: np.ones(N, bool)}}
    report = summarise(groups, _merges("xt_mean"), CFG, "xt_mean", 0)
    assert "vs_cold_start" not in report["best"] and _first_rules(report) == ["holds", "holds"]


def test_no_merge_on_every_group_does_not_hold():
    report = summarise(_groups(), _merges("x0_renoise", names=("9x9",)), CFG, "x0_renoise", 0)
    assert report["verdict"] == "does not hold" and report["best"] is None
    assert report["why"] == "no merge setting ran on every group within the time budget"
    assert [r["group"] for r in report["rows"] if r["method"].startswith("merge")] == ["9x9"]


def test_the_best_pooled_setting_is_judged():
    merges = _merges("x0_renoise", ks=(2,)) | {key: np.zeros(N, bool) for key in _merges("x0_renoise", ks=(3,))}
    report = summarise(_groups(), merges, CFG, "x0_renoise", 0)
    assert report["best"]["k"] == 2 and _first_rules(report)[0] == "holds"


def test_baselines_rows_and_figures_per_group():
    report = summarise(_groups(more={2: np.ones(N, bool)}), {}, CFG, "x0_renoise", 0)
    methods = [r["method"] for r in report["rows"] if r["group"] == "9x9"]
    assert methods == ["single seed"] + ["self-consistency", "best-of-K (verifier, upper bound)"] * 2 + ["more steps"]
    assert report["figures"]["9x9_single"] == {"value": 0.0, "ci95": report["figures"]["9x9_single"]["ci95"], "n": N,
                                               "nfe": 10}
    assert report["figures"]["9x9_auroc"] == {"value": {"step 2, 2 seeds": None}, "n": N}   # every seed 0 failed
    assert report["probe_step"] == 2 and len(report["adaptive"]["9x9"]) == 8


def test_a_raw_record_gives_its_report_and_every_figure(tmp_path):
    groups = _groups(colder={0.5: np.ones(N, bool)})
    raw = {"groups": groups, "merges": _merges("x0_renoise") | {("9x9", "xt_mean", 3, "0", "screen"): np.ones(5, bool)},
           "cfg": CFG, "best_op": "x0_renoise", "best_step": 0, "screened": {("9x9", "xt_mean", 3, "0", "screen"): 1.0},
           "log": ["base"], "skipped": [], "screen": {"group": "9x9", "n": 5, "k": 3}}
    report = report_from_raw(raw)
    assert report["screened"] == {"xt_mean step 0": 1.0} and report["screen"]["n"] == 5
    screen_row = next(r for r in report["rows"] if r.get("scope") == "screen")
    assert screen_row["n"] == 5 and screen_row["vs_single"]["a_only"] == 5
    images = study_figures(report, groups, CFG, tmp_path)
    assert images == ["accuracy_vs_nfe.png", "start_temperature.png", "merge_step_screen.png"]
    assert all((tmp_path / image).stat().st_size > 0 for image in images)
    assert study_figures(summarise(_groups(), {}, CFG, "x0_renoise", 0), _groups(), CFG, tmp_path) == [
        "accuracy_vs_nfe.png"]


def test_matched_verdict_reads_the_merge_against_its_cold_start_only():
    beaten = summarise(_groups(cold={3: np.zeros(N, bool)}, colder={0.25: np.zeros(N, bool)}), _merges("xt_mean"),
                       CFG, "xt_mean", 0)["matched_verdict"]
    assert beaten["verdict"] == "holds", beaten["why"]
    as_cold = summarise(_groups(cold={3: np.ones(N, bool)}), _merges("xt_mean"), CFG, "xt_mean", 0)["matched_verdict"]
    assert as_cold["verdict"] == "does not hold" and as_cold["why"].startswith("not as an ensemble")
    colder_as_good = summarise(_groups(cold={3: np.zeros(N, bool)}, colder={0.25: np.ones(N, bool)}),
                               _merges("xt_mean"), CFG, "xt_mean", 0)["matched_verdict"]
    assert colder_as_good["verdict"] == "partly" and "std 0.25: +0.0 points" in colder_as_good["why"]
    # a merge later in the run has no matched control here: the one-seed and self-consistency wins do not count
    later = summarise(_groups(), _merges("x0_renoise"), CFG, "x0_renoise", 0)
    assert _first_rules(later)[0] == "holds" and later["matched_verdict"]["verdict"] == "does not hold"
    assert later["verdict"] == "does not hold"


def test_a_merge_after_step_0_is_judged_against_its_cooled_seed():
    """The rule of 2026-12-05: at step 2 the matched control is one seed cooled entering step 2; without it
    the merge does not hold; at step 0 the matched control is the cold start, as before."""
    merges = _merges("xt_mean", steps="2")
    no_control = summarise(_groups(colder={0.25: np.zeros(N, bool)}), merges, CFG, "xt_mean", 2)
    assert no_control["verdict"] == "does not hold" and "best_vs_matched_difference" not in no_control["figures"]
    as_good = summarise(_groups(cooled={(3, 2): np.ones(N, bool)}, colder={0.25: np.zeros(N, bool)}), merges, CFG,
                        "xt_mean", 2)
    assert as_good["figures"]["best_vs_matched_difference"]["value"] == 0.0 and as_good["verdict"] == "does not hold"
    beaten = summarise(_groups(cooled={(3, 2): np.zeros(N, bool)}, colder={0.25: np.zeros(N, bool)}), merges, CFG,
                       "xt_mean", 2)
    assert beaten["figures"]["matched_control"] == {"value": 0.0, **{k: beaten["figures"]["matched_control"][k]
                                                                     for k in ("ci95", "n")}, "std": 1 / np.sqrt(3),
                                                    "step": 2}
    assert beaten["verdict"] == "holds", beaten["figures"]
    assert beaten["matched_verdict"]["verdict"] == "holds", beaten["matched_verdict"]["why"]
    assert "noise part entering step 2 is scaled by 1/sqrt(3)" in beaten["why"]
    cooled_rows = [r for r in beaten["rows"] if r["method"] == "cooled seed"]
    assert [(r["k"], r["step"], r["value"]) for r in cooled_rows] == [(3, 2, 0.0)] * 2
    assert as_good["matched_verdict"]["why"].startswith("not as an ensemble")
    at_step0 = summarise(_groups(cold={3: np.zeros(N, bool)}, colder={0.25: np.zeros(N, bool)}), _merges("xt_mean"),
                         CFG, "xt_mean", 0)
    figures = at_step0["figures"]
    assert figures["best_vs_matched_difference"]["value"] == figures["best_vs_cold_start_difference"]["value"] == 1.0
