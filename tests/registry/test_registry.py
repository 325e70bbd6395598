"""The claims registry and its rule language: rules read figures, can fail, and cannot be changed in place."""

import pytest

from interp import registry
from interp.errors import InputError
from interp.rules import VERDICTS, evaluate, judge


def fig(value, low=None, high=None, n=100, **more):
    return {"value": value, "ci95": None if low is None else [low, high], "n": n, **more}


def test_the_shipped_registry_loads_and_every_claim_has_a_current_rule():
    entries = registry.load()
    assert entries and all(e.rule_text for e in entries)
    for name in registry.names():
        history = registry.history(name)
        assert [e.fixed for e in history] == sorted(e.fixed for e in history)
        assert registry.latest(name) is history[-1]


def test_the_first_written_rules_are_kept_beside_the_later_ones():
    memory = registry.history("working_memory")
    assert memory[0].params["holds"] == "low(share_scaffold_every_step) > 0.9"
    assert memory[0].fixed.startswith("2026-11-30T14:58")
    assert memory[-1].rule == "not_testable" and "construction" in memory[-1].params["reason"]
    noise = registry.history("noise_step_vs_frame")
    assert [e.rule for e in noise][:2] == ["noise_worst_step_vs_worst_frame", "noise_step_vs_frames_peak_middle"]


def test_expression_rule_gives_each_verdict_and_the_n_it_read():
    record = {"figures": {"a": fig(0.97, 0.93, 0.99, n=300), "b": fig(0.6, 0.55, 0.65, n=40)}}
    rule = {"holds": "low(a) > 0.9 and value(b) > 0.5", "partly": "low(a) > 0.5"}
    v = judge(record, "expression", rule)
    assert (v.verdict, v.n) == ("holds", 40)
    record["figures"]["b"] = fig(0.4, 0.35, 0.45, n=40)
    assert judge(record, "expression", rule).verdict == "partly"
    record["figures"]["a"] = fig(0.3, 0.2, 0.4, n=300)
    assert judge(record, "expression", rule).verdict == "does not hold"


def test_expression_language_reads_p_has_settings_and_arithmetic():
    record = {"figures": {"d": fig(0.02, p_mcnemar=0.01), "q": {"value": None, "n": 0}}, "settings": {"num_steps": 20}}
    assert evaluate("value(d) > 0 and p(d) < 0.05", record)[0]
    assert evaluate("not has(q) and not has(absent)", record)[0]
    assert evaluate("setting(num_steps) / 4 == 5", record)[0]
    assert not evaluate("value(q) >= 0", record)[0]          # an unmeasured figure meets no condition
    assert evaluate("value('d') * 100 > 1.5", record)[0]


@pytest.mark.parametrize("text", ["__import__('os')", "value(a).real > 0", "open('x')", "[1][0] > 0", "value(a) >"])
def test_expression_language_refuses_anything_else(text):
    with pytest.raises(InputError):
        evaluate(text, {"figures": {"a": fig(1.0)}})


def test_a_rule_that_reads_an_unrecorded_figure_says_which():
    with pytest.raises(InputError, match="'missing'.*recorded: a"):
        evaluate("value(missing) > 0", {"figures": {"a": fig(1.0)}})


def test_not_testable_is_the_fourth_verdict_with_its_reason():
    v = judge({"figures": {}}, "not_testable", {"reason": "the input is given at every step"})
    assert v.verdict == VERDICTS[3] == "not testable here" and "given" in v.why


BASE = {"name": "c", "statement": "s", "models": ["organism"], "metric": "m", "control": "c",
        "negative_control": "none", "n": 10, "rule": "expression", "params": {"holds": "value(a) > 0"}}


def test_a_changed_rule_must_be_a_later_entry_and_inherits_the_claim():
    first = {**BASE, "fixed": "2026-01-02T00:00:00"}
    later = {"name": "c", "fixed": "2026-01-03T00:00:00", "rule": "expression", "params": {"holds": "value(a) > 1"}}
    entries = registry.parse({"claim": [first, later]})
    assert entries[1].statement == "s" and entries[1].n == 10
    with pytest.raises(InputError, match="not later"):
        registry.parse({"claim": [first, {**later, "fixed": "2026-01-01T00:00:00"}]})


