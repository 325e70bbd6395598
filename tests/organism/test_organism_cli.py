"""``cos organism``: a short end-to-end eval and clean failures on bad input."""

import json

from interp.cli.main import main


def test_info_prints_the_shipped_config(capsys):
    assert main(["organism", "info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["organism"]["px_per_unit"] == 2 and info["parameters"] > 1e6


def test_eval_writes_json_and_markdown(tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["organism", "eval", "--sizes", "4", "--count", "1", "--steps", "2", "--out", str(out)]) == 0
    result = json.loads((out / "eval.json").read_text())
    assert [(r["size"], r["steps"], r["n"]) for r in result["rows"]] == [(4, 2, 1)]
    assert "| 4x4 | 1 |" in (out / "eval.md").read_text()


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    cases = [
        ["organism", "eval", "--sizes", "3", "--out", str(tmp_path / "a")],
        ["organism", "eval", "--steps", "0", "--out", str(tmp_path / "b")],
        ["organism", "train", "--run-dir", str(tmp_path / "c"), "--sizes", "5", "--size-weights", "1", "2"],
        ["organism", "cos-curve", "--replot", "--out", str(tmp_path / "d")],
        ["organism", "info", "--model", str(tmp_path)],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("cos: error: ") and "\n" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
