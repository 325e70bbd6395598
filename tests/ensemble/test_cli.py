"""``cos ensemble``: bad input ends with one line and exit code 2; a small run writes its record."""

from __future__ import annotations

import json

import pytest

from interp.cli.main import main

TASK = "data/tasks/maze5_s0"


@pytest.mark.parametrize("extra, message", [
    (["--k", "1"], "at least 2 seeds"),
    (["--num-steps", "4", "--at", "9"], "merge step 9 is out of range"),
    (["--merge", "vote"], "--merge"),
])
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, capsys, extra, message):
    code = main(["ensemble", "--task", TASK, "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_small_ensemble_writes_its_record(tmp_path, capsys):
    out = tmp_path / "ens"
    assert main(["ensemble", "--task", TASK, "--k", "2", "--merge", "x0_renoise", "--at", "1", "--num-steps", "3",
                 "--out", str(out)]) == 0
    record = json.loads((out / "ensemble.json").read_text())
    assert record["tasks"][0]["nfe"] == 2 * 2 + 1 and record["tasks"][0]["single_nfe"] == 3
    assert record["interventions"][0]["do"]["kind"] == "renoise_merge"
    assert (out / record["tasks"][0]["video"]).exists()


def test_ensemble_on_the_walker_reads_its_answers_as_walks(tmp_path, monkeypatch):
    from interp.tasks import walk_score

    scored = []
    original = walk_score.WalkScorer.__call__

    def counting(self, video, maze):
        scored.append(video.shape[0])
        return original(self, video, maze)

    monkeypatch.setattr(walk_score.WalkScorer, "__call__", counting)
    out = tmp_path / "ens"
    assert main(["ensemble", "--model", "walker", "--task", TASK, "--k", "2", "--merge", "x0_renoise", "--at", "0",
                 "--num-steps", "2", "--out", str(out)]) == 0
    record = json.loads((out / "ensemble.json").read_text())
    assert scored == [16, 16]                       # the merged walk and the one-seed walk, all 16 frames each
    assert isinstance(record["tasks"][0]["exact"], bool) and isinstance(record["tasks"][0]["single_exact"], bool)
