""""Video Models Reason Early": commitment steps, and whether redrawing the noise after step k changes the answer.

    python experiments/reason_early.py --preset cpu
"""

import time

from interp.models import load_model
from interp.reproduce.claims import reason_early_claim
from interp.reproduce.renoise import renoise_runs
from interp.experiment import finish, options, parse, replotted
from interp.reproduce.shared_samples import PRESETS, samples_for
from interp.tasks.maze_trajectories import heldout

NAME = "reason_early"

if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(options(NAME, __doc__.splitlines()[0], PRESETS), PRESETS)
    if replotted(args):
        raise SystemExit(0)
    s = args.settings
    model = load_model(args.model, device=args.device)
    num_steps = model.organism.config.num_inference_steps
    mazes = heldout(s["renoise_sizes"], s["renoise_count"], multi_route=True)
    redrawn = renoise_runs(model, mazes, s["ks"], num_steps=num_steps, batch=s["batch"])
    record = reason_early_claim(samples_for(args, model)[0.5], redrawn, args.out, num_steps=num_steps)
    finish(NAME, args, started, record)
