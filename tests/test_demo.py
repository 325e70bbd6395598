"""`cos demo` end to end: task, trace, step grid, video and score all land in --out."""

import json

from PIL import Image

from interp.cli.main import main
from interp.store import TraceStore


def test_demo_writes_every_output(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--num-steps", "4"]) == 0
    for name in ("trace.h5", "steps.png", "steps.gif", "video.gif", "score.json"):
        assert (out / name).is_file(), name
    with TraceStore.open(out / "trace.h5") as store:
        (sample_id,) = store.sample_ids()
        assert list(store.steps(sample_id)) == [0, 1, 2, 3]
        frames = store.video(sample_id).shape[0]
    with Image.open(out / "steps.png") as grid:
        assert grid.size[0] > 0 and grid.size[1] > 0
    assert frames >= 2
    score = json.loads((out / "score.json").read_text())
    assert 0.0 <= score["vbvr_score"] <= 1.0
    assert str(out) in capsys.readouterr().out
    # a rerun replaces the trace instead of failing on the existing one
    assert main(["demo", "--out", str(out), "--num-steps", "4"]) == 0
