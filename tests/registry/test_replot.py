"""Every published claim record, of every model, rebuilds byte-identically in its result.json with ``--replot``
(no model run)."""

import json
import runpy
import shutil
import sys

import pytest

from interp import registry
from interp.results import RESULTS, ROOT

# the organism's records in RESULTS/<name>, another model's in RESULTS/<model>/<name>
FOLDERS = sorted(path.parent for name in registry.names()
                 for path in (RESULTS / name / "result.json", *RESULTS.glob(f"*/{name}/result.json"))
                 if path.is_file() and path.parent.parent.name != "cpu")


@pytest.mark.parametrize("source", FOLDERS, ids=lambda p: str(p.relative_to(RESULTS)))
def test_published_record_rebuilds_byte_identically(source, tmp_path, monkeypatch, capsys):
    name = source.name
    out = tmp_path / name
    shutil.copytree(source, out, ignore=lambda folder, names: [n for n in names if (source / n).is_dir()])
    monkeypatch.chdir(ROOT)
    script = ROOT / "experiments" / f"{name}.py"
    if registry.latest(name).measure:
        from interp import experiment

        preset = json.loads((source / "result.json").read_text())["preset"]
        assert experiment.main([name, "--preset", preset, "--replot", "--out", str(out)]) == 0
    else:
        monkeypatch.setattr(sys, "argv", [script.name, "--replot", "--out", str(out)])
        with pytest.raises(SystemExit) as done:
            runpy.run_path(str(script), run_name="__main__")
        assert done.value.code in (0, None), capsys.readouterr().err
    assert (out / "result.json").read_bytes() == (source / "result.json").read_bytes()


def test_replot_without_a_record_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["reason_early.py", "--replot", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "experiments" / "reason_early.py"), run_name="__main__")
    assert done.value.code == 2 and "result.json" in capsys.readouterr().err
