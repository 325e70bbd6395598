"""`cos demo` end to end, and the rule that picks its maze."""

import json

import numpy as np
from PIL import Image

from interp.cli.main import build_parser, main
from interp.organism.showcase import DEMO_FIRST_SEED, DEMO_SEED, DEMO_SIZE, pick_maze
from interp.store import TraceStore


def test_demo_writes_every_output(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--num-steps", "4"]) == 0
    for name in ("trace.h5", "chain_of_steps.png", "chain_of_steps.json", "steps.png", "steps.gif", "video.gif",
                 "score.json"):
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
    curve = json.loads((out / "chain_of_steps.json").read_text())
    assert curve["seed"] == DEMO_SEED and len(curve["final"]) == 4 and curve["rows_drawn"][-1] == 3
    assert str(out) in capsys.readouterr().out
    # a rerun replaces the trace instead of failing on the existing one
    assert main(["demo", "--out", str(out), "--num-steps", "4"]) == 0


def test_demo_trace_stays_small(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--num-steps", "2"]) == 0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and "trace.h5" in str(p))
    per_step = size / 2
    assert per_step * 20 < 20e6, f"a 20-step demo trace would take {per_step * 20 / 1e6:.0f} MB"


def test_demo_defaults_are_the_maze_the_rule_picks():
    """The default maze shows several routes early and commits late (the rule of interp.organism.showcase)."""
    args = build_parser().parse_args(["demo"])
    assert (args.size, args.seed, args.num_steps) == (DEMO_SIZE, DEMO_SEED, 20)
    maze, curve = pick_maze(first_seed=DEMO_FIRST_SEED)
    assert maze.seed == DEMO_SEED
    assert curve.exact and len(maze.routes) >= 2
    assert curve.alternative[0] >= 0.25  # another shortest route painted at step 0
    assert curve.commit_step >= 4  # the answer still changes after step 3
    assert curve.alternative[-1] < 0.05  # ... and the alternative is pruned by the end
    assert np.isfinite(curve.final).all()
