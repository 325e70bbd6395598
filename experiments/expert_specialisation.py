"""The walker's two experts: does the high-noise one plan the route and the low-noise one render it?

The rule, controls and n are the registry's (experiments/claims.toml, claim `expert_specialisation`);
the measurement is interp.reproduce.walker_claims, the command line interp.experiment.walker.

    python experiments/expert_specialisation.py --preset cpu     # -> experiments/results/walker/cpu/expert_specialisation/
    python experiments/expert_specialisation.py --preset gpu     # -> experiments/results/walker/expert_specialisation/
"""

from interp.experiment.walker import main
from interp.results import script_main

if __name__ == "__main__":
    raise SystemExit(script_main(lambda argv: main("expert_specialisation", argv)))
