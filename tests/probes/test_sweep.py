"""The sweep on a store with planted signals: finds them where they are, and nowhere else."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.cli.main import main
from interp.errors import InputError
from interp.store import TraceStore
from probes.report import localise, write_report
from probes.sweep import SweepSettings, _Block, attach_control, save_table, sweep
from probes.split import split_samples

TARGETS = ["wall", "route", "dead_end", "distance", "final_output"]


@pytest.fixture(scope="module")
def rows(planted):
    with TraceStore.open(planted[0]) as store:
        return sweep(store, TARGETS, settings=SweepSettings(n_boot=100), progress=False)


def cell(rows, layer, step, target):
    (r,) = [r for r in rows if (r["layer"], r["step"], r["target"]) == (layer, step, target)]
    return r


def test_planted_signals_found_where_planted(rows):
    assert len(rows) == 3 * 2 * len(TARGETS)
    wall = cell(rows, 0, 1, "wall")
    assert wall["score"] > 0.95 and wall["ci_low"] > 0.9
    route = cell(rows, 1, 1, "route")
    assert route["score"] > 0.9 and route["ci_low"] > 0.8
    # the noise layer carries nothing: its interval covers chance
    for target in ("wall", "route"):
        noise = cell(rows, 2, 1, target)
        assert noise["ci_low"] < 0.5 + 0.05 and noise["score"] < 0.65
    # route knowledge also tells dead ends (a maze without loops would make it the complement)
    assert cell(rows, 1, 1, "dead_end")["score"] > 0.7
    # the shuffled-label control stays near chance where the real probe is near perfect
    assert abs(wall["control_shuffle"] - 0.5) < 0.1 and wall["selectivity_shuffle"] > 0.35
    # the planted signal grows with the step, and so does the score
    assert cell(rows, 0, 1, "wall")["score"] >= cell(rows, 0, 0, "wall")["score"]


def test_rows_are_tidy_and_consistent(rows, planted):
    with TraceStore.open(planted[0]) as store:
        n_tokens = len(store.token_grid("blocks.0.resid_post"))
        n = len(store.sample_ids())
    for r in rows:
        assert r["n_train_samples"] + r["n_test_samples"] == n
        assert r["ci_low"] <= r["score"] <= r["ci_high"] or not np.isfinite(r["ci_low"])
        assert r["metric"] == ("r2" if r["target"] == "distance" else "balanced_accuracy")
        if r["target"] in ("wall", "final_output"):  # defined on every token
            assert r["n_train_tokens"] == r["n_train_samples"] * n_tokens


def test_no_sample_on_both_sides(planted):
    with TraceStore.open(planted[0]) as store:
        ids = store.sample_ids()
        X = np.stack([store.read(s, "blocks.0.resid_post", steps=[0])[0] for s in ids])
    train, test = split_samples(ids, test_fraction=0.25, seed=0)
    assert not set(train) & set(test)
    pos = {s: i for i, s in enumerate(ids)}
    # tag every token with its sample index in feature 0 and follow the tags through the block
    tagged = X.astype(np.float32).copy()
    tagged[..., 0] = np.arange(len(ids))[:, None]
    tagged[..., 1] = 1.0 + np.arange(tagged.shape[1])[None] % 2  # keep a non-constant feature
    block = _Block(tagged, None, np.array([pos[s] for s in train]), np.array([pos[s] for s in test]), device="cpu")
    # undo the z-score on the tag column: an affine map keeps distinct values distinct
    train_tags = set(np.round(block.train[:, 0].numpy(), 4).tolist())
    test_tags = set(np.round(block.test[:, 0].numpy(), 4).tolist())
    assert len(train_tags) == len(train) and len(test_tags) == len(test) and not train_tags & test_tags


def test_report_finds_the_bands(rows, tmp_path):
    result = localise(rows, min_test_mazes=3)  # the planted store holds out 3 of 12 mazes
    assert result["targets"]["cond/wall"]["band"] == [0]
    assert result["targets"]["cond/route"]["band"] == [1]
    assert result["families"]["cond/perception"]["peak_layer"] == 0
    paths = write_report(rows, tmp_path, min_test_mazes=3)
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert "| cond/wall | perception | yes" in paths["markdown"].read_text()
    csv_path, json_path = save_table(rows, tmp_path, settings=SweepSettings())
    # the bootstrap replicates (keys starting with "_") stay in memory for the onset intervals
    assert json.loads(json_path.read_text())["rows"][0].keys() == {k for k in rows[0] if not k.startswith("_")}
    assert len(csv_path.read_text().splitlines()) == len(rows) + 1


def test_control_gives_selectivity(rows):
    control = [dict(r, score=0.5) for r in rows]
    out = attach_control([dict(r) for r in rows], control)
    assert all(o["selectivity"] == pytest.approx(o["score"] - 0.5) for o in out)
    assert localise(out)["rule"]["selectivity"] == "selectivity"


def test_sweep_rejects_bad_input(planted):
    with TraceStore.open(planted[0]) as store:
        with pytest.raises(InputError, match="unknown layers"):
            sweep(store, ["wall"], layers=[7], progress=False)
        with pytest.raises(InputError, match="unknown steps"):
            sweep(store, ["wall"], steps=[5], progress=False)
        with pytest.raises(InputError, match="unknown branch"):
            sweep(store, ["wall"], branches=["uncond"], progress=False)
        with pytest.raises(InputError, match="unknown target"):
            sweep(store, ["walls"], progress=False)
        with pytest.raises(InputError, match="shuffle"):
            sweep(store, ["wall"], settings=SweepSettings(shuffle="rows"), progress=False)
        with pytest.raises(InputError, match="dtype"):
            sweep(store, ["wall"], settings=SweepSettings(dtype="float16"), progress=False)


def test_float64_sweep_agrees_with_the_float32_default(planted, rows):
    """The precision option changes rounding, not results: planted signals score the same."""
    with TraceStore.open(planted[0]) as store:
        precise = sweep(store, ["wall", "route", "distance"], settings=SweepSettings(dtype="float64", n_boot=0),
                        progress=False)
    fast = {(r["layer"], r["step"], r["target"]): r["score"] for r in rows}
    gaps = [abs(r["score"] - fast[(r["layer"], r["step"], r["target"])]) for r in precise]
    assert max(gaps) <= 0.02


def test_cli_probe_end_to_end(planted, planted_control, tmp_path, capsys):
    out = tmp_path / "probes"
    code = main(["probe", str(planted[0]), "--targets", "wall", "route", "--out", str(out), "--control",
                 str(planted_control), "--steps", "1", "--n-boot", "20"])
    assert code == 0
    rows = json.loads((out / "probes.json").read_text())["rows"]
    assert len(rows) == 3 * 2 and all(np.isfinite(r["selectivity"]) for r in rows)
    assert (out / "report.md").is_file() and (out / "heatmaps.png").is_file()


def test_cli_probe_bad_input_exits_2(planted, tmp_path, capsys):
    out = tmp_path / "nothing"
    assert main(["probe", str(planted[0]), "--targets", "walls", "--out", str(out)]) == 2
    assert "unknown target 'walls'" in capsys.readouterr().err
    assert main(["probe", str(planted[0]), "--layers", "0,9", "--out", str(out)]) == 2
    assert "unknown layers [9]" in capsys.readouterr().err
    assert main(["probe", str(planted[0]), "--control", str(planted[0]), "--out", str(out)]) == 2
    assert "same model" in capsys.readouterr().err
    assert main(["probe", str(tmp_path / "missing.h5"), "--out", str(out)]) == 2
    assert not out.exists()


def test_label_store_supplies_the_labels(planted, planted_control):
    """A control sweep reads labels from the main trace: here the two stores hold different
    mazes under the same ids, so the control's own wall signal no longer matches the labels."""
    settings = SweepSettings(n_boot=0, shuffle=None)
    with TraceStore.open(planted[0]) as main_store, TraceStore.open(planted_control) as control:
        own = sweep(control, ["wall"], layers=[0], steps=[1], settings=settings, progress=False)
        borrowed = sweep(control, ["wall"], layers=[0], steps=[1], settings=settings, label_store=main_store,
                         progress=False)
    assert own[0]["score"] > 0.95
    assert borrowed[0]["score"] < own[0]["score"] - 0.1


