"""The HDF5 trace store: crash-safe writes while a model runs, lazy reads for analyses.

``TraceWriter`` appends samples (see :mod:`interp.store.layout` for the on-disk design),
``TraceStore`` reads them, and ``StoreSource`` serves them to ``patch`` interventions. The schema is documented in ``docs/store.md``.
"""

from interp.store.layout import SCHEMA_VERSION
from interp.store.reader import TraceStore
from interp.store.source import StoreSource
from interp.store.writer import SampleWriter, TraceWriter

__all__ = ["SCHEMA_VERSION", "SampleWriter", "StoreSource", "TraceStore", "TraceWriter"]
