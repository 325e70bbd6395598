"""The output rule: every command and experiment script checks its output folder before any work,
refuses to replace what is there without ``--overwrite`` (one line, exit 2, no byte changed), and
writes its files all at once."""

from __future__ import annotations

import json
import runpy
import shutil
import sys
from pathlib import Path

import pytest
from reliability_helpers import TASK

from interp import outputs
from interp.errors import InputError
from probes.synthetic import write_planted_store

ROOT = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: a refused run must stop before any computation."""
    import interp.models

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the output folder was checked")

    monkeypatch.setattr(interp.models, "load_model", refuse)


def refused_again(cos, argv, out: Path) -> str:
    """Run ``argv`` into ``out`` a second time: one line, exit 2, every byte of ``out`` unchanged."""
    before = snapshot(out)
    assert before, f"the first run wrote nothing into {out}"
    code, _, err = cos(*argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--overwrite" in lines[0], err
    assert snapshot(out) == before
    return lines[0]


# --- the rule itself -------------------------------------------------------------------------

def test_claim_folder_names_what_it_would_replace(tmp_path):
    (tmp_path / "result.json").write_text("{}")
    (tmp_path / "mine.txt").write_text("kept")
    with pytest.raises(InputError, match=r"already holds result.json: pass --overwrite"):
        outputs.claim_folder(tmp_path, ["result.json", "*.png"])
    assert outputs.claim_folder(tmp_path, ["grid.npz", "*.png"]) == tmp_path  # another file is no clash
    assert outputs.claim_folder(tmp_path, ["result.json"], overwrite=True) == tmp_path
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(InputError, match=r"a.png, result.json: pass --overwrite to replace them"):
        outputs.claim_folder(tmp_path, ["result.json", "*.png"])


def test_claim_folder_refuses_a_file_and_a_path_under_a_file(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    with pytest.raises(InputError, match="exists and is not a folder"):
        outputs.claim_folder(file, ["result.json"])
    with pytest.raises(InputError, match="which is a file, not a folder"):
        outputs.claim_folder(file / "sub", ["result.json"])
    with pytest.raises(InputError, match="exists: pass --overwrite"):
        outputs.claim_file(file)


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    outputs.write_json(path, {"old": 1})
    with pytest.raises(TypeError):
        outputs.write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_a_failed_figure_leaves_no_partial_png(tmp_path):
    class Broken:
        def savefig(self, path, **options):
            Path(path).write_bytes(b"\x89PNG half")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        outputs.save_figure(Broken(), tmp_path / "fig.png")
    assert list(tmp_path.iterdir()) == []


def test_range_messages_read_as_english():
    from interp.errors import check_finite

    with pytest.raises(InputError, match=r"--shift 0 is out of range: choose above 0 and at most 1000$"):
        check_finite("--shift", 0, 0, 1000, low_open=True)
    with pytest.raises(InputError, match=r"out of range: choose at least 0$"):
        check_finite("strength", -1, 0)


# --- each command: a second run into the same folder changes nothing ---------------------------

def test_patch(cos, tmp_path, monkeypatch):
    out = tmp_path / "patch"
    argv = ["patch", "--pairs", "1", "--num-steps", "2", "--layers", "0", "--steps", "0", "--region", "all",
            "--read-at", "patched", "--out", out]
    code, stdout, err = cos(*argv)
    assert code == 0, err
    assert "one pair has no interval" in stdout
    assert json.loads((out / "result.json").read_text())["meta"]["command"].startswith("cos patch --pairs 1")
    (out / "notes.txt").write_text("the user's own")
    import interp.models

    monkeypatch.setattr(interp.models, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    refused_again(cos, argv, out)
    for name in ("result.json", "patch_flip.png"):  # any one file the command writes is enough to refuse
        single = tmp_path / f"only-{name}"
        single.mkdir()
        shutil.copy(out / name, single / name)
        refused_again(cos, [*argv[:-1], single], single)


def test_ensemble(cos, tmp_path, no_model):
    out = tmp_path / "ens"
    out.mkdir()
    (out / "ensemble.json").write_text('{"from": "the first run"}')
    line = refused_again(cos, ["ensemble", "--task", ROOT / TASK, "--k", "2", "--out", out], out)
    assert "ensemble.json" in line
    out2 = tmp_path / "ens2"
    out2.mkdir()
    (out2 / f"{Path(TASK).name}-seed0.gif").write_bytes(b"GIF89a first run")
    (out2 / f"{Path(TASK).name}-seed0.mp4").write_bytes(b"first run")
    refused_again(cos, ["ensemble", "--task", ROOT / TASK, "--k", "2", "--out", out2], out2)


@pytest.fixture(scope="module")
def planted_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("planted") / "trace.h5"
    write_planted_store(path, n_samples=8, size=4, frames=3, width=16, layers=(0, 1), steps=(0, 1))
    return path


def test_maps_and_probe(cos, tmp_path, planted_store):
    maps = tmp_path / "maps"
    argv = ["maps", planted_store, "--layers", "1", "--steps", "1", "--out", maps]
    assert cos(*argv)[0] == 0
    refused_again(cos, argv, maps)
    assert cos(*argv, "--overwrite")[0] == 0
    probe = tmp_path / "probe"
    argv = ["probe", planted_store, "--targets", "wall", "--layers", "0", "--steps", "0", "--n-boot", "10",
            "--min-test-mazes", "1", "--out", probe]
    assert cos(*argv)[0] == 0
    refused_again(cos, argv, probe)


def test_cos_metrics_checks_a_read_only_folder_first(cos, tmp_path, planted_store, monkeypatch):
    import interp.cli.cos_metrics as command

    monkeypatch.setattr(command, "read_samples", lambda args: pytest.fail("read before the folder was checked"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cos("cos-metrics", planted_store, "--out", blocker / "metrics")
    assert code == 2 and "which is a file, not a folder" in err
    out = tmp_path / "metrics"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    refused_again(cos, ["cos-metrics", planted_store, "--out", out], out)


def test_steps_and_organism_eval(cos, tmp_path, no_model):
    png = tmp_path / "grid.png"
    png.write_bytes(b"\x89PNG first run")
    refused_again(cos, ["steps", "--task", ROOT / TASK, "--out", png], tmp_path)
    out = tmp_path / "eval"
    out.mkdir()
    (out / "eval.md").write_text("| first run |")
    refused_again(cos, ["organism", "eval", "--sizes", "5", "--count", "1", "--out", out], out)


# --- each experiment script, run again on its own published record --------------------------

def run_script(name: str, argv: list, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", [name, *map(str, argv)])
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "experiments" / name), run_name="__main__")
    return done.value.code, capsys.readouterr().err


SCRIPTS = {"erase_candidates.py": "erase_candidates", "noise_step_vs_frame.py": "noise_step_vs_frame",
           "layer_swap.py": "layer_swap", "seed_ensemble.py": "seed_ensemble",
           "exploration_pruning.py": "exploration_pruning",
           "reason_early.py": "reason_early", "probe_localisation.py": "probe_localisation",
           "patch_localisation.py": "patch_localisation"}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_refuses_its_own_record(script, tmp_path, monkeypatch, capsys, no_model):
    out = tmp_path / "out"
    out.mkdir()
    for path in (ROOT / "experiments" / "results" / SCRIPTS[script]).iterdir():
        if path.is_file():
            shutil.copy(path, out / path.name)
    before = snapshot(out)
    code, err = run_script(script, ["--out", out], monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"{script}: error: --out ") and "--overwrite" in lines[0], err
    assert snapshot(out) == before


@pytest.mark.parametrize("name", ["working_memory", "self_correction", "perception_before_action"])
def test_template_claim_refuses_its_own_record(name, tmp_path, monkeypatch, capsys, no_model):
    from interp import experiment

    out = tmp_path / "out"
    shutil.copytree(ROOT / "experiments" / "results" / name, out)
    before = snapshot(out)
    monkeypatch.setattr(sys, "argv", ["experiment.py"])
    with pytest.raises(SystemExit) as done:
        experiment.main([name, "--out", str(out)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert done.value.code == 2 and len(lines) == 1 and "--overwrite" in lines[0], lines
    assert snapshot(out) == before


@pytest.mark.parametrize("script", ["erase_candidates.py", "layer_swap.py", "reason_early.py"])
def test_script_given_a_file_as_its_folder_stops_at_once(script, tmp_path, monkeypatch, capsys, no_model):
    file = tmp_path / "out.json"
    file.write_text("mine")
    code, err = run_script(script, ["--out", file], monkeypatch, capsys)
    assert code == 2 and err.strip() == f"{script}: error: --out {str(file)!r} exists and is not a folder"
    assert file.read_text() == "mine"


def test_replot_rebuilds_its_own_folder_without_overwrite(tmp_path, monkeypatch, capsys):
    out = tmp_path / "swap"
    shutil.copytree(ROOT / "experiments" / "results" / "layer_swap", out,
                    ignore=shutil.ignore_patterns("cpu", "every_step_cpu"))
    monkeypatch.setattr(sys, "argv", ["layer_swap.py", "--replot", "--out", str(out)])
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "experiments" / "layer_swap.py"), run_name="__main__")
    assert done.value.code in (0, None), capsys.readouterr().err
    assert json.loads((out / "result.json").read_text())["verdict"]
