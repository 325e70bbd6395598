"""``cos noise``: Gaussian noise in the latents at a step or in a frame, on any model's inputs.

Examples::

    cos noise --model /models/Wan2.2-T2V-A14B-Diffusers --prompt-pairs pairs.json --steps 0,10,20 --std 0.5,1 --out noise
    cos noise --model tiny-wan22 --prompts prompts.json --noise-frames 0,1 --ratio 1 --num-steps 4 --out noise
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from interp.cli.arms import add_common

    parser = subparsers.add_parser("noise", help="noise in the latents at a step or a frame, on any model's inputs")
    add_common(parser, default_steps=None)
    parser.add_argument("--std", default="1", help="comma list of absolute noise standard deviations (latent units)")
    parser.add_argument("--ratio", default="", help="comma list of noise stds as multiples of the step's own sigma")
    parser.add_argument("--noise-frames", default="", help="latent frames noised at every step, e.g. 0,2")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.causal.input_arms import noise_arms_for
    from interp.cli.arms import run_study
    from interp.cli.options import parse_ints
    from interp.errors import InputError

    def numbers(text: str, option: str) -> list[float]:
        try:
            return [float(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise InputError(f"{option} {text!r} is not a comma list of numbers") from None

    strengths, ratios = numbers(args.std, "--std"), numbers(args.ratio, "--ratio")
    frames = list(parse_ints(args.noise_frames, "frame", 0, 10_000)) if args.noise_frames else []
    return run_study(args, "noise", lambda model, runs, steps: noise_arms_for(
        model, runs, strengths=strengths, steps=steps, frames=frames, ratios=ratios))
