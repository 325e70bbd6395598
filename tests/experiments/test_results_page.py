"""The results page is rebuilt from the registry and result.json files alone, and audits itself."""

import json

import pytest

from interp import registry
from interp.errors import InputError
from interp.results import write_result
from interp.results_page import build

SELF_CORRECTION = {"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}}


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(path)
    plt.close(fig)


def _write(results, where, figures, preset="gpu", **more):
    name = where.split("/")[-1]
    return write_result(results / where, name=name, figures=figures, preset=preset, device="NVIDIA H200",
                        dtype="float32", command=f"python experiments/{name}.py --preset {preset}", seconds=12.3,
                        **more)


def test_page_rows_state_rule_n_provenance_and_link_the_history(tmp_path):
    results = tmp_path / "results"
    folder = _write(results, "self_correction", SELF_CORRECTION, images=["curve.png"])
    _png(folder / "curve.png")
    _write(results, "cpu/self_correction", {"share_self_correcting": {"value": 0.1, "ci95": [0.02, 0.3], "n": 24}},
           preset="cpu")
    text = build(results, tmp_path / "docs" / "results.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [Observation 4: self-correction]"))
    assert "holds if low(share_self_correcting) > 0.1" in row and "(fixed 2026-11-30)" in row
    assert "**holds** (n=600 of 600 needed; float32, NVIDIA H200, preset `gpu`" in row
    assert "`python experiments/self_correction.py --preset gpu`, 12 s" in row       # the command as recorded
    assert "[history](#observation-4-self-correction-history)" in row
    assert row.endswith("| partly holds (n=24, 12 s) |")                 # the cpu check beside it
    header = next(line for line in text.splitlines() if line.startswith("| claim |"))
    assert "| maze-wan-tiny | maze walker |" in header                   # one column per organism
    assert "not run" in row                                              # the second organism has no record
    for meaning in ("**holds**", "**partly holds**", "**does not hold**", "**not testable here**"):
        assert meaning in text
    assert "**What the organism can and cannot test.**" in text
    assert "| share_self_correcting | 0.13 | 0.11 to 0.16 | 600 |" in text
    assert (tmp_path / "docs" / "results" / "self_correction" / "curve.png").exists()


def test_a_cpu_check_whose_figures_carry_no_n_says_so_instead_of_a_dash(tmp_path):
    results = tmp_path / "results"
    _write(results, "self_correction", SELF_CORRECTION)
    _write(results, "cpu/self_correction", {"share_self_correcting": {"value": 0.1, "ci95": [0.02, 0.3]}}, preset="cpu")
    text = build(results, tmp_path / "docs" / "results.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [Observation 4: self-correction]"))
    assert row.endswith("(n: none behind the verdict, 12 s) |") and "n=-" not in row


def test_changed_rules_show_their_verdicts_side_by_side(tmp_path):
    results = tmp_path / "results"
    _write(results, "working_memory", {"share_scaffold_every_step": {"value": 0.96, "ci95": [0.85, 0.99], "n": 600},
                                       "share_scaffold_at_step0": {"value": 1.0, "ci95": [0.99, 1.0], "n": 600},
                                       "min_unit_agreement": {"value": 1.0, "ci95": [1.0, 1.0], "n": 600}})
    text = build(results, tmp_path / "docs" / "results.md").read_text()
    history = text[text.index("### Observation 3: working memory: history"):]
    history = history[:history.index("\n## ")]
    lines = [line for line in history.splitlines() if line.startswith("| 2026-")]
    # the first rule (interval above 0.9) and the later (share >= 0.95, interval above 0.8) disagree here
    assert [line.split(" | ")[-1] for line in lines] == ["partly holds (n=600) |", "holds (n=600) |",
                                                         "not testable here (n: none behind the verdict) |"]
    assert "(current)" in lines[-1]
    assert "**On maze-wan-tiny: not testable here** (rule fixed 2026-12-04): true by construction" in text


def test_page_without_results_says_how_to_make_them(tmp_path):
    text = build(tmp_path / "none", tmp_path / "results.md").read_text()
    assert "make reproduce" in text and text.count("not run") >= len(registry.names())
    # a claim the first organism is not meant to run, and a rule that needs no data, say so instead
    row = next(line for line in text.splitlines() if line.startswith("| [Experts:"))
    assert row.split(" | ")[2] == "not tested on this organism (the claim is tested on walker)" and "not run" in row
    row = next(line for line in text.splitlines() if line.startswith("| [Observation 3: working memory]"))
    assert "not testable here: true by construction" in row and "not run" not in row.split(" | ")[2]


