"""One tiny trace of the shipped organism for every viewer test: one held-out 5x5 maze, two
noise seeds (so that the sample picker has a choice), 3 denoising steps, blocks 2 and 6 in full."""

import pytest

from interp.cli.main import main


@pytest.fixture(scope="session")
def tiny_trace(tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer")
    tasks, trace = root / "tasks", root / "trace.h5"
    assert main(["tasks", "make", "--sizes", "5", "--count", "1", "--seed", "900010", "--frames", "4",
                 "--px", "2", "--out", str(tasks)]) == 0
    assert main(["trace", "--model", "organism", "--task", str(tasks), "--out", str(trace), "--sites",
                 "resid_post,x0", "--layers", "2,6", "--num-steps", "3", "--seeds", "0-1"]) == 0
    return trace
