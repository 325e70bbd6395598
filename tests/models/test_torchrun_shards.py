"""Under torchrun, a patch sweep of a family with batched guidance (LTX) dealt to two ranks gives
the single process's grid."""

import json
import os
import subprocess
import sys

import numpy as np

from interp.cli.main import main as cos
from interp.interventions import PatchGrid
from interp.models.tiny_zoo import save_tiny_pipeline


def test_two_ranks_give_the_single_process_grid(tmp_path):
    folder = save_tiny_pipeline("ltx", tmp_path / "ltx")
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps([{"clean": "a red ball", "corrupt": "a blue ball"},
                                 {"clean": "a cat walks", "corrupt": "a dog walks"}]))
    args = ["patch", "--model", str(folder), "--prompt-pairs", str(pairs), "--height", "32", "--width", "32",
            "--frames", "9", "--guidance", "3", "--num-steps", "2", "--region", "all,frame:1", "--batch-size", "3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    split = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
             "-m", "interp.cli.main", *args, "--out", str(tmp_path / "two")]
    done = subprocess.run(split, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert cos([*args, "--out", str(tmp_path / "one")]) == 0
    two, one = PatchGrid.load(tmp_path / "two"), PatchGrid.load(tmp_path / "one")
    assert two.meta["world_size"] == 2 and one.meta["world_size"] == 1
    for name in one.values:
        assert not np.isnan(two.values[name]).any()
        np.testing.assert_allclose(two.values[name], one.values[name], rtol=1e-5, atol=1e-6)
