"""``cos organism``: train, evaluate and inspect the bundled maze organism.

Examples::

    cos organism info
    cos organism train --run-dir outputs/organism_run --steps 10000 --stop-step 9663 --seed 0
    cos organism eval --sizes 5 7 9 --count 50 --steps 20 50 --out outputs/organism_eval
    cos organism cos-curve --sizes 7 --count 100 --out outputs/organism_cos
"""

from __future__ import annotations

import json
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("organism", help="train, evaluate and inspect the maze organism")
    sub = parser.add_subparsers(dest="organism_command", metavar="ACTION", required=True)

    info = sub.add_parser("info", help="print the organism's config and size")
    info.add_argument("--model", default=None, help="organism folder (default: the shipped one)")
    info.set_defaults(func=_info)

    train = sub.add_parser("train", help="train (or resume) with flow matching; one GPU")
    train.add_argument("--run-dir", required=True, help="run folder: config, state, log, loss.png, organism/")
    train.add_argument("--config", default=None, help="train_config.json to start from (default: the shipped recipe)")
    train.add_argument("--steps", type=int, default=None, help="total optimizer steps")
    train.add_argument("--seed", type=int, default=None, help="run seed (weights, data stream, noise)")
    train.add_argument("--sizes", type=int, nargs="+", default=None, help="maze sizes in the mixture")
    train.add_argument("--size-weights", type=float, nargs="+", default=None, help="mixture weights, one per size")
    train.add_argument("--compile", choices=("blocks", "full", "none"), default=None, help="torch.compile mode")
    train.add_argument("--workers", type=int, default=None, help="data worker processes")
    train.add_argument("--time-limit", type=float, default=None, help="stop and save after this many seconds")
    train.add_argument("--stop-step", type=int, default=None,
                       help="stop after this step, keeping the schedule of --steps")
    train.add_argument("--resume-from", default=None, help="a state/ folder to continue from")
    train.add_argument("--device", default=None, help="torch device (default: cuda if present)")
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("eval", help="exact-solve accuracy on held-out mazes")
    evaluate.add_argument("--model", default=None, help="organism folder (default: the shipped one)")
    evaluate.add_argument("--sizes", type=int, nargs="+", default=[5, 7], help="maze sizes (4..12)")
    evaluate.add_argument("--count", type=int, default=5,
                          help="held-out mazes per size (the default suits 2 CPU cores; use hundreds on a GPU)")
    evaluate.add_argument("--first-seed", type=int, default=0, help="first held-out generator seed")
    evaluate.add_argument("--steps", type=int, nargs="+", default=[20, 50], help="denoising step counts")
    evaluate.add_argument("--sample-seed", type=int, default=0, help="noise seed")
    evaluate.add_argument("--batch", type=int, default=64, help="mazes per sampling batch")
    evaluate.add_argument("--device", default="cpu", help="torch device")
    evaluate.add_argument("--out", required=True, help="folder for eval.json and eval.md")
    evaluate.add_argument("--overwrite", action="store_true", help="replace eval.json and eval.md already in --out")
    evaluate.set_defaults(func=_eval)

    curve = sub.add_parser("cos-curve", help="Chain-of-Steps curve: route colour off the final route, per step")
    curve.add_argument("--model", default=None, help="organism folder (default: the shipped one)")
    curve.add_argument("--sizes", type=int, nargs="+", default=[7], help="maze sizes (4..12)")
    curve.add_argument("--count", type=int, default=50, help="held-out mazes per size with several routes")
    curve.add_argument("--steps", type=int, default=20, help="denoising steps")
    curve.add_argument("--sample-seed", type=int, default=0, help="noise seed")
    curve.add_argument("--batch", type=int, default=64, help="mazes per sampling batch")
    curve.add_argument("--device", default="cpu", help="torch device")
    curve.add_argument("--out", required=True, help="folder for cos_curve.json and cos_curve.png")
    curve.add_argument("--overwrite", action="store_true", help="replace the files of an earlier run in --out")
    curve.add_argument("--replot", action="store_true",
                       help="only redraw cos_curve.png from the cos_curve.json already in --out")
    curve.set_defaults(func=_cos_curve)


def _info(args) -> int:
    from interp.models.loading import load_organism
    from interp.organism import DEFAULT_ORGANISM

    org = load_organism(args.model or DEFAULT_ORGANISM)
    n = sum(p.numel() for p in org.parameters())
    print(json.dumps({"parameters": n, "organism": org.config.to_dict(),
                      "transformer": dict(org.transformer.config)}, indent=2, default=str))
    return 0


def _train(args) -> int:
    from interp.errors import InputError
    from interp.organism.train import TrainConfig, train

    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise InputError(f"training config {path} does not exist")
        from interp.validate import read_json

        cfg = TrainConfig.from_dict(read_json(path, "training config"))
    else:
        cfg = TrainConfig()
    overrides = {"total_steps": args.steps, "seed": args.seed, "sizes": args.sizes,
                 "size_weights": args.size_weights, "compile": args.compile, "workers": args.workers}
    for key, value in overrides.items():
        if value is not None:
            setattr(cfg, key, value)
    if args.sizes is not None and args.size_weights is None:
        cfg.size_weights = [1.0] * len(args.sizes)
    if args.resume_from and not (Path(args.resume_from) / "ema.safetensors").exists():
        raise InputError(f"--resume-from {args.resume_from} holds no ema.safetensors")
    cfg.validate()
    summary = train(cfg, args.run_dir, time_limit_s=args.time_limit, stop_step=args.stop_step,
                    resume_from=args.resume_from, device=args.device)
    print(json.dumps(summary))
    return 0


def _eval(args) -> int:
    from interp.cli.options import check_device
    from interp.errors import check_seed
    from interp.organism.evaluate import evaluate, write_table
    from interp.outputs import claim_folder

    check_seed(args.first_seed, "--first-seed")
    check_seed(args.sample_seed, "--sample-seed")
    check_device(args.device)
    claim_folder(args.out, ("eval.json", "eval.md"), overwrite=args.overwrite)
    result = evaluate(args.model, sizes=args.sizes, count=args.count, first_seed=args.first_seed,
                      step_counts=args.steps, sample_seed=args.sample_seed, batch=args.batch,
                      device=args.device, out=args.out)
    print(write_table(result, args.out))
    return 0


def _cos_curve(args) -> int:
    from interp.cli.options import check_device
    from interp.errors import check_seed
    from interp.organism.cos_curve import cos_curve, replot
    from interp.outputs import check_output_dir, claim_folder

    check_seed(args.sample_seed, "--sample-seed")
    check_device(args.device)
    # --replot redraws its own figure from the record in --out: replacing it is the point
    check_output_dir(args.out) if args.replot else claim_folder(args.out, ("cos_curve.json", "cos_curve.png"),
                                                                overwrite=args.overwrite)
    if args.replot:
        print(replot(args.out, args.model, args.device))
        return 0
    result = cos_curve(args.model, sizes=args.sizes, count=args.count, num_steps=args.steps,
                       sample_seed=args.sample_seed, batch=args.batch, device=args.device, out=args.out)
    print(json.dumps(result["summary"], indent=2))
    return 0
