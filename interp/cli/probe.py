"""``cos probe``: linear probes per (layer, step, branch) from a trace store, with a report.

Examples::

    cos probe trace.h5 --targets wall route dead_end distance final_output --out outputs/probes
    cos probe trace.h5 --targets wall route --control random.h5 --layers 0-3 --steps 0,10,19 --out outputs/p

Writes ``probes.csv`` / ``probes.json`` (one row per branch, layer, step and target: held-out
score with a bootstrap interval over test mazes, shuffled-label control, selectivity) and the
localisation report (``report.md``, ``localisation.json``, ``heatmaps.png``, ``profiles.png``).
"""

from __future__ import annotations

import argparse

# every target of probes.targets, spelled out so that `cos --help` does not import torch
DEFAULT_TARGETS = ("wall", "start", "goal", "open_sides", "route", "dead_end", "distance", "route_chosen",
                   "final_output")


def register(subparsers) -> None:
    parser = subparsers.add_parser("probe", help="linear probes per layer x step from a trace store, with a report")
    parser.add_argument("trace", help="trace store (*.h5) written by `cos trace`")
    parser.add_argument("--targets", nargs="+", default=list(DEFAULT_TARGETS),
                        help=f"targets to probe (default: all of {', '.join(DEFAULT_TARGETS)})")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    parser.add_argument("--control", help="trace of a randomly initialised model of the same architecture, "
                                          "traced the same way: selectivity = score - its score")
    parser.add_argument("--layers", help="layers, e.g. 0-3,7 (default: all captured)")
    parser.add_argument("--steps", help="steps, e.g. 0,5,10-19 (default: all captured)")
    parser.add_argument("--branch", nargs="+", help="guidance branches (default: all the store has)")
    parser.add_argument("--site", default="blocks.{layer}.resid_post", help="site template with {layer}")
    parser.add_argument("--frames", help="probe only tokens of these frames, e.g. 0 or 1-3 (default: all)")
    parser.add_argument("--C", type=float, default=0.1, help="inverse L2 strength of the logistic probes")
    parser.add_argument("--alpha", type=float, default=10.0, help="L2 strength of the ridge probe")
    parser.add_argument("--max-iter", type=int, default=15,
                        help="L-BFGS iterations at most per block (warm-started across steps)")
    parser.add_argument("--tol", type=float, default=1e-4, help="L-BFGS gradient tolerance")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="precision of the solver's matrix products (float64: about twice as slow)")
    parser.add_argument("--test-fraction", type=float, default=0.25, help="share of mazes held out")
    parser.add_argument("--shuffle", default="token", choices=["token", "maze", "none"],
                        help="shuffled-label control (default: token)")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap replicates over test mazes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, control and bootstrap")
    parser.add_argument("--band-frac", type=float, default=0.9, help="band = layers within this share of the best")
    parser.add_argument("--num-layers", type=int, default=None,
                        help="the model's number of blocks, for relative depth (default: deepest block in the trace + 1)")
    parser.add_argument("--min-test-mazes", type=int, default=5,
                        help="fewer held-out mazes than this: warn and call no target decodable (default: 5)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.capture.spec import parse_int_list
    from interp.cli.options import check_device
    from interp.errors import check_range, check_seed
    from interp.outputs import claim_folder
    from probes.report import OUTPUTS as REPORT_OUTPUTS, n_label
    from probes.study import probe_store
    from probes.sweep import OUTPUTS as TABLE_OUTPUTS, SweepSettings
    from probes.targets import check_targets

    # validate everything before reading activations or writing anything
    check_targets(args.targets)
    if args.threads is not None:
        check_range("--threads", args.threads, 1, 1024)
    check_range("--band-frac", args.band_frac, 0.0, 1.0)
    check_range("--min-test-mazes", args.min_test_mazes, 1, 100_000)
    if args.num_layers is not None:
        check_range("--num-layers", args.num_layers, 1, 10_000)
    layers = None if args.layers is None else parse_int_list(args.layers, "layer")
    steps = None if args.steps is None else parse_int_list(args.steps, "step")
    frames = None if args.frames is None else list(parse_int_list(args.frames, "frame"))
    settings = SweepSettings(C=args.C, alpha=args.alpha, test_fraction=args.test_fraction, seed=args.seed,
                             n_boot=args.n_boot, shuffle=None if args.shuffle == "none" else args.shuffle,
                             frames=frames, device=args.device, site_template=args.site,
                             max_iter=args.max_iter, tol=args.tol, dtype=args.dtype)
    settings.validate()
    out = claim_folder(args.out, TABLE_OUTPUTS + REPORT_OUTPUTS, overwrite=args.overwrite)
    check_seed(args.seed, "--seed")
    check_device(args.device, allow_auto=True)
    done = probe_store(args.trace, out, targets=args.targets, control=args.control, settings=settings, layers=layers,
                       steps=steps, branches=args.branch, band_frac=args.band_frac, num_layers=args.num_layers,
                       min_test_mazes=args.min_test_mazes, threads=args.threads, source=f"cos probe {args.trace}")
    print(f"{out}: {len(done['rows'])} probes in {done['seconds']:.1f} s ({n_label(done['counts'])}); "
          f"report {done['paths']['markdown']}")
    return 0
