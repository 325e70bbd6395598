"""The walker's own claims on the template: presets, the shared occlusion sweep, figures, records.

    python experiments/working_memory_frames.py --preset gpu    # -> experiments/results/walker/working_memory_frames/
    python experiments/perception_action_frames.py --preset gpu
    python experiments/expert_specialisation.py --preset gpu

The memory and perception claims read one occlusion sweep (:func:`interp.reproduce.walker_claims.occlusion_sweep`),
cached per preset and weights so the second script does not run it again.

Example:
    >>> sorted(PRESETS["gpu"])
    ['arms_count', 'batch', 'count', 'device', 'hide_steps', 'later_steps', 'num_steps', 'prompt', 'sizes', 'twin']
"""

from __future__ import annotations

import json
import time

import numpy as np

from interp.experiment import finish, options, parse, replotted
from interp.reproduce import walker_claims as W
from interp.reproduce.shared_samples import CACHE

# cpu: a check that runs in minutes on 2 cores; gpu: the registry's n (clean-exact mazes ~ 0.3 x count x sizes)
PRESETS = {
    "cpu": {"sizes": [5], "count": 4, "batch": 4, "hide_steps": [0, 10], "later_steps": [10], "num_steps": 20,
            "prompt": "goal", "arms_count": 2, "twin": False, "device": "cpu"},
    "gpu": {"sizes": [5, 7], "count": 250, "batch": 250, "hide_steps": list(range(0, 20, 2)), "later_steps": [0, 10],
            "num_steps": 20, "prompt": "goal", "arms_count": 250, "twin": True, "device": "cuda"},
}
CLAIMS = {
    "working_memory_frames": "the walk survives when the maze leaves the view (working memory over steps)",
    "perception_action_frames": "the walls are held from an earlier step than the walk",
    "expert_specialisation": "the high-noise expert plans the route, the low-noise expert renders",
}


def _sweep(model, args) -> dict:
    s = args.settings
    key = {**s, "device": args.device, "model": model.fingerprint()}
    path = CACHE / f"walker_sweep_{args.preset}_{args.device.split(':')[0]}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored.get("key") == key:
            return {("clean" if k == "clean" else (k.split(":")[0], int(k.split(":")[1]))): v
                    for k, v in stored["sweep"].items()}
    walks = W.heldout(s["sizes"], s["count"])
    sweep = W.occlusion_sweep(model, walks, ks=s["hide_steps"], prompt=s["prompt"], num_steps=s["num_steps"],
                              batch=s["batch"], later_ks=s.get("later_steps"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "sweep": {(k if k == "clean" else f"{k[0]}:{k[1]}"): v
                                                      for k, v in sweep.items()}}))
    return sweep


def _plot_memory(figures: dict, ks, out) -> str:
    from interp.viz.figure import finish, pyplot

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for prefix, label, colour in (("kept_hidden", "maze hidden from every frame", "tab:red"),
                                  ("kept_later_hidden", "hidden from frames 1.. (frame 0 keeps it)", "tab:blue")):
        shown = [k for k in ks if f"{prefix}_step{k}" in figures]
        rows = [figures[f"{prefix}_step{k}"] for k in shown]
        ax.plot(shown, [r["value"] for r in rows], "o-", color=colour, label=label)
        ax.fill_between(shown, [r["ci95"][0] for r in rows], [r["ci95"][1] for r in rows], color=colour, alpha=0.2)
    n = figures["kept_hidden_half"]["n"]
    ax.set(xlabel="denoising step from which the maze is hidden", ylabel="share still walked exactly",
           title=f"Walker: walks kept with the maze out of view (n={n} clean-exact mazes, 95% CI)", ylim=(-0.02, 1.02))
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    finish(fig, out / "kept_hidden.png", dpi=120)
    return "kept_hidden.png"


