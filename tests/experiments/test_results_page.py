"""The results page is rebuilt from result.json files alone, in registry order, with thumbnails."""

import json

import pytest

from interp.errors import InputError
from interp.results import write_result
from interp.results_page import build


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(path)
    plt.close(fig)


def test_page_from_hand_made_results(tmp_path):
    results = tmp_path / "results"
    folder = write_result(results / "reason_early", name="reason_early", claim="The plan is fixed early.",
                          verdict="holds", why="Redraws keep 95% of answers.",
                          figures={"same_answer": {"value": 0.95, "ci95": [0.8, 0.99], "n": 40},
                                   "best": {"value": 0.7, "layer": 6, "step": 2, "n": 8}},
                          preset="cpu", command="python experiments/reason_early.py --preset cpu",
                          images=["curve.png"], seconds=12.3)
    _png(folder / "curve.png")
    write_result(results / "exploration_pruning", name="exploration_pruning", claim="Several routes, then one.",
                 verdict="does not hold", why="One route.", figures={"peak": {"value": 1.0, "n": 3}}, preset="gpu")
    page = build(results, tmp_path / "docs" / "results.md")
    text = page.read_text()
    assert text.index("Observation 1") < text.index("Video Models Reason Early")      # registry order
    assert "| same_answer | 0.95 | 0.8 to 0.99 | 40 |" in text
    assert "| best (layer 6, step 2) | 0.7 | - | 8 |" in text
    assert "**Verdict on the organism: does not hold.**" in text
    assert "`python experiments/reason_early.py --preset cpu`" in text and "12 s" in text
    assert (tmp_path / "docs" / "results" / "reason_early" / "curve.png").exists()
    assert "](results/reason_early/curve.png){ width=\"360\" }" in text


def test_page_without_results_says_how_to_make_them(tmp_path):
    text = build(tmp_path / "none", tmp_path / "results.md").read_text()
    assert "make reproduce" in text


def test_incomplete_result_is_refused(tmp_path):
    (tmp_path / "r" / "x").mkdir(parents=True)
    (tmp_path / "r" / "x" / "result.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(InputError, match="lacks 'claim'"):
        build(tmp_path / "r", tmp_path / "results.md")


def test_cpu_rerun_sits_beside_the_published_record_and_never_replaces_it(tmp_path):
    from interp.results import RESULTS, result_folder

    assert result_folder("layer_swap", "gpu") == RESULTS / "layer_swap"
    assert result_folder("layer_swap", "cpu") == RESULTS / "cpu" / "layer_swap"
    results = tmp_path / "results"
    write_result(results / "layer_swap", name="layer_swap", claim="Swapping a layer moves the answer.",
                 verdict="does not hold", why="Published.", figures={"moved": {"value": 0.0, "n": 300}}, preset="gpu")
    write_result(results / "cpu" / "layer_swap", name="layer_swap", claim="Swapping a layer moves the answer.",
                 verdict="partly", why="Small n.", figures={"moved": {"value": 0.3, "n": 3}}, preset="cpu", seconds=61)
    write_result(results / "cpu" / "reason_early", name="reason_early", claim="Early.", verdict="holds", why="cpu only",
                 figures={"same": {"value": 1.0, "n": 6}}, preset="cpu")
    (results / "cpu" / "reproduce.json").write_text(json.dumps(
        {"seconds": {"layer_swap": 61, "reason_early": 30}, "failed": [], "total_seconds": 91, "date": "2026-11-30",
         "machine": "m", "cores": 2}))
    with pytest.raises(InputError, match="would replace the results"):
        build(results, tmp_path / "results.md")        # its images would go into results/ itself
    text = build(results, tmp_path / "docs" / "results.md").read_text()
    assert "| does not hold | gpu | 300 | partly holds (n=3, 61 s) |" in text       # published verdict, cpu re-run beside
    assert "**Verdict on the organism: does not hold.** Published." in text
    assert "Small n." not in text                                            # the cpu record is not the section
    assert "| holds | cpu | 6 | holds (n=6) |" in text                       # a claim with a cpu record only
    assert "ran 2 scripts in 1.5 min on m (2 cores, 2026-11-30)" in text
