"""A record never states an absolute path of the machine it ran on: paths are relative to the
repository root (or to the record's own folder), so a record reads the same on every checkout."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from interp.paths import RESULTS, ROOT, recorded_command, recorded_path, stated_path

#: an absolute path of two parts or more (``/tmp/x.h5``, ``/work/main/data/...``), not ``1/sqrt(K)`` or ``km/s``
ABSOLUTE = re.compile(r'(?<![\w.)\]}>*+-])/(?:[A-Za-z_][\w.+-]*/)+[\w.+-]*')
RECORDS = (RESULTS, ROOT / "data" / "organisms")


def _texts():
    for top in RECORDS:
        for path in sorted(top.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".jsonl", ".md", ".csv", ".txt"):
                yield path, path.read_text()
            elif path.is_file() and path.name.endswith(".json.gz"):
                yield path, gzip.decompress(path.read_bytes()).decode()


def test_the_pattern_finds_machine_paths_and_nothing_else():
    found = ABSOLUTE.findall('"trace": "/tmp/t64.h5", "out": "/work/main/experiments/results/x", --out /root/out')
    assert found == ["/tmp/t64.h5", "/work/main/experiments/results/x", "/root/out"]
    assert ABSOLUTE.findall('"std 1/sqrt(K)", "x0_hat/step", "outputs/reproduce/trace.h5", "[a]/b/c"') == []


def test_no_published_record_states_a_path_of_the_machine_it_ran_on():
    bad = [f"{path.relative_to(ROOT)}: {match}" for path, text in _texts() for match in ABSOLUTE.findall(text)]
    assert not bad, "absolute paths in published records:\n" + "\n".join(bad)


def test_a_path_is_stated_relative_to_the_repository_then_the_record_folder_else_by_its_name(tmp_path):
    assert recorded_path(ROOT / "outputs" / "reproduce" / "trace.h5") == "outputs/reproduce/trace.h5"
    assert recorded_path(ROOT) == "."
    assert recorded_path(tmp_path / "run" / "trace.h5", tmp_path) == "run/trace.h5"
    assert recorded_path(tmp_path / "elsewhere" / "trace.h5", tmp_path / "run") == "trace.h5"
    assert recorded_path(tmp_path / "elsewhere" / "trace.h5") == "trace.h5"
    link = tmp_path / "checkout"
    link.symlink_to(ROOT)                              # the repository reached through a link
    assert recorded_path(link / "data" / "organisms") == "data/organisms"
    assert stated_path("organism") == "organism" and stated_path(ROOT / "data" / "organisms") == "data/organisms"
    assert recorded_command(["python", "experiments/x.py", "--out", str(RESULTS / "x"), f"--trace={tmp_path}/t.h5",
                             "--count", "3"]) == "python experiments/x.py --out experiments/results/x --trace=t.h5 --count 3"


def test_an_experiment_records_its_folder_relative_to_the_repository():
    from interp import experiment

    presets = {"cpu": {"count": 3}}
    args = experiment.parse(experiment.options("layer_swap", "a claim", presets), presets,
                            ["--model", str(ROOT / "data" / "organisms" / "maze-wan-tiny")])
    settings = experiment.recorded(args)
    assert settings["out"] == "experiments/results/maze-wan-tiny/cpu/layer_swap"
    assert settings["model"] == "data/organisms/maze-wan-tiny"


@pytest.mark.parametrize("where", ["in the record's folder", "elsewhere"])
def test_probes_json_states_its_traces_without_the_machine_path(where, tmp_path):
    from probes.study import probe_store
    from probes.sweep import SweepSettings
    from probes.synthetic import write_planted_store

    out = tmp_path / "probes"
    folder = out / "traces" if where == "in the record's folder" else tmp_path / "traces"
    folder.mkdir(parents=True)
    for name, seed in (("trace.h5", 0), ("random.h5", 1)):
        write_planted_store(folder / name, n_samples=12, size=4, frames=3, width=16, layers=(0, 1), steps=(0,),
                            seed=seed)
    probe_store(folder / "trace.h5", out, targets=["wall"], control=folder / "random.h5",
                settings=SweepSettings(n_boot=0))
    meta = json.loads((out / "probes.json").read_text())["meta"]
    expected = "traces/" if where == "in the record's folder" else ""
    assert (meta["trace"], meta["control"]) == (f"{expected}trace.h5", f"{expected}random.h5")
    for name in ("probes.json", "report.md"):
        text = (out / name).read_text()
        assert str(tmp_path) not in text and not ABSOLUTE.findall(text), name
