"""`cos patch` under torchrun: the ranks share the cells and every rank gathers the same grid."""

import os
import subprocess
import sys

import numpy as np

from interp.interventions import PatchGrid

PATCH_ARGS = ["patch", "--pairs", "2", "--num-steps", "3", "--layers", "0,11", "--steps", "0,1,2",
              "--region", "all,changed", "--read-at", "patched", "--batch-size", "4"]


def test_two_ranks_give_the_single_process_grid(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    split = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
             "-m", "interp.cli.main", *PATCH_ARGS, "--out", str(tmp_path / "two")]
    alone = [sys.executable, "-m", "interp.cli.main", *PATCH_ARGS, "--out", str(tmp_path / "one")]
    for cmd in (split, alone):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    two, one = PatchGrid.load(tmp_path / "two"), PatchGrid.load(tmp_path / "one")
    assert two.meta["world_size"] == 2 and one.meta["world_size"] == 1
    for name in ("preference", "flip"):
        assert not np.isnan(two.values[name]).any()
        np.testing.assert_allclose(two.values[name], one.values[name], rtol=1e-5, atol=1e-6)
