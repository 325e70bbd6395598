"""Observation 3 over frames, on the walker: is the walk kept when the maze leaves the view from a step on?

The rule, controls and n are the registry's (experiments/claims.toml, claim `working_memory_frames`);
the measurement is interp.reproduce.walker_claims, the command line interp.experiment.walker.

    python experiments/working_memory_frames.py --preset cpu     # -> experiments/results/walker/cpu/working_memory_frames/
    python experiments/working_memory_frames.py --preset gpu     # -> experiments/results/walker/working_memory_frames/
"""

from interp.experiment.walker import main
from interp.results import script_main

if __name__ == "__main__":
    raise SystemExit(script_main(lambda argv: main("working_memory_frames", argv)))
