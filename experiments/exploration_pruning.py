"""Observation 1: several candidate routes in early x0_hat, pruned to one by the middle steps.

With its averaging control: x0_hat is the posterior mean, so at each of the preset's steps it is
compared with the mean of final videos drawn from p(x0 | x_t) (ancestral sampler from the step's
x_t; at step 0 also independent seeds), on the first mazes of the same held-out set
(:mod:`interp.reproduce.averaging`). On the walker the answers are read as walks (route and walk,
:func:`interp.tasks.walk_score.scorer_for`), to the target of its default prompt.

    python experiments/exploration_pruning.py --preset cpu
    python experiments/exploration_pruning.py --preset gpu --model walker --sizes 5 7 --count 96 --avg-sizes 5 --avg-count 192
"""

import time

from interp.models import load_model
from interp.reproduce.averaging import averaging_figures, averaging_runs
from interp.reproduce.claims import FAINT, exploration_claim
from interp.experiment import finish, options, parse, replotted
from interp.reproduce.shared_samples import PRESETS, sample_options, samples_for, walker_prompt
from interp.tasks.maze_trajectories import heldout

NAME = "exploration_pruning"

if __name__ == "__main__":
    started = time.perf_counter()
    parser = sample_options(options(NAME, __doc__.splitlines()[0], PRESETS), "sizes", "count", "batch", "avg_sizes",
                            "avg_count", "avg_draws", "avg_steps")
    args = parse(parser, PRESETS)
    if replotted(args):
        raise SystemExit(0)
    s = args.settings
    model = load_model(args.model, device=args.device)
    num_steps = model.organism.config.num_inference_steps
    samples = samples_for(args, model)
    runs = averaging_runs(model, heldout(s["avg_sizes"], s["avg_count"], multi_route=True), steps=s["avg_steps"],
                          draws=s["avg_draws"], num_steps=num_steps, threshold=FAINT, batch=s["batch"] * 8)
    record = exploration_claim(samples, args.out, averaging=averaging_figures(runs), num_steps=num_steps)
    record.setdefault("extra", {})["averaging_settings"] = {k: s[k] for k in s if k.startswith("avg_")}
    record["settings"] = walker_prompt(model)
    finish(NAME, args, started, record)