def test_cli_probe_on_layer_0_alone_writes_its_report(planted, tmp_path):
    """One probed layer, layer 0: relative depth has no zero to divide by."""
    out = tmp_path / "layer0"
    assert main(["probe", str(planted[0]), "--targets", "wall", "--layers", "0", "--out", str(out),
                 "--n-boot", "10", "--min-test-mazes", "3"]) == 0
    result = json.loads((out / "localisation.json").read_text())["selectivity_shuffle"]
    assert result["rule"]["depth"] == 2  # the trace holds blocks 0-2
    assert result["targets"]["cond/wall"]["relative_depth"] == [0.0, 0.0]
    assert (out / "report.md").is_file() and (out / "profiles.png").is_file()


def test_relative_depth_is_against_the_model_not_the_probed_layers(rows):
    shallow = [r for r in rows if r["layer"] <= 1]
    result = localise(shallow, num_layers=12, min_test_mazes=3)
    assert result["rule"]["depth"] == 11
    assert result["targets"]["cond/route"]["relative_depth"] == [round(1 / 11, 3)] * 2
    # without the model's depth a single layer 0 gives no relative depth rather than a division by zero
    only0 = localise([r for r in rows if r["layer"] == 0], min_test_mazes=3)
    assert only0["targets"]["cond/wall"]["relative_depth"] is None
    with pytest.raises(InputError, match="num_layers 1"):
        localise(shallow, num_layers=1)


def test_too_few_test_mazes_warns_and_calls_nothing_decodable(planted, tmp_path, capsys):
    out = tmp_path / "few"
    # 12 mazes, 10% held out: one test maze, whose bootstrap interval collapses to a point
    assert main(["probe", str(planted[0]), "--targets", "wall", "--test-fraction", "0.1", "--out", str(out),
                 "--n-boot", "10"]) == 0
    assert "only 1 held-out maze" in capsys.readouterr().err
    result = json.loads((out / "localisation.json").read_text())["selectivity_shuffle"]
    assert result["n"]["test_mazes"] == 1 and result["enough_test_mazes"] is False
    assert all(t["decodable"] is None for t in result["targets"].values())
    report = (out / "report.md").read_text()
    assert "Warning:** only 1 held-out maze" in report and "| not assessed |" in report
    assert "n = 1 held-out mazes" in report