def test_incomplete_or_unregistered_records_are_refused(tmp_path):
    (tmp_path / "r" / "x").mkdir(parents=True)
    (tmp_path / "r" / "x" / "result.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(InputError, match="lacks 'claim'"):
        build(tmp_path / "r", tmp_path / "results.md")
    (tmp_path / "r" / "x" / "result.json").write_text(json.dumps({"name": "x", "claim": "c", "verdict": "holds",
                                                                  "figures": {}}))
    with pytest.raises(InputError, match="not in the registry"):
        build(tmp_path / "r", tmp_path / "results.md")


def test_the_page_never_writes_into_the_results(tmp_path):
    results = tmp_path / "docs" / "results"
    _write(results, "self_correction", SELF_CORRECTION)
    with pytest.raises(InputError, match="would replace the results"):
        build(results, tmp_path / "docs" / "results.md")


def test_a_script_cannot_give_a_registered_claim_its_own_verdict(tmp_path):
    folder = _write(tmp_path, "self_correction", SELF_CORRECTION, verdict="does not hold", why="the script's view")
    record = json.loads((folder / "result.json").read_text())
    assert record["verdict"] == "holds" and record["reading"] == "the script's view"
    assert record["rule"] == registry.latest("self_correction").as_record() and record["n_verdict"] == 600
    with pytest.raises(InputError, match="unknown verdict None"):
        write_result(tmp_path / "x", name="my_claim", figures={}, preset="cpu")


def test_the_walkers_table_quotes_its_published_records_only(tmp_path):
    from interp.results_page import model_verdicts

    results = tmp_path / "results"
    _write(results, "walker/self_correction", SELF_CORRECTION, model="walker")
    _write(results, "walker/cpu/self_correction", {"share_self_correcting": {"value": 0.5, "ci95": [0.2, 0.8], "n": 4}},
           preset="cpu", model="walker")
    _write(results, "negative/walker/self_correction", {"share_self_correcting": {"value": 0.0, "ci95": [0, 0.1], "n": 9}},
           model="walker")
    _write(results, "self_correction", {"share_self_correcting": {"value": 0.3, "ci95": [0.2, 0.4], "n": 600}})
    rows = model_verdicts("walker", results).splitlines()
    assert len(rows) == 3                                     # header, rule, one claim
    cells = [c.strip() for c in rows[2].strip("|").split(" | ")]
    record = json.loads((results / "walker/self_correction/result.json").read_text())
    assert cells[1] == f"**{record['verdict']}**" == "**holds**"
    assert cells[2] == f"n={record['n_verdict']} of {registry.latest('self_correction').n} needed"
    assert cells[3] == "share_self_correcting 0.13 (0.11 to 0.16)"
    assert cells[5] == f"`{record['command']}`" and cells[6].endswith("walker/self_correction`")
    assert model_verdicts("walker", tmp_path / "none") == "No published record of walker yet.\n"


def test_the_walkers_page_quotes_the_shipped_records():
    """docs/organism.md gets the table when the docs are built; every shipped walker record is in it."""
    from pathlib import Path

    from interp.results import RESULTS
    from interp.results_page import model_verdicts

    assert "<!-- walker-verdicts -->" in (Path(__file__).resolve().parents[2] / "docs" / "organism.md").read_text()
    table = model_verdicts("walker")
    for path in sorted((RESULTS / "walker").glob("*/result.json")):
        record = json.loads(path.read_text())
        assert f"`experiments/results/walker/{path.parent.name}/result.json`" in table
        assert (f"n={record['n_verdict']} of" if record["n_verdict"] is not None else "n: none behind") in table


def test_a_verdict_resting_on_an_absent_figure_says_so_instead_of_an_n(tmp_path):
    """``does not hold`` because the rule's figure is absent (its control did not run) has no n behind it."""
    results = tmp_path / "results"
    _write(results, "seed_ensemble", {"best_merge": {"value": 0.47, "ci95": [0.43, 0.51], "n": 600}})
    text = build(results, tmp_path / "docs" / "results.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [Observation 7: seed ensemble]"))
    assert "**does not hold** (n: none behind the verdict, the rule's figures are absent (1200 needed)" in row
