"""Ctrl-C and a closed pipe, as a user meets them: subprocesses that get a real SIGINT / EPIPE.

Slower than the in-process tests (each starts Python and loads the organism), so few cases.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from reliability_helpers import ROOT, TASK

from interp.capture.sink import SlabSink
from interp.store import TraceStore, layout


def cos_process(*argv, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "interp.cli.main", *map(str, argv)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("delay", [0.0, 0.5])
def test_ctrl_c_during_trace_is_one_line_exit_130_and_leaves_a_resumable_store(tmp_path, delay):
    out = tmp_path / "t.h5"
    proc = cos_process("trace", "--task", TASK, "--num-steps", "30", "--layers", "0,1", "--seeds", "0-2",
                       "--out", out)
    deadline = time.monotonic() + 120
    while not list(layout.data_dir(out).glob("*" + layout.TEMP_SUFFIX)) and proc.poll() is None:
        assert time.monotonic() < deadline, "no sample was ever in flight"
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)  # a hang fails here
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal")
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert [line for line in err.splitlines() if line.startswith("cos:") and "warning" not in line] == \
        ["cos: interrupted"]
    assert not list(layout.data_dir(out).glob("*" + layout.TEMP_SUFFIX)), "the sample in flight was left behind"
    if out.exists():
        with TraceStore.open(out) as store:
            done = store.sample_ids()
        assert len(done) < 3
    resumed = cos_process("trace", "--task", TASK, "--num-steps", "30", "--layers", "0,1", "--seeds", "0-2",
                          "--out", out)  # the lock was released: a rerun may write
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert len(TraceStore.open(out).sample_ids()) == 3


def test_interrupted_drain_ends_the_writer_thread():
    """Ctrl-C while close() waits for the writer: the thread must be gone when close() raises.

    A writer thread left running would race the samples' abort and could be frozen at exit holding
    h5py's lock, hanging the process.
    """
    written = []

    def slow_write(key, array):
        time.sleep(0.02)
        written.append(key)

    sink = SlabSink(slow_write)
    for i in range(200):
        sink.put(i, torch.zeros(4, 4))
    main = threading.get_ident()
    threading.Timer(0.1, lambda: signal.pthread_kill(main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        sink.close()
    assert not [t for t in threading.enumerate() if t.name == "trace-writer" and t.is_alive()]
    assert len(written) < 200  # the queued slabs were dropped, not written


def test_closed_pipe_is_quiet():
    proc = cos_process("organism", "info")
    proc.stdout.close()  # like `cos organism info | head -0`: the reader is gone before the first write
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141


def test_debug_flag_shows_the_traceback(tmp_path):
    from interp.cli.main import main
    from interp.errors import InputError

    with pytest.raises(InputError, match="maze size 2"):
        main(["--debug", "tasks", "make", "--sizes", "2", "--out", str(tmp_path / "t")])
