"""Move captured tensors off the device and into the store without stalling the model.

The model thread only enqueues: a slab is cast on the device, copied into a pinned host buffer
with ``non_blocking=True`` on a side CUDA stream (so the copy overlaps the model's next kernels;
a CUDA event marks when it is done) and handed to a writer thread, which waits for the event
and writes it to HDF5. Host memory is bounded by
``max_bytes``: when the writer falls behind, :meth:`SlabSink.put` waits, so memory stays flat
however many steps and layers are captured (the run slows to disk speed instead).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable

import numpy as np
import torch

_STOP = object()


class SlabSink:
    """A bounded, ordered queue of slabs from the model thread to one writer thread.

    Args:
        write: called on the writer thread as ``write(key, array)`` for each slab, in order.
        dtype: storage dtype; the cast happens on the device, before the copy.
        max_bytes: host bytes that may be held by slabs waiting to be written.

    Example:
        >>> out = {}
        >>> sink = SlabSink(lambda key, a: out.__setitem__(key, a.copy()))
        >>> sink.put("a", torch.ones(2, 3))
        >>> sink.close()
        >>> out["a"].dtype, out["a"].shape
        (dtype('float16'), (2, 3))
    """

    def __init__(
        self,
        write: Callable[[Hashable, np.ndarray], None],
        *,
        dtype: torch.dtype = torch.float16,
        max_bytes: int = 2 << 30,
    ) -> None:
        self._write = write
        self.dtype = dtype
        self.max_bytes = int(max_bytes)
        self._queue: queue.Queue = queue.Queue()
        self._room = threading.Condition()
        self._allocated = 0  # bytes of host buffers alive (in flight or pooled)
        self._free: dict[tuple, list[torch.Tensor]] = defaultdict(list)
        self._error: BaseException | None = None
        self._discard = False  # set on Ctrl-C: queued slabs are dropped, not written
        self.bytes_written = 0
        self.put_seconds = 0.0  # model-thread time spent in put (casts, copies, waiting for room)
        self.pinned_allocations = 0
        self._stream = None
        self._thread = threading.Thread(target=self._run, name="trace-writer", daemon=True)
        self._thread.start()

    def put(self, key: Hashable, tensor: torch.Tensor) -> None:
        """Queue ``tensor`` (any device) to be written under ``key``."""
        self._raise_if_failed()
        began = time.perf_counter()
        slab = tensor.detach().to(self.dtype)
        if slab.is_cuda:
            if slab.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr():
                slab = slab.clone()  # the model may still edit its own tensor in place
            host = self._host_buffer(tuple(slab.shape), slab.dtype)
            # Copy on a side stream so the copy overlaps the model's next kernels.
            compute = torch.cuda.current_stream(slab.device)
            if self._stream is None:
                self._stream = torch.cuda.Stream(device=slab.device)
            self._stream.wait_stream(compute)
            with torch.cuda.stream(self._stream):
                host.copy_(slab, non_blocking=True)
                event = torch.cuda.Event()
                event.record(self._stream)
            slab.record_stream(self._stream)  # keep the slab's memory until the copy is done
        else:
            # A fresh copy: the model may reuse or edit the tensor it handed us.
            host = slab.contiguous()
            if host.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr():
                host = host.clone()
            self._reserve(host.numel() * host.element_size())
            event = None
        self._queue.put((key, host, event))
        self.put_seconds += time.perf_counter() - began

    def close(self) -> None:
        """Wait until every queued slab is written; re-raise a writer error.

        The writer thread has always ended when this returns or raises. Left running (as an
        interrupted ``join`` would leave it), it would race the caller's clean-up of the samples,
        and at interpreter exit it could be frozen while holding h5py's global lock, which the
        exit handlers then wait for forever. So a Ctrl-C here, or one already unwinding the
        model thread, makes the writer drop the slabs still queued (their samples are about to
        be aborted) and is re-raised once the thread has ended.
        """
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):
            self._discard = True
        interrupted = None
        self._queue.put(_STOP)
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as err:
                self._discard = True
                interrupted = err
        self._free.clear()
        if interrupted is not None:
            raise interrupted
        self._raise_if_failed()

    # -- host memory ---------------------------------------------------------------------
    def _reserve(self, nbytes: int) -> None:
        with self._room:
            while self._allocated + nbytes > self.max_bytes and self._allocated > 0:
                self._room.wait(timeout=0.5)
                self._raise_if_failed()
            self._allocated += nbytes

    def _host_buffer(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        nbytes = int(np.prod(shape)) * torch.empty((), dtype=dtype).element_size()
        with self._room:
            while True:
                self._raise_if_failed()
                if self._free[(shape, dtype)]:
                    return self._free[(shape, dtype)].pop()
                if self._allocated + nbytes <= self.max_bytes or self._allocated == 0:
                    break
                # Give back pooled buffers of other shapes before waiting for one in flight.
                other = next((k for k, v in self._free.items() if v), None)
                if other is not None:
                    dropped = self._free[other].pop()
                    self._allocated -= dropped.numel() * dropped.element_size()
                    continue
                self._room.wait(timeout=0.5)
            self._allocated += nbytes
            self.pinned_allocations += 1
        return torch.empty(shape, dtype=dtype, pin_memory=True)

    def _release(self, host: torch.Tensor, pooled: bool) -> None:
        with self._room:
            if pooled:
                self._free[(tuple(host.shape), host.dtype)].append(host)
            else:
                self._allocated -= host.numel() * host.element_size()
            self._room.notify_all()

    # -- writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            key, host, event = item
            try:
                if self._error is None and not self._discard:
                    if event is not None:
                        event.synchronize()
                    self._write(key, host.numpy())
                    self.bytes_written += host.numel() * host.element_size()
            except BaseException as err:  # surfaced on the model thread by put/close
                self._error = err
            finally:
                self._release(host, pooled=event is not None)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"writing the trace failed: {self._error!r}") from self._error