@pytest.mark.parametrize("change, message", [({"rule": "best_guess"}, "unknown|valid are"),
                                             ({"params": {"holds": "eval('1')"}}, "calls"),
                                             ({"rule": "not_testable", "params": {}}, "reason"),
                                             ({"n": None}, "lacks n"), ({"colour": "red"}, "unknown fields")])
def test_bad_entries_are_refused_with_what_is_wrong(change, message):
    with pytest.raises(InputError, match=message):
        registry.parse({"claim": [{**BASE, "fixed": "2026-01-02", **change}]})


def test_verdicts_judge_a_record_by_every_entry_of_its_claim(tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text('[[claim]]\nname = "c"\nfixed = 2026-01-02T00:00:00Z\nstatement = "s"\nmodels = ["m"]\n'
                    'metric = "m"\ncontrol = "c"\nnegative_control = "none"\nn = 50\nrule = "expression"\n'
                    'params.holds = "low(a) > 0.9"\n\n[[claim]]\nname = "c"\nfixed = 2026-01-03T00:00:00Z\n'
                    'rule = "expression"\nparams.holds = "low(a) > 0.5"\n')
    record = {"name": "c", "figures": {"a": fig(0.8, 0.7, 0.9, n=60)}}
    assert [v["verdict"] for v in registry.verdicts(record, path)] == ["does not hold", "holds"]
    assert registry.provenance(path)["sha256"] and registry.latest("c", path).n == 50


@pytest.mark.parametrize("name", ["interp.registry", "interp.rules", "interp.stats", "interp.results", "interp.results_page",
                                  "interp.experiment"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_a_negative_control_is_judged_by_the_same_rule():
    figures = {"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}}
    absent = {"share_self_correcting": {"value": 0.0, "ci95": [0.0, 0.006], "n": 600}}
    record = registry.judge_record({"name": "self_correction", "figures": figures,
                                    "negative": {"what": "a model that never errs", "figures": absent}})
    assert record["verdict"] == "holds"
    assert record["negative_verdict"]["verdict"] == "does not hold" and record["negative_verdict"]["fails"]
    record["negative"]["figures"] = figures                 # a "negative" control on which the rule holds
    assert any("negative control" in p for p in registry.audit(record))


def test_a_negative_record_is_attached_from_its_folder(tmp_path, capsys):
    import json

    def record(folder, value):
        folder.mkdir()
        figures = {"share_self_correcting": {"value": value, "ci95": [max(value - 0.02, 0), value + 0.03], "n": 600}}
        (folder / "result.json").write_text(json.dumps({"name": "self_correction", "figures": figures,
                                                        "command": f"run {folder.name}"}))
        return folder

    claim, twin = record(tmp_path / "claim", 0.13), record(tmp_path / "twin", 0.0)
    assert registry.main(["negative", str(claim), str(twin), "--what", "a model that solves nothing"]) == 0
    stored = json.loads((claim / "result.json").read_text())
    assert stored["verdict"] == "holds" and stored["negative_verdict"]["fails"]
    assert "run twin" in stored["negative"]["what"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "result.json").write_text(json.dumps({"name": "layer_swap", "figures": {}}))
    assert registry.main(["negative", str(claim), str(other), "--what", "x"]) == 2
    assert "not of 'self_correction'" in capsys.readouterr().out


@pytest.mark.parametrize("name, figures", [
    ("working_memory_frames", {"kept_hidden_half": (0.95, 0.9, 0.98)}),
    ("perception_action_frames", {"share_perception_first": (0.8, 0.7, 0.87), "share_action_first": (0.0, 0.0, 0.04)}),
    ("expert_specialisation", {"route_specialisation": (0.2, 0.1, 0.3), "render_specialisation": (3.0, 1.0, 5.0)}),
])
def test_the_walker_claims_can_hold_and_can_fail(name, figures):
    assert "walker" in registry.latest(name).models and "organism" not in registry.latest(name).models
    holding = {"name": name, "figures": {k: fig(*v) for k, v in figures.items()}}
    null = {"name": name, "figures": {k: fig(0.0, 0.0, 0.0) for k in figures}}
    assert registry.verdicts(holding)[-1]["verdict"] == "holds"
    assert registry.verdicts(null)[-1]["verdict"] == "does not hold"
