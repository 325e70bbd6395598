"""The experiment template runs a claim from its registry entry and re-judges a written record."""

import json

from interp import experiment, registry
from interp.results import write_result


def test_thin_claims_are_registry_entries_run_by_the_template():
    # exploration_pruning has its own script again: its averaging control runs the model
    assert set(experiment.runnable()) == {"working_memory", "self_correction", "perception_before_action"}
    assert experiment.main([]) == 2
    assert experiment.main(["layer_swap"]) == 2          # a claim with its own script
    assert experiment.main(["no_such_claim"]) == 2


def test_replot_rejudges_a_record_by_the_registry(tmp_path, capsys):
    figures = {"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}}
    write_result(tmp_path, name="self_correction", figures=figures, preset="gpu", dtype="float32", seconds=1)
    record = json.loads((tmp_path / "result.json").read_text())
    record["rule"]["text"], record["verdict"] = "an older rule", "partly"          # as if judged by another rule
    (tmp_path / "result.json").write_text(json.dumps(record))
    assert registry.audit(record)
    assert experiment.main(["self_correction", "--preset", "gpu", "--out", str(tmp_path), "--replot"]) == 0
    again = json.loads((tmp_path / "result.json").read_text())
    assert registry.audit(again) == [] and again["verdict"] == "holds" and again["figures"] == figures
    assert "re-judged" in capsys.readouterr().out


def test_every_model_has_its_own_result_folders_and_the_organism_keeps_its_own(tmp_path):
    from interp.results import RESULTS, result_folder

    assert result_folder("layer_swap", "gpu") == RESULTS / "layer_swap"
    assert result_folder("layer_swap", "cpu", model="organism") == RESULTS / "cpu" / "layer_swap"
    assert result_folder("layer_swap", "gpu", model="walker") == RESULTS / "walker" / "layer_swap"
    assert result_folder("layer_swap", "cpu", model="data/organisms/maze-walk-tiny") == (
        RESULTS / "maze-walk-tiny" / "cpu" / "layer_swap")
    presets = {"cpu": {"count": 3, "device": "cpu"}}
    args = experiment.parse(experiment.options("self_correction", "a claim", presets), presets, ["--model", "walker"])
    assert (args.model, args.count, args.device, args.out) == ("walker", 3, "cpu", RESULTS / "walker" / "cpu" / "self_correction")
    args.out = tmp_path
    figures = {"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}}
    experiment.finish("self_correction", args, 0.0, {"figures": figures})
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["model"] == "walker" and record["command"].endswith("--model walker")


def test_an_experiment_measures_draws_writes_and_replots_its_own_record(tmp_path, capsys):
    import pytest

    drawn = []

    def measure(args):
        return {"figures": {"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}},
                "reading": "13% correct themselves", "device": "cpu", "mazes": args.count}

    def figures(record, args, out):
        def share():
            drawn.append(record["figures"]["share_self_correcting"]["value"])
            (out / "share.png").write_bytes(b"not a real png")

        def broken():
            raise RuntimeError("no plotting here")
        return [("share.png", share), ("broken.png", broken)]

    def add_options(parser):
        parser.add_argument("--count", type=int, default=None)

    claim = experiment.Experiment("self_correction", "a claim", {"cpu": {"count": 3, "device": "cpu"}}, measure,
                                  figures, options=add_options)
    assert claim.main(["--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["verdict"] == "holds" and record["reading"] == "13% correct themselves"
    assert record["images"] == ["share.png"] and record["mazes"] == 3 and record["settings"]["count"] == 3
    assert "figure broken.png not drawn" in capsys.readouterr().err          # the numbers stay
    written = (tmp_path / "result.json").read_bytes()
    with pytest.raises(SystemExit):                                            # its own record is not overwritten
        claim.main(["--out", str(tmp_path)])
    assert claim.main(["--replot", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "result.json").read_bytes() == written and drawn == [0.13, 0.13]


def test_an_experiment_with_raw_measurements_writes_them_and_redoes_its_record_from_them(tmp_path, capsys):
    import pytest

    from interp import rawjson

    runs = []

    def measure(args):
        runs.append(args.count)
        return {"corrected": [1] * 13 + [0] * 87, "device": "cpu"}

    def summarise(raw, args):
        k, n = sum(raw["corrected"]), len(raw["corrected"])
        share = {"value": k / n, "ci95": [max(k / n - 0.02, 0), k / n + 0.03], "n": n}
        return {"figures": {"share_self_correcting": share},
                "reading": f"{k} of {n} correct themselves", "device": raw["device"], "dtype": "float32",
                "seconds": 2.0, "counted": n}

    def figures(record, args, out, raw):
        return [("share.png", lambda: (out / "share.png").write_bytes(bytes(raw["corrected"])))]

    def add_options(parser):
        parser.add_argument("--count", type=int, default=None)

    claim = experiment.Experiment("self_correction", "a claim", {"cpu": {"count": 3}}, measure, figures,
                                  options=add_options, raw="raw.json.gz", summarise=summarise)
    out = tmp_path / "out"
    assert claim.main(["--out", str(out)]) == 0 and runs == [3]
    record = json.loads((out / "result.json").read_text())
    assert rawjson.load(out / "raw.json.gz")["corrected"].count(1) == 13          # the raw measurements, kept
    assert (record["verdict"], record["reading"], record["counted"]) == ("holds", "13 of 100 correct themselves", 100)
    assert (record["dtype"], record["seconds"], record["images"]) == ("float32", 2.0, ["share.png"])
    assert record["command"] == "python experiments/self_correction.py --out out"       # no path of this machine
    written = (out / "result.json").read_bytes()
    with pytest.raises(SystemExit):                                            # its own record is not overwritten
        claim.main(["--out", str(out)])
    assert claim.main(["--replot", "--out", str(out)]) == 0 and runs == [3]    # nothing run again
    assert (out / "result.json").read_bytes() == written
    other = tmp_path / "other"
    raw = rawjson.load(out / "raw.json.gz")
    rawjson.dump({**raw, "corrected": [0] * 100}, tmp_path / "none.json.gz")
    assert claim.main(["--from-raw", str(tmp_path / "none.json.gz"), "--out", str(other)]) == 0 and runs == [3]
    redone = json.loads((other / "result.json").read_text())
    assert redone["verdict"] != "holds" and redone["counted"] == 100 and not (other / "raw.json.gz").exists()


def test_every_claim_runs_on_the_template():
    """A claim of the registry has a script on the template (an ``Experiment``, or ``options``, ``parse`` and
    ``finish`` of :mod:`interp.experiment`) or a registry ``measure`` run by it; none writes its record by hand."""
    import re

    from interp.results import ROOT

    uses = re.compile(r"from interp\.experiment(\.walker)? import (Experiment|main|finish\b)")
    for name in registry.names():
        script = ROOT / "experiments" / f"{name}.py"
        if not script.is_file():
            assert name in experiment.runnable(), f"{name}: no script and no measure"
            continue
        text = script.read_text()
        assert uses.search(text), f"{script.name} does not run on interp.experiment"
        assert "write_result" not in text and "argparse" not in text, f"{script.name} has a scaffold of its own"


def _samples(count=3):
    """Chain-of-Steps samples of perfect videos on held-out mazes (no model run)."""
    import numpy as np

    from interp.metrics.cos import cos_metrics
    from interp.reproduce.trajectories import heldout
    from interp.tasks import ground_truth_video

    videos = [(maze, ground_truth_video(maze, 3, px_per_unit=2)) for maze in heldout([5], count, multi_route=True)]
    return [cos_metrics(np.stack([video] * 3), maze) for maze, video in videos]


def test_a_registry_run_records_its_command_line_and_its_arguments_parse_to_its_settings(tmp_path, monkeypatch):
    from interp.reproduce import shared_samples

    used = []

    def samples_for(args, model):               # the preset's sampling, left out: the command is under test
        used.append(dict(args.settings))
        return {0.25: _samples(), 0.5: _samples()}

    monkeypatch.setattr(shared_samples, "samples_for", samples_for)
    argv = ["--preset", "gpu", "--device", "cpu", "--out", str(tmp_path / "run")]
    assert experiment.main(["self_correction", *argv]) == 0
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["command"] == "python -m interp.experiment self_correction --preset gpu --device cpu --out run"
    words = record["command"].split()
    assert words[:4] == ["python", "-m", "interp.experiment", "self_correction"]
    presets = shared_samples.PRESETS
    again = experiment.parse(experiment.options("self_correction", "a claim", presets), presets,
                             [*words[4:], "--out", str(tmp_path / "again")])      # the record's folder is taken
    assert used == [again.settings] and again.settings["sizes"] == [5, 7, 9] and again.device == "cpu"
    assert {key: record["settings"][key] for key in again.settings} == again.settings


def test_a_scripts_record_states_its_own_options(tmp_path):
    from interp.reproduce.shared_samples import PRESETS, sample_options

    def parser():
        made = sample_options(experiment.options("self_correction", "a claim", PRESETS), "sizes", "count")
        made.add_argument("--twin-seed", type=int, default=0)
        return made

    argv = ["--sizes", "5", "7", "--count", "64", "--twin-seed", "1", "--out", str(tmp_path / "x")]
    args = experiment.parse(parser(), PRESETS, argv)
    figures = {"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}}
    experiment.finish("self_correction", args, 0.0, {"figures": figures})
    command = json.loads((tmp_path / "x" / "result.json").read_text())["command"]
    assert command == "python experiments/self_correction.py --sizes 5 7 --count 64 --twin-seed 1 --out x"
    again = experiment.parse(parser(), PRESETS, [*command.split()[2:], "--out", str(tmp_path / "again")])
    assert (again.settings, again.twin_seed) == (args.settings, 1) and again.settings["count"] == 64
