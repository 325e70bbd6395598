"""Layer swap: replace one block's visual tokens with another maze's, at the first or a later step.

For each block k, at step ``0`` and at ``--later-step``, ``blocks.k.resid_post`` (every token:
Wan's hidden states hold visual tokens only) of a run on maze i is replaced by the same site of the
clean run on partner maze j (same size, another route) with :func:`interp.causal.swap.swap_at`;
the run then continues. The final answer **follows the other maze** when its painted units equal
one of the partner's shortest routes (start and goal aside), **keeps its own** when they equal one
of its own, and **breaks** otherwise.

Example::

    python experiments/layer_swap.py --preset cpu
    python experiments/layer_swap.py --preset gpu --device cuda
"""

from __future__ import annotations

import sys

PRESETS = {
    "cpu": dict(size=5, count=3, layers=[0, 5, 11], later_step=6, batch=64, device="cpu", dtype="float32"),
    "gpu": dict(size=7, count=300, layers=None, later_step=6, batch=1536, device="cuda", dtype="bfloat16"),
}
CLAIM = ("Replacing one layer's visual tokens with those of an alternative input at the first step flips the "
         "answer for a middle layer (about layer 20 of 40).")


def add_options(p):
    from interp.causal.maze_runs import maze_options

    maze_options(p, first_seed=40_000)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--count", type=int, default=None)
    p.add_argument("--layers", type=int, nargs="+", default=None, help="blocks to swap (default all)")
    p.add_argument("--later-step", type=int, default=None, help="the later step swapped besides step 0")
    p.add_argument("--site", default="resid_post", help="block site swapped: resid_post (the whole hidden state), "
                   "attn1.out, attn2.out or ffn.out")
    p.add_argument("--every-step", action="store_true",
                   help="swap at every step from the chosen step on (default: at that one step only)")


def validate(args, model):
    from interp.errors import InputError, check_range

    check_range("--num-steps", args.num_steps, 1, 1000)
    check_range("--count", args.count, 2, 100_000)
    if not 0 <= args.later_step < args.num_steps:
        raise InputError(f"--later-step {args.later_step} is outside the schedule: choose 0..{args.num_steps - 1}")
    args.layers = list(range(model.num_layers)) if args.layers is None else args.layers
    for k in args.layers:
        check_range("layer", k, 0, model.num_layers - 1)
    from interp.sites import BLOCK_KINDS

    if args.site not in BLOCK_KINDS:
        raise InputError(f"unknown block site {args.site!r}: valid are {', '.join(BLOCK_KINDS)}")


def swap_runs(model, args):
    from interp.tasks import maze_answers as M
    from interp.causal.maze_runs import chunks, clean_run, loop_value, maze_inputs, to_frames
    from interp.causal.swap import partners, swap_at
    from interp.tasks.maze_answers import swap_outcome
    from interp.causal.verdicts import SWAP_OUTCOMES
    from interp.interventions import At, Collect, Intervention, run
    from interp.tasks.walk_score import scorer_for

    palette = model.organism.config.palette
    scorer = scorer_for(model)        # a walker's answers are read as walks (route and walk)
    steps = sorted({0, args.later_step})
    sites = [f"blocks.{k}.{args.site}" for k in args.layers]
    keys = SWAP_OUTCOMES + ("closer_other", "x0_other", "x0_own")
    flags = {(s, k): {o: [] for o in keys} for s in steps for k in args.layers}
    clean_flags = []
    mazes_all, inputs_all = maze_inputs(model, size=args.size, count=args.count, first_seed=args.first_seed)
    for chunk in chunks(args.count, args.batch):
        mazes = [mazes_all[i] for i in chunk]
        inputs = inputs_all.take(list(chunk))
        n = len(mazes)
        other = partners([frozenset(m.routes[0]) for m in mazes])
        cached = list(range(min(steps), args.num_steps)) if args.every_step else steps
        clean = clean_run(model, inputs, sites + ["x_t"], num_steps=args.num_steps, steps=cached)
        ref, _ = M.outcomes(clean.video, mazes, palette=palette, scorer=scorer)
        clean_flags += ref.exact.tolist()
        per_run = max(1, args.batch // n)
        for s in steps:
            for lo in range(0, len(args.layers), per_run):
                group = args.layers[lo:lo + per_run]
                order = [i for _ in group for i in range(n)]
                swap_steps = list(range(s, args.num_steps)) if args.every_step else s
                edits = [e for j, k in enumerate(group)
                         for e in swap_at(k, swap_steps, take=other, samples=list(range(j * n, (j + 1) * n)),
                                          site=args.site)]
                # the estimate x0_hat right at the swapped step: what the swap did before later steps repair it
                edits.append(Intervention(At("x0", steps=[s]), Collect()))
                x_t = loop_value(clean.cache, "x_t", s, inputs.latents)[order]
                out = run(model, inputs.take(order, latents=x_t), edits, num_steps=args.num_steps, start_step=s,
                          sources={"other": clean.cache}, progress=False)
                amounts = M.answer_amount(out.video, mazes[0].units, palette)
                x0 = loop_value(out.cache, "x0", s, x_t)
                x0_amounts = M.answer_amount(to_frames(model, x0), mazes[0].units, palette)
                for r, i in enumerate(order):
                    outcome = swap_outcome(amounts[r], x0_amounts[r], mazes[i], mazes[other[i]])
                    for key, value in outcome.items():
                        flags[(s, group[r // n])][key].append(value)
    return flags, clean_flags, steps


def figures(record, args, out):
    from interp.causal.plots import layer_swap_figure

    return [("layer_swap.png", lambda: layer_swap_figure(
        record["figures"], out / "layer_swap.png", size=args.size, layers=args.layers, steps=sorted({0, args.later_step}),
        num_steps=args.num_steps, site=args.site, every_step=args.every_step))]


def measure(args) -> dict:
    import torch

    from interp.causal.maze_runs import load
    from interp.causal.verdicts import swap_verdict
    from interp.stats import share

    torch.manual_seed(0)
    model = load(args.model, args.device, args.dtype)
    validate(args, model)
    flags, clean_flags, steps = swap_runs(model, args)
    table = {"clean/exact": share(clean_flags)}
    for (s, k), f in flags.items():
        for o, values in f.items():
            table[f"step{s}/layer{k}/{o}"] = share(values)
    _, why = swap_verdict(table, layers=args.layers, num_layers=model.num_layers)
    return {"figures": table, "reading": why, "device": model.device, "num_layers": model.num_layers}


def main(argv=None):
    from interp.experiment import Experiment

    return Experiment("layer_swap", CLAIM, PRESETS, measure, figures, options=add_options,
                      description=__doc__.split("\n")[0]).main(argv)


if __name__ == "__main__":
    from interp.results import script_main

    sys.exit(script_main(main))
