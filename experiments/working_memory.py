"""Observation 3: working memory, the maze scaffold (walls, start, goal) stays right across steps.

    python experiments/working_memory.py --preset cpu
"""

import time

from interp.models import load_model
from interp.reproduce.claims import memory_claim
from interp.reproduce.runner import finish, parse, samples_for

NAME = "working_memory"

if __name__ == "__main__":
    started = time.perf_counter()
    args = parse(NAME, __doc__.splitlines()[0])
    model = load_model("organism", device=args.device)
    finish(NAME, args, started, memory_claim(samples_for(args, model)[0.5], args.out))
