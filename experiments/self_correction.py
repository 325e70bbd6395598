"""Observation 4: self-correction, an early wrong route revised to the right one (rate per step and size).

    python experiments/self_correction.py --preset cpu
"""

import time

from interp.models import load_model
from interp.reproduce.claims import self_correction_claim
from interp.reproduce.runner import finish, parse, samples_for

NAME = "self_correction"

if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(NAME, __doc__.splitlines()[0])
    model = load_model("organism", device=args.device)
    finish(NAME, args, started, self_correction_claim(samples_for(args, model)[0.5], args.out))
