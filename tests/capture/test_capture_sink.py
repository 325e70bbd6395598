"""The writer thread keeps order, bounds host memory, and surfaces its errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from interp.capture.sink import SlabSink


def test_order_values_and_bounded_memory():
    written, peak = [], [0]
    slab = torch.ones(64, 64)  # 8 KiB as float16

    def slow_write(key, array):
        peak[0] = max(peak[0], sink._allocated)
        time.sleep(0.002)
        written.append((key, array.copy()))

    sink = SlabSink(slow_write, max_bytes=3 * 8192)
    for i in range(40):
        sink.put(i, slab * i)
        assert sink._allocated <= 3 * 8192
    sink.close()
    assert [k for k, _ in written] == list(range(40))
    for i, array in written:
        assert array.dtype == np.float16
        np.testing.assert_array_equal(array, np.full((64, 64), i, np.float16))
    assert peak[0] <= 3 * 8192
    assert sink.bytes_written == 40 * 8192


def test_slab_is_copied_not_aliased():
    got = []
    gate = threading.Event()

    def write(key, array):
        gate.wait(5)
        got.append(array.copy())

    sink = SlabSink(write, dtype=torch.float32)
    source = torch.zeros(3, 2)
    sink.put("a", source)
    source += 1  # the model reuses its buffer before the writer runs
    gate.set()
    sink.close()
    np.testing.assert_array_equal(got[0], np.zeros((3, 2), np.float32))


def test_writer_errors_surface():
    def fail(key, array):
        raise OSError("disk full")

    sink = SlabSink(fail)
    sink.put("a", torch.ones(2))
    with pytest.raises(RuntimeError, match="disk full"):
        sink.close()
