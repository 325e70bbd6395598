"""`cos patch` end to end on the shipped organism at a tiny grid; bad input is one line and exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interp.cli.main import main
from interp.tasks import make_pairs, save_pair


def test_patch_writes_grid_figures_and_result(tmp_path, capsys):
    out = tmp_path / "patch"
    code = main(["patch", "--pairs", "2", "--num-steps", "4", "--layers", "0,11", "--steps", "0,2", "--read-at", "patched",
                 "--region", "all,changed,frame:3", "--out", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"grid.npz", "grid.json", "result.json", "patch_preference.png", "patch_flip.png",
            "patch_effects.png"} <= names
    result = json.loads((out / "result.json").read_text())
    assert result["n_pairs"] == 2 and len(result["cells"]) == 3 * 2 * 2
    cell = next(c for c in result["cells"] if (c["region"], c["layer"], c["step"]) == ("all", 11, 0))
    assert cell["preference"] > 0.9  # every token of the last block at step 0: the step's prediction is the clean one
    # an existing grid is kept unless --overwrite
    assert main(["patch", "--pairs", "2", "--layers", "0", "--steps", "0", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_patch_reads_saved_pairs(tmp_path):
    folder = tmp_path / "pairs"
    for i, pair in enumerate(make_pairs(5, 2, seed=910_000)):
        save_pair(pair, folder / f"pair{i}", video_format="png", num_frames=4)
    code = main(["patch", "--pairs-from", str(folder), "--num-steps", "2", "--layers", "0", "--steps", "0",
                 "--read-at", "patched",
                 "--region", "changed", "--out", str(tmp_path / "out")])
    assert code == 0
    assert json.loads((tmp_path / "out" / "result.json").read_text())["n_pairs"] == 2
    # the stacked rotary form gives the same grid bitwise (eager), and the record says which form ran
    assert main(["patch", "--pairs-from", str(folder), "--num-steps", "2", "--layers", "0", "--steps", "0",
                 "--read-at", "patched", "--region", "changed", "--rotary", "stacked",
                 "--out", str(tmp_path / "stacked")]) == 0
    stock, stacked = (np.load(tmp_path / name / "grid.npz") for name in ("out", "stacked"))
    assert stock.files == stacked.files and all(np.array_equal(stock[k], stacked[k]) for k in stock.files)
    record = json.loads((tmp_path / "stacked" / "grid.json").read_text())
    assert "stacked" in json.dumps(record) and '"matmul": "highest"' in json.dumps(record)


@pytest.mark.parametrize("argv, needle", [
    (["--layers", "12"], "layer 12 of site blocks.12.resid_post is out of range: choose 0..11"),
    (["--steps", "20"], "step 20 is out of range: choose 0..19"),
    (["--region", "frame:9"], "unknown region 'frame:9'"),
    (["--region", "grid:0"], "unknown region 'grid:0'"),
    (["--site", "resid_mid"], "unknown site kind 'resid_mid'"),
    (["--pairs", "0"], "--pairs 0 is out of range"),
    (["--pairs-from", "/nonexistent"], "is not a folder"),
])
def test_bad_patch_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, needle):
    out = tmp_path / "out"
    assert main(["patch", "--pairs", "1", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not (out / "grid.npz").exists()


def test_a_pair_file_that_does_not_match_its_mazes_is_refused(tmp_path, capsys):
    folder = tmp_path / "p"
    save_pair(make_pairs(5, 1, seed=910_000)[0], folder, video_format="png", num_frames=4)
    record = json.loads((folder / "pair.json").read_text())
    record["changed_units"] = [[1, 1]]
    (folder / "pair.json").write_text(json.dumps(record))
    assert main(["patch", "--pairs-from", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert "pair.json" in capsys.readouterr().err
