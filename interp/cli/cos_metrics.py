"""``cos cos-metrics``: Chain-of-Steps metrics of every sample of a trace store.

Reads the stored x0_hat of every step (site ``x0``, captured with ``tokens=all``), turns it into
frames, decodes each step's video with the scorer's decoder against the sample's maze (from the
task metadata the store recorded) and writes ``metrics.json`` (per sample, overall and per maze
size) and ``cos_metrics.png``::

    cos cos-metrics trace.h5 --out outputs/cos_metrics

Pixel-space models (the organism: 3 channels in [-1, 1]) need no decoder; latent models are
decoded with ``--model`` (the model that wrote the store). A store whose samples record no maze
(``cos trace --model FOLDER --prompt ...``) gets the metrics of any model instead: each step's
x0_hat distance to the last stored step's (:mod:`interp.causal.input_steps`).

On any model's folder, with inputs instead of a store, the command runs them and measures how each
step's x0_hat approaches the final latents (and, for pairs, the partner's)::

    cos cos-metrics --model /models/Wan2.2-T2V-A14B-Diffusers --prompt-pairs pairs.json --num-steps 40 --out m
"""

from __future__ import annotations

import argparse


OUTPUTS = ("metrics.json", "cos_metrics.png")
COMMAND = "cos-metrics"  # the module's name with a hyphen, as SUBCOMMANDS spells it


