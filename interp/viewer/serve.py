"""Serve a viewer folder on 127.0.0.1 only, and show it inline in Jupyter.

Opening ``index.html`` from disk needs no server; a server helps where the browser is not on the
files' machine's file system view (Jupyter's output cells, a remote session with a forwarded port).
It binds the loopback address only, so nothing outside this machine can reach it.
"""

from __future__ import annotations

import functools
import html
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per picture would drown a notebook
        pass


def start_server(folder: str | Path, port: int = 0) -> ThreadingHTTPServer:
    """Serve ``folder`` on ``127.0.0.1:port`` (0: a free port) from a daemon thread; returns the server."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer((HOST, port), handler)
    threading.Thread(target=server.serve_forever, name="cos-viewer", daemon=True).start()
    return server


class Viewer:
    """A built viewer served on the loopback address; Jupyter shows it inline as an iframe.

    Attributes:
        path: the viewer folder.
        url: where the page is served.
    """

    def __init__(self, path: str | Path, *, port: int = 0, height: int = 820) -> None:
        self.path = Path(path)
        self._server = start_server(self.path, port)
        self.url = f"http://{HOST}:{self._server.server_address[1]}/index.html"
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe src="{html.escape(self.url)}" width="100%" height="{self.height}" '
                f'style="border:1px solid #ccc" title="cos-interp trace viewer"></iframe>')

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __repr__(self) -> str:
        return f"Viewer({str(self.path)!r}, url={self.url!r})"


def view(store, out=None, *, patch=None, probes=None, cos=None, overwrite: bool = True, port: int = 0,
         height: int = 820) -> Viewer:
    """Build the viewer of ``store`` and return it served, for Jupyter (the object displays inline).

    Arguments as :func:`~interp.viewer.build_viewer`; ``overwrite`` defaults to True here because a
    notebook cell is rerun. ``out`` defaults to ``<store>.view`` beside the store.

    Example:
        >>> viewer = interp.view("outputs/demo/trace.h5")   # doctest: +SKIP
        >>> viewer                                          # the last line of a cell shows it
    """
    from interp.viewer.build import build_viewer

    info = build_viewer(store, out, patch=patch, probes=probes, cos=cos, overwrite=overwrite, progress=False)
    return Viewer(info["out"], port=port, height=height)
