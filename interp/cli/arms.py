"""What ``cos noise``, ``cos erase`` and ``cos swap`` share: a model folder, its inputs, one study.

Each command builds its arms (:mod:`interp.causal.input_arms`) on the clean runs of the inputs
the options give (a prompt, a prompt list, prompt pairs or first-frame image pairs) and writes
``result.json`` and ``arms.png`` into ``--out``.
"""

from __future__ import annotations


def add_common(parser, *, default_steps: str | None) -> None:
    from interp.cli.pair_inputs import add_pair_options

    parser.add_argument("--model", required=True, help="a local diffusers folder (model_index.json) or 'organism'")
    parser.add_argument("--num-steps", type=int, default=20, help="denoising steps")
    parser.add_argument("--steps", default=default_steps, help="steps the edits act at, e.g. 0,5,10"
                        + (" (default: none)" if default_steps is None else ""))
    parser.add_argument("--noise-seed", type=int, default=0, help="input i runs with noise seed noise_seed + i")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="weight dtype")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --out")
    add_pair_options(parser, singles=True)


def run_study(args, experiment: str, build, *, sites=(), other_sites=(), partner=None) -> int:
    """Load the model, run the inputs' clean runs, the arms ``build(model, runs, steps)`` makes, and save."""
    import datetime
    import platform

    import torch

    from interp.causal.input_arms import OUTPUTS, clean_runs, run_arms, save_study
    from interp.cli.options import check_device, check_num_steps, parse_ints
    from interp.cli.pair_inputs import task_from_args, wants_inputs
    from interp.errors import InputError
    from interp.models import load_model
    from interp.models.capabilities import check_command
    from interp.outputs import claim_folder

    if not wants_inputs(args):
        raise InputError(f"cos {experiment} needs inputs: --prompt, --prompts FILE, --prompt-pairs FILE or "
                         "--image-pairs FILE (the maze experiments are experiments/*.py)")
    check_num_steps(args.num_steps)
    check_device(args.device)
    task = task_from_args(args)
    out = claim_folder(args.out, OUTPUTS, overwrite=args.overwrite)
    steps = [] if args.steps is None else list(parse_ints(args.steps, "step", 0, args.num_steps - 1))
    model = load_model(args.model, device=args.device, dtype=getattr(torch, args.dtype))
    check_command(model, experiment)
    wanted = sites(model) if callable(sites) else sites
    runs = clean_runs(model, task, num_steps=args.num_steps, steps=steps, sites=wanted,
                      other_sites=other_sites(model) if callable(other_sites) else other_sites,
                      noise_seed=args.noise_seed)
    arms = build(model, runs, steps)
    record = dict(command=args.command_line, date=datetime.date.today().isoformat(), machine=platform.node(),
                  device=args.device, dtype=args.dtype, family=model.spec.family)
    summary = save_study(out, run_arms(model, runs, arms, experiment, partner=partner, record=record))
    # the first metric with a value: a swap with the run itself has no preference, only distances
    metric = next((m for m, v in summary["clean"].items() if v["value"] is not None), next(iter(summary["clean"])))
    shown = ", ".join(f"{a['name']} {a[metric]['value']}" for a in summary["arms"][:6])
    print(f"{out}: {len(arms)} arms x {summary['n_inputs']} inputs on {model.spec.family} in "
          f"{summary['meta']['seconds']:.1f} s; {metric}: {shown}{' ...' if len(arms) > 6 else ''}")
    return 0
