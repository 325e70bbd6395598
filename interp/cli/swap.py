"""``cos swap``: replace one layer's block site at one step by a partner run's, on any model's inputs.

The partner is each pair's corrupted run (``--prompt-pairs`` / ``--image-pairs``), or for a prompt
list the next prompt's run; ``--partner self`` swaps in the run's own values (a control: nothing
changes).

Examples::

    cos swap --model /models/Wan2.2-T2V-A14B-Diffusers --prompt-pairs pairs.json --layers 0,20,39 --steps 0,5 --out swap
    cos swap --model tiny-ltx --prompts prompts.json --layers 0,1 --steps 0 --num-steps 2 --out swap
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from interp.cli.arms import add_common

    parser = subparsers.add_parser("swap", help="swap one layer's activations with a partner run's, on any model's inputs")
    add_common(parser, default_steps="0")
    parser.add_argument("--layers", default=None, help="layers to swap, e.g. 0-11 (default: all)")
    parser.add_argument("--site", default="resid_post", help="block site kind swapped")
    parser.add_argument("--partner", default=None, choices=("pair", "next", "self"),
                        help="whose values: the pair's corrupted run, the next input's, or its own "
                             "(default: pair for pairs, next for a prompt list)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.causal.input_arms import swap_arms
    from interp.cli.arms import run_study
    from interp.cli.options import parse_ints
    from interp.cli.pair_inputs import wants_pairs
    from interp.errors import InputError
    from interp.sites import Site

    partner = args.partner or ("pair" if wants_pairs(args) else "next")

    def layers_of(model) -> list[int]:
        layers = list(range(model.num_layers)) if args.layers is None else list(parse_ints(args.layers, "layer", 0, 10_000))
        if args.site not in model.spec.site_kinds:
            raise InputError(f"--site {args.site}: {model.spec.family} models have {', '.join(model.spec.site_kinds)}")
        for layer in layers:
            Site(args.site, layer).check(model.num_layers)
        args.layer_list = layers
        return [f"blocks.{k}.{args.site}" for k in layers]

    return run_study(args, "swap", lambda model, runs, steps: swap_arms(
        runs, layers=args.layer_list, steps=steps, site=args.site, partner=partner),
        # the partner's values come from the corrupted run (pairs) or from the clean run itself
        sites=lambda model: [] if partner == "pair" else layers_of(model),
        other_sites=lambda model: layers_of(model) if partner == "pair" else [], partner=partner)
