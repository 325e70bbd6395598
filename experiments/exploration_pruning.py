"""Observation 1: several candidate routes in early x0_hat, pruned to one by the middle steps.

    python experiments/exploration_pruning.py --preset cpu
"""

import time

from interp.models import load_model
from interp.reproduce.claims import exploration_claim
from interp.reproduce.runner import finish, parse, samples_for

NAME = "exploration_pruning"

if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(NAME, __doc__.splitlines()[0])
    model = load_model("organism", device=args.device)
    finish(NAME, args, started, exploration_claim(samples_for(args, model), args.out))
