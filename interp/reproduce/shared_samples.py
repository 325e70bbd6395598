"""The presets and shared samples of the claims read off Chain-of-Steps samples (run on :mod:`interp.experiment`).

Example::

    python -m interp.experiment working_memory --preset cpu     # -> experiments/results/cpu/working_memory/
"""

from __future__ import annotations

from interp.results import ROOT, model_name

# cpu: small enough for `make reproduce` on 2 shared cores; gpu: the published figures
PRESETS = {
    "cpu": {"sizes": [5, 7], "count": 12, "batch": 24, "device": "cpu",
            "renoise_sizes": [5], "renoise_count": 6, "ks": [-1, 1, 4, 8],
            "avg_sizes": [5], "avg_count": 4, "avg_draws": 4, "avg_steps": [0, 1, 4]},
    "gpu": {"sizes": [5, 7, 9], "count": 200, "batch": 600, "device": "cuda",
            "renoise_sizes": [5, 7, 9], "renoise_count": 200, "ks": [-1, 0, 1, 2, 3, 4, 6, 8, 12],
            "avg_sizes": [5, 7, 9], "avg_count": 64, "avg_draws": 8, "avg_steps": [0, 1, 2, 4]},
}
CACHE = ROOT / "outputs" / "cache"
#: preset settings a script may set from its command line (:func:`sample_options`): option help
SETTINGS = {"sizes": "maze sizes of the shared samples", "count": "shared samples: mazes per size",
            "batch": "mazes per model call", "renoise_sizes": "maze sizes of the noise redraws",
            "renoise_count": "noise redraws: mazes per size", "ks": "steps after which the noise is redrawn (-1: a new seed)",
            "avg_sizes": "maze sizes of the averaging control", "avg_count": "averaging control: mazes per size",
            "avg_draws": "averaging control: final videos drawn per step", "avg_steps": "averaging control: steps"}
LISTS = ("sizes", "renoise_sizes", "ks", "avg_sizes", "avg_steps")


def sample_options(parser, *keys: str):
    """Options that set preset ``keys`` (of :data:`SETTINGS`) for one run, e.g. ``--renoise-count 300``; a
    setting left unset keeps the preset's value (:func:`interp.experiment.parse`)."""
    for key in keys:
        parser.add_argument("--" + key.replace("_", "-"), type=int, nargs="+" if key in LISTS else None,
                            default=None, help=f"{SETTINGS[key]} (default: the preset's)")
    return parser


def walker_prompt(model) -> dict:
    """``{"prompt": ...}`` for a model that takes a task prompt (the walker: the prompt its runs and its
    scorer use, :func:`interp.tasks.walk_score.scorer_for`'s default), else ``{}``: what a record states."""
    from interp.tasks.walk_score import scorer_for

    scorer = scorer_for(model)
    return {} if scorer is None else {"prompt": scorer.prompt}


def samples_for(args, model, thresholds=(0.5,)) -> dict:
    """Chain-of-Steps samples of the preset's held-out mazes, shared by the claim scripts (cached per model)."""
    from interp.tasks.maze_trajectories import cached_samples

    s = args.settings
    model_part = "" if getattr(args, "model", "organism") == "organism" else model_name(args.model) + "_"
    return cached_samples(model, sizes=s["sizes"], count=s["count"], thresholds=(0.25, 0.5), batch=s["batch"],
                          cache=CACHE / f"cos_samples_{model_part}{args.preset}_{args.device.split(':')[0]}.json")