def register(subparsers) -> None:
    parser = subparsers.add_parser(COMMAND, help="Chain-of-Steps metrics per step from a trace store's x0_hat")
    parser.add_argument("trace", nargs="?", default=None,
                        help="trace store holding the x0 site (tokens=all); or give --model and inputs")
    parser.add_argument("--out", required=True, help="folder for metrics.json and cos_metrics.png")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="route colour amount (0 floor .. 1 path colour) from which a unit counts as painted")
    parser.add_argument("--samples", default=None, help="comma-separated sample ids (default: all)")
    parser.add_argument("--model", default=None,
                        help="model that wrote the store, to decode latent x0_hat (not needed for pixel-space models)")
    parser.add_argument("--device", default="cpu", help="torch device for --model")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    parser.add_argument("--num-steps", type=int, default=20, help="denoising steps (with inputs)")
    parser.add_argument("--noise-seed", type=int, default=0, help="input i runs with noise seed noise_seed + i")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="weight dtype (with inputs)")
    parser.add_argument("--tolerance", type=float, default=0.1,
                        help="without a maze: x0_hat has committed once its distance to the final latents stays "
                             "at or below this share of step 0's")
    from interp.cli.pair_inputs import add_pair_options

    add_pair_options(parser, singles=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from interp.errors import check_finite
    from interp.metrics.cos_aggregate import aggregate, aggregate_by_size
    from interp.metrics.cos_figure import plot_cos_metrics
    from interp.outputs import claim_folder, write_json

    from interp.cli.pair_inputs import wants_inputs
    from interp.errors import InputError

    check_finite("--threshold", args.threshold, 0.0, 1.0, low_open=True)
    check_finite("--tolerance", args.tolerance, 0.0, 1.0)
    if wants_inputs(args):
        if args.trace:
            raise InputError("give a trace store or inputs (--prompt, --prompts, --prompt-pairs, --image-pairs), not both")
        return run_inputs(args, claim_folder(args.out, OUTPUTS, overwrite=args.overwrite))
    if not args.trace:
        raise InputError("give a trace store, or --model with inputs (--prompt, --prompts, --prompt-pairs, --image-pairs)")
    out = claim_folder(args.out, OUTPUTS, overwrite=args.overwrite)
    generic = generic_samples(args)
    if generic is not None:
        return _write_generic(out, generic)
    by_id = read_samples(args)
    samples = list(by_id.values())
    by_size = aggregate_by_size(samples)
    result = {
        "trace": str(args.trace),
        "threshold": args.threshold,
        "aggregate": aggregate(samples),
        "by_size": {str(size): r for size, r in by_size.items()},
        "samples": {sid: s.to_dict() for sid, s in by_id.items()},
    }
    write_json(out / "metrics.json", result, indent=1)
    plot_cos_metrics({f"{size}x{size}": r for size, r in by_size.items()}, out / "cos_metrics.png",
                     threshold=args.threshold)
    print(f"wrote {out / 'metrics.json'} and {out / 'cos_metrics.png'} ({len(samples)} samples)")
    return 0


def run_inputs(args, out) -> int:
    """Chain-of-Steps metrics of any model's inputs, run here (:func:`interp.causal.input_steps.step_metrics`)."""
    import torch

    from interp.causal.input_steps import step_metrics
    from interp.cli.options import check_device, check_num_steps
    from interp.cli.pair_inputs import task_from_args
    from interp.errors import InputError
    from interp.models import load_model
    from interp.models.capabilities import check_command

    if not args.model:
        raise InputError("inputs need --model: the diffusers folder to run them on")
    check_num_steps(args.num_steps)
    check_device(args.device)
    task = task_from_args(args)
    metric, task.user_metric = task.user_metric, None
    model = load_model(args.model, device=args.device, dtype=getattr(torch, args.dtype))
    check_command(model, "cos-metrics")
    record = step_metrics(model, task, num_steps=args.num_steps, noise_seed=args.noise_seed,
                          tolerance=args.tolerance, user_metric=metric)
    record.update(command=args.command_line, family=model.spec.family)
    return _write_generic(out, record)


def generic_samples(args) -> dict | None:
    """Any model's metrics of a store whose samples record no maze (``None`` when they do)."""
    import numpy as np

    from interp.causal.input_steps import _summary, convergence
    from interp.store import TraceStore
    from interp.viz.steps_grid import x0_from_store

    with TraceStore.open(args.trace) as store:
        ids = store.sample_ids()
        chosen = ids if not args.samples else [s.strip() for s in args.samples.split(",") if s.strip()]
        tasks = [store.meta(sid).get("task") for sid in chosen if sid in ids]
        if not chosen or any(isinstance(t, dict) and isinstance(t.get("maze"), dict) for t in tasks) \
                or len(tasks) != len(chosen):
            return None
        read = [x0_from_store(store, sid) for sid in chosen]
    steps = read[0][1]
    x0 = np.stack([latents for latents, _, _ in read], axis=1)           # [S, B, C, F, H, W]
    per_step = convergence(x0, x0[-1], tolerance=args.tolerance, steps=steps)
    per_input = {"commitment_step": per_step.pop("commitment_step")}
    return {"trace": str(args.trace), "samples": chosen, "steps": steps, "tolerance": args.tolerance,
            "reference": "the last stored step's x0_hat", "command": args.command_line,
            "per_step": {name: _summary(v) for name, v in per_step.items()}, "per_input": per_input}


def _write_generic(out, record: dict) -> int:
    from interp.causal.input_steps import plot_step_metrics
    from interp.outputs import write_json

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", record, indent=1)
    plot_step_metrics(record, out / "cos_metrics.png")
    committed = record["per_input"]["commitment_step"]
    print(f"wrote {out / 'metrics.json'} and {out / 'cos_metrics.png'} ({len(committed)} inputs; commitment steps "
          f"{committed} at tolerance {record['tolerance']})")
    return 0


def read_samples(args) -> dict:
    """:class:`~interp.metrics.cos.CosSample` of each selected sample of the store, by id."""
    from interp.errors import InputError
    from interp.metrics.cos import cos_metrics
    from interp.store import TraceStore
    from interp.tasks.maze import Maze
    from interp.viz.steps_grid import x0_from_store

    found = {}
    with TraceStore.open(args.trace) as store:
        ids = store.sample_ids()
        if not ids:
            raise InputError(f"{args.trace} holds no completed sample")
        chosen = ids if not args.samples else [s.strip() for s in args.samples.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in ids]
        if unknown:
            raise InputError(f"unknown samples {unknown}: valid are {', '.join(ids[:10])}")
        decoder = None
        for sid in chosen:
            task = store.meta(sid).get("task") or {}
            if not isinstance(task, dict) or not isinstance(task.get("maze"), dict):
                raise InputError(f"sample {sid!r} of {args.trace} records no maze in its task metadata: "
                                 "capture maze task folders written by cos tasks make")
            maze = Maze.from_dict(task["maze"])
            x0, steps, _ = x0_from_store(store, sid)           # [S, C, F, H, W]
            if decoder is None and (args.model or x0.shape[1] != 3):
                decoder = _decoder(args, store)
            frames = _frames(x0, decoder)
            found[sid] = cos_metrics(frames, maze, threshold=args.threshold,
                                     palette=str(task.get("palette", "default")), steps=steps)
    return found


def _frames(x0, decoder):
    """Stored x0_hat ``[S, C, F, H, W]`` -> uint8 ``[S, F, H, W, 3]``."""
    from interp.metrics.cos import model_space_to_uint8

    if decoder is not None:
        from interp.viz import decode_x0

        return decode_x0(decoder, x0)
    return model_space_to_uint8(x0.transpose(0, 2, 3, 4, 1))


def _decoder(args, store):
    from interp.errors import InputError
    from interp.models import load_model

    if not args.model:
        raise InputError(f"x0 in {args.trace} has latent channels: pass --model with the model that wrote it to decode them")
    model = load_model(args.model, device=args.device)
    if model.fingerprint() != store.attrs["fingerprint"]:
        raise InputError(f"--model {args.model!r} is not the model that wrote {args.trace} "
                         f"({store.attrs['model_name']}, fingerprint {store.attrs['fingerprint']})")
    return model
