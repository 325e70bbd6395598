"""A browser viewer of a trace store: step x frame grids, token maps, patching, probes, CoS metrics.

:func:`build_viewer` reduces the store once to small pictures and JSON chunks and writes a
self-contained page (``index.html`` opens from disk, nothing is fetched from the network);
:func:`view` serves it on 127.0.0.1 for Jupyter. ``cos view`` is the command-line door.
"""

from interp.viewer.build import build_viewer, default_out
from interp.viewer.serve import Viewer, start_server, view

__all__ = ["Viewer", "build_viewer", "default_out", "start_server", "view"]
