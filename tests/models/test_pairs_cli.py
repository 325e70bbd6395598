"""``cos patch`` on input pairs for any model, from the command line, on tiny random folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from interp.cli.main import main as cos
from interp.interventions import PatchGrid

from tiny_folders import GEOMETRY

def patch(folders, name, out, *extra):
    return cos(["patch", "--model", str(folders[name]), *GEOMETRY[name], *extra, "--out", str(out)])


@pytest.mark.parametrize("name", ["wan22-a14b", "ltx"])
def test_patching_every_token_of_the_last_block_restores_the_clean_run(folders, name, tmp_path):
    """With one step, the last block's output in both branches fixes the velocity (neither family's
    output head reads the prompt), so the patched run lands on the clean run: preference 1; one
    frame's tokens restore only part of it."""
    last = {"wan22-a14b": 1, "ltx": 1}[name]
    assert patch(folders, name, tmp_path, "--prompt-pairs", str(folders["pairs"]), "--guidance", "4",
                 "--num-steps", "1", "--region", "all,frame:1") == 0
    grid = PatchGrid.load(tmp_path)
    preference = grid.normalised("preference")
    np.testing.assert_allclose(grid.clean["preference"], 1.0)
    np.testing.assert_allclose(grid.corrupt["preference"], -1.0)
    # cells run in larger batches than the clean run (other CPU kernels): equal to float rounding
    np.testing.assert_allclose(preference[0, last, 0], 1.0, atol=1e-3)  # region all
    assert preference[1, last, 0] < 0.95  # region frame:1
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["meta"]["task"]["kind"] == "prompts" and result["n_pairs"] == 2


def test_two_experts_sweep_over_steps(folders, tmp_path):
    assert patch(folders, "wan22-a14b", tmp_path, "--prompt-pairs", str(folders["pairs"]), "--guidance", "4",
                 "--num-steps", "4", "--steps", "0,3", "--layers", "0,1") == 0
    grid = PatchGrid.load(tmp_path)
    assert grid.values["preference"].shape == (1, 2, 2, 2)
    assert np.isfinite(grid.values["preference"]).all()
    assert (tmp_path / "patch_preference.png").is_file()


def test_image_pairs_and_a_users_metric(folders, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for which in ("clean", "corrupt"):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(tmp_path / f"{which}.png")
    (tmp_path / "images.json").write_text(json.dumps([{"clean": "clean.png", "corrupt": "corrupt.png"}]))
    (tmp_path / "mymetric.py").write_text(
        "import numpy as np\n"
        "def brightness(videos, rows):\n"
        "    return {'brightness': np.asarray(videos, float).reshape(len(rows), -1).mean(1)}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    assert patch(folders, "wan21-i2v", out, "--image-pairs", str(tmp_path / "images.json"), "--prompt", "a maze",
                 "--num-steps", "2", "--metric", "mymetric:brightness") == 0
    grid = PatchGrid.load(out)
    assert list(grid.values) == ["brightness"] and grid.values["brightness"].shape == (1, 2, 2, 1)
    assert json.loads((out / "result.json").read_text())["meta"]["task"]["kind"] == "images"


@pytest.mark.parametrize("extra, message", [
    (["--metric", "no_such_module:f"], "cannot import the metric's module"),
    (["--metric", "nocolon"], "module:function"),
    (["--region", "frame:9"], "unknown region"),
    (["--site", "attn2.out", "--layers", "0"], None),
])
def test_bad_options_are_one_line_errors(folders, tmp_path, capsys, extra, message):
    code = patch(folders, "ltx", tmp_path, "--prompt-pairs", str(folders["pairs"]), "--num-steps", "1", *extra)
    if message is None:  # LTX has cross-attention: a valid site
        assert code == 0
        return
    assert code == 2
    assert message in capsys.readouterr().err
