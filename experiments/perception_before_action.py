"""Observation 5: perception before action, the scaffold is right before the route is.

    python experiments/perception_before_action.py --preset cpu
"""

import time

from interp.models import load_model
from interp.reproduce.claims import perception_action_claim
from interp.reproduce.runner import finish, parse, samples_for

NAME = "perception_before_action"

if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(NAME, __doc__.splitlines()[0])
    model = load_model("organism", device=args.device)
    finish(NAME, args, started, perception_action_claim(samples_for(args, model)[0.5], args.out))
