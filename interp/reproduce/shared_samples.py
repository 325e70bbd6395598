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


def samples_for(args, model, thresholds=(0.5,)) -> dict:
    """Chain-of-Steps samples of the preset's held-out mazes, shared by the claim scripts (cached per model)."""
    from interp.tasks.maze_trajectories import cached_samples

    s = args.settings
    model_part = "" if getattr(args, "model", "organism") == "organism" else model_name(args.model) + "_"
    return cached_samples(model, sizes=s["sizes"], count=s["count"], thresholds=(0.25, 0.5), batch=s["batch"],
                          cache=CACHE / f"cos_samples_{model_part}{args.preset}_{args.device.split(':')[0]}.json")
