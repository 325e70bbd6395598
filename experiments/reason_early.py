""""Video Models Reason Early": commitment steps, and whether redrawing the noise after step k changes the answer.

On the walker the answers are read as walks (route and walk, :func:`interp.tasks.walk_score.scorer_for`),
to the target of its default prompt.

    python experiments/reason_early.py --preset cpu
    python experiments/reason_early.py --preset gpu --model walker --sizes 5 7 --count 96 --renoise-sizes 5 7 --renoise-count 200
"""

import time

from interp.models import load_model
from interp.reproduce.claims import reason_early_claim
from interp.reproduce.renoise import renoise_runs
from interp.experiment import finish, options, parse, replotted
from interp.reproduce.shared_samples import PRESETS, sample_options, samples_for, walker_prompt
from interp.tasks.maze_trajectories import heldout

NAME = "reason_early"

if __name__ == "__main__":
    started = time.perf_counter()
    parser = sample_options(options(NAME, __doc__.splitlines()[0], PRESETS), "sizes", "count", "batch",
                            "renoise_sizes", "renoise_count", "ks")
    args = parse(parser, PRESETS)
    if replotted(args):
        raise SystemExit(0)
    s = args.settings
    model = load_model(args.model, device=args.device)
    num_steps = model.organism.config.num_inference_steps
    mazes = heldout(s["renoise_sizes"], s["renoise_count"], multi_route=True)
    redrawn = renoise_runs(model, mazes, s["ks"], num_steps=num_steps, batch=s["batch"])
    record = reason_early_claim(samples_for(args, model)[0.5], redrawn, args.out, num_steps=num_steps)
    record["settings"] = {**record.get("settings", {}), **walker_prompt(model)}
    finish(NAME, args, started, record)
