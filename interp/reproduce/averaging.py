"""Runs of the averaging control of observation 1 (see :mod:`interp.metrics.averaging`).

For each held-out maze (the first mazes of the Chain-of-Steps trajectories' held-out set) and each
of ``steps``: x0_hat at that step against the mean of ``draws`` final videos drawn from p(x0 | x_t)
by the ancestral sampler from the step's own x_t; and at step 0 also against the mean of
``draws`` independent Euler runs (other seeds). Candidates are counted at ``threshold``.

Example:
    >>> from interp.reproduce.averaging import averaging_verdict
    >>> averaging_verdict({"gap_step1": {"value": 0.4, "ci95": [0.2, 0.6], "n": 64}}, early=[1])[0]
    True
"""

from __future__ import annotations

import numpy as np

from interp.errors import check_range


def averaging_runs(model, mazes, *, steps, draws: int, num_steps: int, threshold: float, noise_seed: int = 0,
                   batch: int = 64, palette: str = "default") -> dict:
    """``{"step{s}": {"x0", "mean", "gap", "one_draw_gap"}: lists over mazes, "seeds0": the same for
    independent seeds at step 0, "correct": {"euler", "ancestral0"}: bool per run}``."""
    from interp.metrics.averaging import candidate_gap, posterior_draws
    from interp.metrics.cos import model_space_to_uint8
    from interp.organism.evaluate import first_frames
    from interp.interventions import observe, run
    from interp.tasks.maze_trajectories import final_answers, same_size_batches
    from interp.tasks.walk_score import scorer_for

    scorer = scorer_for(model)                    # a walker's answers are read as walks (route and walk)
    check_range("draws", draws, 2, 10_000)
    steps = sorted(int(s) for s in steps)
    out = {f"step{s}": {"x0": [], "mean": [], "gap": [], "one_draw_gap": []} for s in steps}
    out["seeds0"] = {"x0": [], "mean": [], "gap": [], "one_draw_gap": []}
    correct = {"euler": [], "ancestral0": []}
    per = max(1, batch // draws)
    to_uint8 = lambda x: model_space_to_uint8(x.float().permute(0, 2, 3, 4, 1).cpu().numpy())  # noqa: E731
    for lo, chunk in same_size_batches(mazes, per):
        frames = first_frames(chunk, model.organism)
        inputs = model.prepare(first_frame=frames, seeds=[noise_seed + lo + i for i in range(len(chunk))])
        clean = run(model, inputs, observe("x_t", "x0", steps=steps), num_steps=num_steps, progress=False)
        x_t = {s: clean.at("x_t", s) for s in steps}
        x0 = {s: to_uint8(clean.at("x0", s)) for s in steps}
        for s in steps:
            finals = posterior_draws(model, inputs.take(range(len(chunk)), latents=x_t[s]), step=s,
                                     num_steps=num_steps, draws=draws, seed=noise_seed + lo + 7919 * (s + 1))
            for i, maze in enumerate(chunk):
                for key, value in candidate_gap(x0[s][i], finals[:, i], maze, threshold=threshold,
                                                palette=palette).items():
                    out[f"step{s}"][key].append(value)
            if s == 0:
                correct["ancestral0"] += final_answers(finals.reshape((-1,) + finals.shape[2:]),
                                                       [m for _ in range(draws) for m in chunk], palette=palette, scorer=scorer)[1].tolist()
        if 0 in steps:
            others = model.prepare(first_frame=np.concatenate([frames] * draws),
                                   seeds=[noise_seed + 1_000_000 * (d + 1) + lo + i
                                          for d in range(draws) for i in range(len(chunk))])
            videos = run(model, others, num_steps=num_steps, progress=False).video
            videos = np.asarray(videos).reshape((draws, len(chunk)) + videos.shape[1:])
            correct["euler"] += final_answers(videos.reshape((-1,) + videos.shape[2:]),
                                              [m for _ in range(draws) for m in chunk], palette=palette, scorer=scorer)[1].tolist()
            for i, maze in enumerate(chunk):
                for key, value in candidate_gap(x0[0][i], videos[:, i], maze, threshold=threshold,
                                                palette=palette).items():
                    out["seeds0"][key].append(value)
    out["correct"] = correct
    return out


def averaging_figures(runs: dict) -> dict:
    """Per step: the mean candidate gap (x0_hat minus the posterior mean) with its bootstrap interval over
    mazes (``gap_step{s}``, ``gap_seeds0``), the mean candidates of each (``x0_step{s}``, ``mean_step{s}``)
    and the negative control's gap (``one_draw_gap_step{s}``); the samplers' accuracy."""
    from interp.metrics.averaging import averaging_rule
    from interp.results import share

    figures = {}
    for key, rows in runs.items():
        if key == "correct":
            continue
        tag = key
        figures[f"gap_{tag}"] = averaging_rule(rows["gap"])[1]
        figures[f"one_draw_gap_{tag}"] = averaging_rule(rows["one_draw_gap"])[1]
        figures[f"x0_{tag}"] = averaging_rule(rows["x0"])[1]
        figures[f"mean_{tag}"] = averaging_rule(rows["mean"])[1]
    for name, flags in runs.get("correct", {}).items():
        if flags:
            figures[f"solved_{name}"] = share(flags)
    return figures


def averaging_verdict(figures: dict, *, early) -> tuple[bool, str]:
    """``(more, text)``: x0_hat draws more candidates than the posterior mean at some step of ``early``
    (the gap's bootstrap interval wholly above 0)."""
    more = [s for s in early if f"gap_step{s}" in figures and figures[f"gap_step{s}"]["n"]
            and figures[f"gap_step{s}"]["ci95"][0] > 0]
    text = "; ".join(f"step {s}: x0_hat {figures[f'x0_step{s}']['value']} vs posterior mean "
                     f"{figures[f'mean_step{s}']['value']} candidates, gap {figures[f'gap_step{s}']['value']} "
                     f"(95% CI {figures[f'gap_step{s}']['ci95']}, n={figures[f'gap_step{s}']['n']})"
                     for s in early if f"gap_step{s}" in figures and f"x0_step{s}" in figures)
    return bool(more), text
