"""Observation 5 over frames, on the walker: are the walls held from an earlier step than the walk?

The rule, controls and n are the registry's (experiments/claims.toml, claim `perception_action_frames`);
the measurement is interp.reproduce.walker_claims, the command line interp.experiment.walker.

    python experiments/perception_action_frames.py --preset cpu     # -> experiments/results/walker/cpu/perception_action_frames/
    python experiments/perception_action_frames.py --preset gpu     # -> experiments/results/walker/perception_action_frames/
"""

from interp.experiment.walker import main
from interp.results import script_main

if __name__ == "__main__":
    raise SystemExit(script_main(lambda argv: main("perception_action_frames", argv)))
