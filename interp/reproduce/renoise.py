"""Is the plan fixed early? Redraw the noise after step k and see whether the answer changes.

After step ``k`` of a run, the state entering step ``k + 1`` is rebuilt from the step's clean
estimate with **fresh** noise, as flow matching defines it,

    x'_{k+1} = (1 - sigma_{k+1}) x0_hat(k) + sigma_{k+1} eps',

(the :class:`~interp.interventions.Redraw` action at ``x0``) and the run continues from there. If the answer is fixed by step ``k``, the final answer (the
set of route-coloured units) equals the original run's; if the remaining steps still decide, a
new noise draw gives another answer about as often as a fresh run from another seed does
(``k = -1`` below: the whole run redrawn).

Example:
    >>> from interp.reproduce.renoise import agreement_rule
    >>> agreement_rule({0: 0.5, 2: 0.95, 4: 0.99}, num_steps=20)
    ('holds', 2)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from interp.errors import InputError


def renoise_runs(model, mazes, ks, *, num_steps: int | None = None, noise_seed: int = 0, redraw_seed: int = 10_000,
                 batch: int = 64, palette: str = "default") -> dict:
    """Answers after a noise redraw at each step of ``ks`` (``-1``: a run from another seed).

    Returns ``{"original_correct": [N] bool, "ks": {k: {"same_answer": [N] bool, "correct": [N] bool}}}``.
    """
    from interp.interventions import At, Intervention, Redraw, observe, run
    from interp.organism.evaluate import first_frames
    from interp.tasks.maze_trajectories import final_answers, same_size_batches
    from interp.sampling import schedule
    from interp.tasks.walk_score import scorer_for

    scorer = scorer_for(model)                    # a walker's answers are read as walks (route and walk)
    num_steps = num_steps or model.organism.config.num_inference_steps
    ks = sorted(int(k) for k in ks)
    if not ks or ks[0] < -1 or ks[-1] > num_steps - 2:
        raise InputError(f"redraw steps must lie in -1..{num_steps - 2}, got {ks}")
    _, _, sigmas = schedule(model, num_steps)
    sigmas = sigmas.float().cpu()
    videos = {"original": [], **{k: [] for k in ks}}
    for lo, chunk in same_size_batches(mazes, batch):
        frames = first_frames(chunk, model.organism)
        inputs = model.prepare(first_frame=frames, seeds=[noise_seed + lo + i for i in range(len(chunk))])
        # the original run keeps the state entering each redraw step, so a redrawn run starts there
        redraws = [k for k in ks if k >= 0]
        original = run(model, inputs, observe("x_t", steps=redraws) if redraws else [], num_steps=num_steps,
                       progress=False)
        videos["original"].append(original.video)
        for k in ks:
            seeds = [redraw_seed + 1000 * (k + 1) + lo + i for i in range(len(chunk))]
            if k == -1:
                again = model.prepare(first_frame=frames, seeds=seeds)
                videos[k].append(run(model, again, num_steps=num_steps, progress=False).video)
                continue
            redraw = Intervention(At("x0", steps=[k]), Redraw(seeds, float(sigmas[k]), float(sigmas[k + 1])))
            resumed = dataclasses.replace(inputs, latents=original.at("x_t", k).to(inputs.latents.dtype))
            videos[k].append(run(model, resumed, [redraw], num_steps=num_steps, start_step=k, progress=False).video)
    original, original_correct = final_answers(_flat(videos["original"]), mazes, palette=palette, scorer=scorer)
    out = {"original_correct": original_correct, "ks": {}}
    for k in ks:
        answers, correct = final_answers(_flat(videos[k]), mazes, palette=palette, scorer=scorer)
        out["ks"][k] = {"same_answer": np.array([a == b for a, b in zip(answers, original)]), "correct": correct}
    return out


def agreement_rule(same_share: dict, *, num_steps: int, fixed: float = 0.9) -> tuple[str, int | None]:
    """Verdict of "the plan is fixed within the first few steps" from the share of unchanged answers.

    ``holds`` when the share reaches ``fixed`` by the first quarter of the steps, ``partly`` by
    half of them, else ``does not hold``; also returns the first such step (``None`` when never).
    """
    first = next((k for k in sorted(same_share) if k >= 0 and same_share[k] >= fixed), None)
    if first is not None and first < num_steps / 4:
        return "holds", first
    if first is not None and first < num_steps / 2:
        return "partly", first
    return "does not hold", first


def _flat(batches) -> list:
    return [video for batch in batches for video in batch]
