"""``cos view``: a self-contained browser viewer of a trace store (and, given them, patching, probes, CoS).

Examples::

    cos view outputs/demo/trace.h5                       # writes outputs/demo/trace.view/index.html
    cos view trace.h5 --patch outputs/patch --probes outputs/probes --out outputs/viewer --serve

Open ``index.html`` from disk in any browser; ``--serve`` serves the folder on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("view", help="a browser viewer of a trace store: steps, token maps, patching, probes")
    parser.add_argument("store", help="trace store (*.h5) written by `cos trace`")
    parser.add_argument("--out", default=None, help="output folder (default: STORE's name with .view, beside it)")
    parser.add_argument("--patch", metavar="DIR", default=None, help="a `cos patch` output folder to show")
    parser.add_argument("--probes", metavar="DIR", default=None, help="a `cos probe` output folder to show")
    parser.add_argument("--cos", metavar="JSON", default=None,
                        help="metrics.json of `cos cos-metrics` (default: computed from the store when it holds "
                             "pixel x0_hat of maze tasks)")
    parser.add_argument("--probe-map", metavar="TARGET", default=None,
                        help="also map a linear probe's score per token for this maze target (wall, route, "
                             "distance, ...), each sample scored by probes fitted on the others")
    parser.add_argument("--serve", action="store_true", help="serve the viewer on 127.0.0.1 until Ctrl-C")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (0: any free port)")
    parser.add_argument("--overwrite", action="store_true", help="replace a viewer already in --out")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.errors import check_range
    from interp.viewer import build_viewer, start_server

    check_range("--port", args.port, 0, 65535)
    info = build_viewer(args.store, args.out, patch=args.patch, probes=args.probes, cos=args.cos,
                        probe_map=args.probe_map, overwrite=args.overwrite)
    index = info["index"].resolve()
    print(f"{info['out']}: viewer of {info['samples']} samples ({info['bytes'] / 1e6:.1f} MB of pictures and data, "
          f"built in {info['seconds']:.1f} s)")
    print(f"open it: file://{index}  (or: cos view {args.store} --out {info['out']} --overwrite --serve)")
    if args.serve:
        try:
            server = start_server(info["out"], args.port)
        except OSError as err:
            from interp.errors import InputError

            raise InputError(f"cannot serve on 127.0.0.1:{args.port} ({err.strerror}): choose another --port") from None
        print(f"serving on http://127.0.0.1:{server.server_address[1]}/index.html  (Ctrl-C stops)", flush=True)
        import threading

        try:
            threading.Event().wait()  # the server runs in its own thread; Ctrl-C ends this wait
        finally:
            server.shutdown()
    return 0
