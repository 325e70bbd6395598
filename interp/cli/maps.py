"""``cos maps``: token maps of one traced sample (norms, PCA colours, energy curves).

Example::

    cos maps trace.h5 --sample maze5_s0-seed0 --layers 0,3,7 --out outputs/maps

Writes ``norm_layer{L}.png`` and ``pca_layer{L}.png`` (rows steps, columns frames; one PCA per
layer fitted over all steps), ``layer_frame_step{S}.png``, ``energy.png``, ``norm_vs_step.png``
and ``maps.json``.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("maps", help="token maps of one traced sample: norms, PCA colours, energy")
    parser.add_argument("trace", help="trace store (*.h5) written by `cos trace`")
    parser.add_argument("--sample", help="sample id (default: the first in the store)")
    parser.add_argument("--layers", help="layers, e.g. 0,3,5-7 (default: all captured)")
    parser.add_argument("--steps", help="steps, e.g. 0-4,19 (default: all captured)")
    parser.add_argument("--grid-steps", help="steps that get a layer x frame grid (default: first, middle, last)")
    parser.add_argument("--branch", help="guidance branch (default: the site's first)")
    parser.add_argument("--site", default="blocks.{layer}.resid_post", help="site template with {layer}")
    parser.add_argument("--norm-scale", default="layer", choices=["layer", "step"],
                        help="colour scale of the norm maps: one per layer (steps compare) or one per step "
                             "(late steps with small norms stay visible) (default: layer)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.capture.spec import parse_int_list
    from interp.errors import InputError
    from interp.outputs import claim_folder
    from interp.store import TraceStore
    from interp.viz.maps import OUTPUTS, sample_maps

    layers = None if args.layers is None else list(parse_int_list(args.layers, "layer"))
    steps = None if args.steps is None else list(parse_int_list(args.steps, "step"))
    grid_steps = None if args.grid_steps is None else list(parse_int_list(args.grid_steps, "step"))
    out = claim_folder(args.out, OUTPUTS, overwrite=args.overwrite)
    with TraceStore.open(args.trace) as store:
        ids = store.sample_ids()
        if not ids:
            raise InputError(f"{args.trace} holds no completed sample")
        sample = args.sample or ids[0]
        paths = sample_maps(store, sample, out, layers=layers, steps=steps, branch=args.branch,
                            site_template=args.site, grid_steps=grid_steps, norm_scale=args.norm_scale)
    print(f"{out}: {len(paths)} files for sample {sample}")
    return 0
