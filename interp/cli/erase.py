"""``cos erase``: erase a region of the clean estimate x0_hat at a step and let any model continue.

Examples::

    cos erase --model /models/Wan2.2-T2V-A14B-Diffusers --prompts prompts.json --steps 5,10 --region frame:3 --out erase
    cos erase --model tiny-wan22 --prompt-pairs pairs.json --num-steps 4 --steps 1,2 --region all,frame:1 --out erase
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from interp.cli.arms import add_common

    parser = subparsers.add_parser("erase", help="erase a region of x0_hat at a step, on any model's inputs")
    add_common(parser, default_steps="1")
    parser.add_argument("--region", default="frame:0",
                        help="comma list of latent regions: all, frame:K, none (a control that changes nothing)")
    parser.add_argument("--fill", type=float, default=0.0, help="the latent value the erased region takes in x0_hat")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.causal.input_arms import erase_arms
    from interp.cli.arms import run_study
    from interp.errors import check_finite

    check_finite("--fill", args.fill, -1e6, 1e6)
    regions = [r.strip() for r in args.region.split(",") if r.strip()]
    return run_study(args, "erase", lambda model, runs, steps: erase_arms(
        model, runs, steps=steps, regions=regions, fill=args.fill), sites=["x0"])