def _plot_arms(figures: dict, out) -> str:
    from interp.viz.figure import finish, pyplot

    plt = pyplot()

    arms = ("both", "without_high", "without_low", "high_alone")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    for ax, key, ylabel in ((axes[0], "route", "share of routes right"),
                            (axes[1], "render_error", "rendering error (RGB units)")):
        rows = [figures[f"{key}_{a}"] for a in arms]
        values = [r["value"] for r in rows]
        err = [[v - r["ci95"][0] for v, r in zip(values, rows)], [r["ci95"][1] - v for v, r in zip(values, rows)]]
        ax.bar(range(len(arms)), values, yerr=err, color=["grey", "tab:blue", "tab:orange", "tab:green"])
        ax.set_xticks(range(len(arms)), [a.replace("_", "\n") for a in arms], fontsize=8)
        ax.set_ylabel(ylabel)
    n = figures["route_specialisation"]["n"]
    fig.suptitle(f"Walker: each expert's steps given to the other (n={n} mazes, 95% CI)", fontsize=9)
    finish(fig, out / "expert_arms.png", dpi=120)
    return "expert_arms.png"


def _reading(name: str, figures: dict, negative: dict) -> str:
    def f(key, figs=figures):
        x = figs[key]
        return f"{x['value']:.3g} ({x['ci95'][0]:.3g}-{x['ci95'][1]:.3g}, n={x['n']})"

    if name == "working_memory_frames":
        return (f"clean exact walks {f('clean_exact')}; kept with the maze hidden from every frame from the middle "
                f"step {f('kept_hidden_half')}, from step 0 {f('kept_hidden_half', negative)}")
    if name == "perception_action_frames":
        return (f"walls first {f('share_perception_first')}, walk first {f('share_action_first')}, tied "
                f"{f('share_tied')}; mean perception step {f('perception_step')}, action step {f('action_step')}")
    return (f"route right without the low expert minus without the high one {f('route_specialisation')}; rendering "
            f"error difference {f('render_specialisation')}")


def main(name: str, argv=None) -> int:
    """Run claim ``name`` (one of :data:`CLAIMS`) on the walker at a preset (``--model walker``, its default)."""
    from interp.errors import InputError
    from interp.models import load_model

    started = time.perf_counter()
    parser = options(name, CLAIMS[name], PRESETS, prog=f"experiments/{name}.py")
    parser.set_defaults(model="walker")
    args = parse(parser, PRESETS, argv)
    if args.model != "walker":
        raise InputError(f"{name} is tested on the walker only (--model walker), not on {args.model!r}: "
                         "the first organism has no walk over frames and one expert")
    if replotted(args):
        return 0
    args.settings = {k: v for k, v in PRESETS[args.preset].items() if k != "device"}
    model = load_model("walker", device=args.device)
    s = args.settings
    args.out.mkdir(parents=True, exist_ok=True)
    if name == "expert_specialisation":
        walks = W.heldout(s["sizes"], s["arms_count"])
        run = dict(prompt=s["prompt"], num_steps=s["num_steps"], batch=s["batch"])
        figures = W.specialisation_figures(W.specialisation_run(model, walks, **run))
        # the twin doubles the cost: the cpu check of make reproduce leaves it out
        negative = W.specialisation_figures(W.specialisation_run(W.random_twin(model), walks, **run)) if s["twin"] \
            else None
        what = "the random-weight twin (both experts re-initialised, seed 0)"
        images = [_plot_arms(figures, args.out)]
    else:
        sweep = _sweep(model, args)
        ks = s["hide_steps"]
        if name == "working_memory_frames":
            figures, negative = W.memory_figures(sweep, ks=ks, num_steps=s["num_steps"])
            what = "the maze hidden from step 0 (never seen)"
            images = [_plot_memory(figures, ks, args.out)]
        else:
            figures, negative = W.perception_action_figures(sweep, ks=ks, num_steps=s["num_steps"])
            what = "shuffled labels: the walls compared with the next maze's walls"
            images = []
    finish(name, args, started, {"figures": figures, "images": images, "reading": _reading(name, figures, negative),
                                 "extra": {} if negative is None else {"negative": {"what": what, "figures": negative}}},
           shared=True)
    return 0
