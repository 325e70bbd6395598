"""One summary per claim of the paper: measured figures (95% interval, n) and a reading of them.

Each ``*_claim`` function takes Chain-of-Steps samples (:class:`~interp.metrics.cos.CosSample`,
from :func:`interp.tasks.maze_trajectories.cached_samples`), writes its figure into ``out`` and
returns the keyword arguments of :func:`interp.results.write_result` (``reading``, ``figures``,
``images``, ``extra``). The verdicts are the registry's (``experiments/claims.toml``), read from
these figures alone, so a reader can re-derive them from ``result.json``.

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> from interp.metrics.cos import cos_metrics
    >>> maze = generate_maze(5, seed=0)
    >>> s = cos_metrics(np.stack([ground_truth_video(maze, 3, px_per_unit=3)] * 4), maze)
    >>> share([True, False])["value"], mean_ci([1.0, 3.0])["value"]
    (0.5, 2.0)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from interp.metrics.cos_aggregate import aggregate_by_size
from interp.reproduce.plots import plot_panels
from interp.stats import mean_ci, share

FAINT = 0.25   # a unit drawn "faintly": a quarter of the way from floor to route colour


def _series(by_size: dict, key: str) -> dict:
    out = {}
    for size, result in by_size.items():
        d = result["per_step"][key]
        out[f"{size}x{size}"] = (result["steps"], d["mean"], d["ci95_low"], d["ci95_high"], result["n"])
    return out


def _n(samples) -> int:
    return len(samples)


def exploration_claim(by_threshold: dict, out, averaging: dict | None = None, num_steps: int = 20) -> dict:
    """Observation 1: several candidate routes early, pruned to one.

    Candidates are counted at the scorer's threshold (0.5) and at a faint one (:data:`FAINT`).
    Judged by the claim's rule in ``experiments/claims.toml``. With ``averaging`` (figures of
    :func:`interp.reproduce.averaging.averaging_figures`, stored as ``averaging_*``) the record also
    holds the averaging control: x0_hat is the posterior mean, so faint routes are expected from
    averaging alone, and the reading says whether x0_hat draws more candidates than the mean of
    posterior draws at some early step (<= ``num_steps // 4``).
    """
    faint, strict = by_threshold[FAINT], by_threshold[0.5]
    steps = faint[0].steps
    cand = np.array([s.candidates for s in faint], float)                        # [N, S]
    peak_step = int(np.argmax(cand.mean(0)))
    peak = mean_ci(cand[:, peak_step])
    final = mean_ci(cand[:, -1])
    two_plus = share((cand >= 2).any(1))
    ends_one = share(cand[:, -1] == 1)
    strict_two = share((np.array([s.candidates for s in strict]) >= 2).any(1))
    shown2 = share((np.array([s.shortest_shown for s in faint]) >= 2).any(1))
    panels = [{"series": _series(aggregate_by_size(samples), "candidates"), "xlabel": "denoising step",
               "ylabel": "candidate start-goal routes (mean)", "title": f"route-colour amount >= {t}"}
              for t, samples in ((FAINT, faint), (0.5, strict))]
    control_text, figures_avg = "", {}
    if averaging is not None:
        from interp.reproduce.averaging import averaging_verdict

        avg_steps = sorted(int(k[len("gap_step"):]) for k in averaging if k.startswith("gap_step"))
        early = [s for s in avg_steps if s <= num_steps // 4]
        more, facts = averaging_verdict(averaging, early=early)
        negative, _ = averaging_verdict({k.replace("one_draw_gap", "gap"): v for k, v in averaging.items()
                                         if k.startswith("one_draw_gap_step")} | {
                                        k: v for k, v in averaging.items() if k.startswith(("x0_step", "mean_step"))},
                                        early=early)
        figures_avg = {f"averaging_{k}": v for k, v in averaging.items()}
        control_text = (" Averaging control (x0_hat is the posterior mean E[x0 | x_t]; compared with the mean of "
                        "final videos drawn from p(x0 | x_t) by the ancestral sampler from the step's x_t): " + facts
                        + (". x0_hat draws more candidates than that mean: more than posterior averaging."
                           if more else ". x0_hat draws no more candidates than that mean: the faint alternative "
                           "routes are what posterior averaging predicts, not evidence of a search over routes.")
                        + f" Negative control (one final video against the mean of the others): the same gap rule "
                        f"says {'more' if negative else 'not more'}.")
        series = {}
        for label, key in (("x0_hat", "x0"), ("mean of posterior draws", "mean")):
            fs = [averaging[f"{key}_step{s}"] for s in avg_steps]
            series[label] = (avg_steps, [f["value"] for f in fs], [f["ci95"][0] for f in fs],
                             [f["ci95"][1] for f in fs], fs[0]["n"])
        panels.append({"series": series, "xlabel": "denoising step", "ylabel": f"candidate routes (amount >= {FAINT})",
                       "title": "averaging control: x0_hat vs mean of final videos from x_t"})
    image = plot_panels(Path(out) / "candidates_per_step.png", panels,
                        title=f"Candidate routes in x0_hat per step (held-out multi-route mazes, n={_n(faint)}; 95% bands)")
    if strict_two["value"] < two_plus["value"] / 2:
        reading = ("The alternatives are drawn faintly: at the scorer's threshold (0.5) few mazes show two routes, "
                   "as the paper's 'several routes drawn faintly' describes.")
    else:
        reading = "The alternatives are drawn at full strength, not only faintly."
    if peak["ci95"][0] <= 1:
        reading += (" Early x0_hat mostly shows one route growing from partial to complete, not a bundle of routes.")
    why = (f"At amount >= {FAINT}, mean candidates peak at {peak['value']} (95% CI {peak['ci95']}) at step "
           f"{steps[peak_step]} and end at {final['value']}; {two_plus['value']:.0%} of mazes show 2+ candidate "
           f"routes at some step ({strict_two['value']:.0%} at amount >= 0.5), {shown2['value']:.0%} draw 2+ shortest "
           f"routes at once. " + reading + control_text)
    return {"reading": why, "images": [image.name],
            "figures": {"peak_candidates_faint": {**peak, "step": steps[peak_step]}, "final_candidates_faint": final,
                        "share_2plus_candidates_faint": two_plus, "share_2plus_candidates_0.5": strict_two,
                        "share_2plus_shortest_drawn_faint": shown2, "share_ending_with_one": ends_one,
                        **figures_avg},
            "extra": {"candidates_per_step_faint": cand.mean(0).round(4).tolist(), "steps": steps}}


def memory_claim(samples, out) -> dict:
    """Observation 3: persistent references survive across steps.

    The organism's references are the walls, start and goal; ``scaffold_correct`` asks that they
    are decoded right in every frame of x0_hat.
    Judged by the claim's rule in ``experiments/claims.toml``.
    """
    every = share([bool(s.scaffold_correct.all()) for s in samples])
    first = share([bool(s.scaffold_correct[0]) for s in samples])
    agreement = mean_ci([float(s.scaffold_agreement.min()) for s in samples])
    image = plot_panels(Path(out) / "scaffold_per_step.png", [
        {"series": _series(aggregate_by_size(samples), "scaffold_correct"), "xlabel": "denoising step",
         "ylabel": "share of mazes", "title": "walls, start and goal right in every frame", "ylim": (-0.03, 1.03)},
        {"series": _series(aggregate_by_size(samples), "scaffold_agreement"), "xlabel": "denoising step",
         "ylabel": "share of units", "title": "wall / not-wall units decoded right", "ylim": (0.8, 1.01)}],
        title=f"Working memory: the maze scaffold in x0_hat across steps (n={len(samples)}; 95% bands)")
    why = (f"{every['value']:.0%} of mazes (95% CI {every['ci95']}, n={every['n']}) keep walls, start and goal right "
           f"in every frame at every step, {first['value']:.0%} already at step 0. Caveat: the organism receives the maze as its first frame at every step, so keeping it is "
           f"easier than the paper's case (an object that leaves the view and returns); the maze has no occlusion.")
    return {"reading": why, "images": [image.name],
            "figures": {"share_scaffold_every_step": every, "share_scaffold_at_step0": first,
                        "min_unit_agreement": agreement}}


def self_correction_claim(samples, out) -> dict:
    """Observation 4: an early wrong route is revised to the right one.

    A sample self-corrects when some step's x0_hat is wrong (a painted wall, a detour or dead end,
    a longer route) and the final answer is right.
    Judged by the claim's rule in ``experiments/claims.toml``.
    """
    overall = share([s.self_corrected for s in samples])
    by_size = {str(size): share([s.self_corrected for s in samples if s.size == size])
               for size in sorted({s.size for s in samples})}
    fixed_by = [int(np.nonzero(s.wrong)[0].max()) + 1 for s in samples if s.self_corrected]
    wrong_then = share([s.final_correct for s in samples if s.wrong.any()])
    groups = aggregate_by_size(samples)
    image = plot_panels(Path(out) / "self_correction.png", [
        {"series": _series(groups, "wrong"), "xlabel": "denoising step", "ylabel": "share of mazes",
         "title": "x0_hat wrong (wall, detour, longer route)", "ylim": (-0.03, 1.03)},
        {"series": _series(groups, "self_correction"), "xlabel": "denoising step", "ylabel": "share of mazes",
         "title": "wrong now, right at the end", "ylim": (-0.03, 1.03)}],
        title=f"Self-correction per step and maze size (n={len(samples)}; 95% Wilson bands)")
    when = mean_ci(fixed_by)
    wrong_text = f"{wrong_then['value']:.0%}" if wrong_then["n"] else "none"
    sizes_text = ", ".join(f"{k}x{k}: {v['value']:.1%} (n={v['n']})" for k, v in by_size.items())
    why = (f"{overall['value']:.1%} of mazes (95% CI {overall['ci95']}, n={overall['n']}) are wrong at some step and "
           f"right at the end; by size {sizes_text}. "
           f"Of mazes wrong at some step, {wrong_text} end right (n={wrong_then['n']}); "
           f"the last wrong step is followed by a right one at step {when['value']} on average (n={when['n']}).")
    return {"reading": why, "images": [image.name],
            "figures": {"share_self_correcting": overall, **{f"share_self_correcting_{k}x{k}": v for k, v in by_size.items()},
                        "share_right_at_end_when_wrong_early": wrong_then, "step_fixed_by": when}}


def perception_action_claim(samples, out) -> dict:
    """Observation 5: the scene is localised before the action is drawn.

    ``perception_step``: first step from which the scaffold stays right; ``action_step``: first
    step from which the answer stays right.
    Judged by the claim's rule in ``experiments/claims.toml``.
    """
    both = [s for s in samples if s.perception_step is not None and s.action_step is not None]
    before = share([s.perception_step < s.action_step for s in both])
    after = share([s.perception_step > s.action_step for s in both])
    perception = mean_ci([s.perception_step for s in both])
    action = mean_ci([s.action_step for s in both])
    image = plot_panels(Path(out) / "perception_action.png", [
        {"hist": {"perception step (scaffold stays right)": [s.perception_step for s in both],
                  "action step (answer stays right)": [s.action_step for s in both]},
         "xlabel": "denoising step", "ylabel": "mazes", "title": "first step from which each stays right"}],
        title=f"Perception before action (n={len(both)} mazes with both steps defined)")
    why = (f"Perception is in place at step {perception['value']} on average and the action at step {action['value']} "
           f"(95% CI {action['ci95']}); perception comes strictly first in {before['value']:.0%} of mazes "
           f"(CI {before['ci95']}, n={before['n']}), at the same step in the rest (action after perception never "
           f"reverses: {after['value']:.0%}). Caveat: the maze is given as the conditioning frame, so perception is nearly free for the organism; "
           f"ties are mazes solved already at step 0.")
    return {"reading": why, "images": [image.name],
            "figures": {"share_perception_first": before, "share_action_first": after,
                        "perception_step": perception, "action_step": action}}


def reason_early_claim(samples, renoise: dict, out, *, num_steps: int) -> dict:
    """"Video Models Reason Early": the trajectory is fixed within the first few steps.

    Uses the commitment step of every maze (first step from which x0_hat's answer equals the
    final one), the accuracy of reading the answer off x0_hat at each step, and the noise-redraw
    test of :mod:`interp.reproduce.renoise`.
    Judged by the claim's rule in ``experiments/claims.toml``.
    """
    commit = [s.commitment_step for s in samples]
    committed = share([c < num_steps / 4 for c in commit])
    correct = np.array([s.answer_correct for s in samples])
    ks = sorted(renoise["ks"])
    same = {k: share(renoise["ks"][k]["same_answer"]) for k in ks}
    right = {k: share(renoise["ks"][k]["correct"]) for k in ks}
    steps = samples[0].steps
    acc = [share(correct[:, i]) for i in range(len(steps))]
    groups = aggregate_by_size(samples)
    redraw_k = [k for k in ks if k >= 0]
    image = plot_panels(Path(out) / "reason_early.png", [
        {"hist": {f"{size}x{size}": [s.commitment_step for s in samples if s.size == size] for size in groups},
         "xlabel": "commitment step (answer final from here)", "ylabel": "mazes", "title": "when the answer is fixed"},
        {"series": {"answer read off x0_hat": (steps, [a["value"] for a in acc], [a["ci95"][0] for a in acc],
                                               [a["ci95"][1] for a in acc], len(samples))},
         "xlabel": "denoising step", "ylabel": "share of mazes solved", "title": "stop at this step: accuracy",
         "ylim": (-0.03, 1.03)},
        {"series": {"same final answer": (redraw_k, [same[k]["value"] for k in redraw_k],
                                          [same[k]["ci95"][0] for k in redraw_k], [same[k]["ci95"][1] for k in redraw_k],
                                          same[ks[-1]]["n"]),
                    "final answer right": (redraw_k, [right[k]["value"] for k in redraw_k],
                                           [right[k]["ci95"][0] for k in redraw_k], [right[k]["ci95"][1] for k in redraw_k],
                                           right[ks[-1]]["n"])},
         "xlabel": "step after which the noise is redrawn", "ylabel": "share of mazes",
         "title": "fresh noise after step k", "ylim": (-0.03, 1.03)}],
        title=f"Is the plan fixed early? ({num_steps} steps; 95% intervals)")
    base = same.get(-1)
    why = (f"Median commitment step {int(np.median(commit))} of {num_steps} (mean {mean_ci(commit)['value']}, n={len(commit)}); "
           f"{committed['value']:.0%} of mazes commit before step {num_steps / 4:g}. Redrawing the noise after step k keeps "
           f"the final answer in " + ", ".join(f"{same[k]['value']:.0%} (k={k})" for k in redraw_k)
           + (f"; a whole new run from another seed gives the same answer in {base['value']:.0%}" if base else "")
           + f" (n={same[ks[-1]]['n']}).")
    return {"reading": why, "settings": {"num_steps": num_steps}, "images": [image.name],
            "figures": {"commitment_step": mean_ci(commit), "share_committed_first_quarter": committed,
                        **{f"same_answer_after_redraw_k{k}": v for k, v in same.items()},
                        **{f"solved_after_redraw_k{k}": v for k, v in right.items()},
                        "accuracy_read_at_step0": acc[0], "accuracy_final": acc[-1]},
            "extra": {"commitment_steps": commit, "accuracy_per_step": [a["value"] for a in acc]}}
