"""Verdict rules of the causal maze experiments, read from their figures tables alone.

Each table maps a figure's name to ``{"value", "ci95": [low, high], "n"}`` (a share with its Wilson
interval from :func:`interp.stats.share`, or a mean from :func:`interp.stats.mean_ci`); each rule returns
``(verdict, why)`` for :func:`interp.results.write_result`, so ``--replot`` recomputes the verdict
from a stored ``result.json``. Table names:

* erase: ``{size}/step{s}/{arm}/{outcome}`` for :data:`ERASE_ARMS` and :data:`ERASE_OUTCOMES`;
* noise: ``step{s}/std{std:g}/exact``, ``frame{f}/std{std:g}/exact`` and their scaled twins ``.../rel{r:g}/exact``
  (arms of :func:`interp.causal.noise.noise_arms`);
* swap: ``step{s}/layer{k}/{outcome}`` for :data:`SWAP_OUTCOMES`, and ``x0_other`` when measured.

Example:
    >>> none_follow = {"value": 0.0, "ci95": [0.0, 0.01], "n": 300}
    >>> swap_verdict({"step0/layer0/other": none_follow}, layers=[0], num_layers=12)[0]
    'does not hold'
"""

from __future__ import annotations


from interp.causal.noise import middle_strength

ERASE_ARMS = ("unchosen", "chosen", "control", "matched")
ERASE_OUTCOMES = ("changed", "changed_valid", "broke")
SWAP_OUTCOMES = ("other", "own", "broken")


def _above(table: dict, high: str, low: str) -> bool:
    """Whether figure ``high`` was measured and its interval lies wholly above figure ``low``'s."""
    return bool(table[high]["n"]) and table[high]["ci95"][0] > table[low]["ci95"][1]


def erase_verdict(table: dict, *, sizes, steps, num_steps: int, control: str = "control") -> tuple[str, str]:
    """Are the candidates an early x0_hat draws live alternatives?

    Only early erase steps count: those ``<= num_steps // 4`` (the first of ``steps`` when none
    is). ``holds`` when, for some size and early step, erasing the chosen route's trace changes the
    answer to another valid route more often than the control (the ``chosen/changed_valid``
    interval lies wholly above ``control/changed_valid``); ``partly`` when it only changes the
    answer more often (``chosen/changed`` above ``control/changed``); otherwise ``does not hold``.
    ``control="matched"`` judges against the matched control (as many units moved by the same colour
    distance, :func:`interp.causal.erase.matched_change`) instead of recolouring floor units as floor.
    """
    what = "as many random floor units" if control == "control" else "as many units by the same colour distance"
    early = [s for s in steps if s <= num_steps // 4] or steps[:1]
    moved = any(_above(table, f"{size}/step{s}/chosen/changed_valid", f"{size}/step{s}/{control}/changed_valid")
                for size in sizes for s in early)
    changed = any(_above(table, f"{size}/step{s}/chosen/changed", f"{size}/step{s}/{control}/changed")
                  for size in sizes for s in early)
    s0 = early[0]
    facts = "; ".join(
        f"{size}x{size} step {s0} (n={table[f'{size}/step{s0}/chosen/changed']['n']}): changed to another valid route "
        f"{table[f'{size}/step{s0}/chosen/changed_valid']['value']:.3f} (chosen trace) vs "
        f"{table[f'{size}/step{s0}/{control}/changed_valid']['value']:.3f} ({'control' if control == 'control' else control + ' control'}), answer changed "
        f"{table[f'{size}/step{s0}/unchosen/changed']['value']:.3f} when the unchosen candidates were erased"
        for size in sizes if table[f"{size}/step{s0}/chosen/changed"]["n"])
    if moved:
        return "holds", ("erasing the chosen route's early trace sends the model to another valid route more often "
                         f"than changing {what}: the alternatives are live; {facts}")
    if changed:
        return "partly", ("erasing the chosen route's early trace changes the answer more than the control, but not "
                          f"measurably towards another valid route; {facts}")
    return "does not hold", (f"no erase arm changes the final answer measurably more than changing {what}: "
                             "on this model the early estimate does not hold a choice the later steps "
                             f"make; {facts}")


def noise_verdict(table: dict, *, strengths, steps, frames, num_steps: int) -> tuple[str, str]:
    """Does noise at one step hurt more than noise at one frame, most in the middle of the schedule?

    At the largest strength, the worst step (lowest exact accuracy with noise in all frames at that
    step) is compared with each frame noised at every step: a frame is milder when its interval lies
    wholly above the worst step's. The peak sensitivity is the step of lowest exact accuracy at the
    middle strength (:func:`interp.causal.noise.middle_strength`; the largest can floor several
    steps at 0, which leaves the peak undefined); it is mid-schedule within 30%-70% of ``num_steps``.
    ``holds`` when every frame is milder and the peak is mid-schedule; ``partly`` when some frame is
    milder or the peak is mid-schedule; otherwise ``does not hold``.
    """
    top, mid = max(strengths), middle_strength(strengths)
    step_acc = {s: table[f"step{s}/std{top:g}/exact"] for s in steps}
    worst_step = min(step_acc, key=lambda s: step_acc[s]["value"])
    worst = step_acc[worst_step]
    by_frame = {f: table[f"frame{f}/std{top:g}/exact"] for f in frames}
    milder = [f for f in frames if by_frame[f]["ci95"][0] > worst["ci95"][1]]
    peak = min(steps, key=lambda s: table[f"step{s}/std{mid:g}/exact"]["value"])
    middle = 0.3 * num_steps <= peak <= 0.7 * num_steps
    facts = (f"at std {top:g} the worst step ({worst_step}) leaves exact {worst['value']:.3f}; noise in one frame at "
             "every step leaves " + ", ".join(f"frame {f}: {by_frame[f]['value']:.3f}" for f in frames)
             + f"; at std {mid:g} sensitivity peaks at step {peak} of {num_steps}")
    if len(milder) == len(frames) and middle:
        return "holds", f"noise at one step hurts more than at any one frame and peaks mid-schedule; {facts}"
    if milder or middle:
        return "partly", (f"noise at one step hurts more than noise at frames {milder} only"
                          + ("" if middle else ", and sensitivity peaks late, not mid-schedule") + f"; {facts}")
    return "does not hold", f"noise at one step does not hurt more than noise at a frame; {facts}"


def noise_scaled_verdict(table: dict, *, ratios, steps, frames, num_steps: int) -> tuple[str, str]:
    """The same question as :func:`noise_verdict`, asked with noise scaled to each step's own sigma.

    Arms ``step{s}/rel{r:g}/exact`` (all frames at step ``s``, std ``r * sigma_s``) and
    ``frame{f}/rel{r:g}/exact`` (frame ``f`` at every step, std ``r * sigma_s`` at each). At the
    largest ratio the worst step is compared with each frame (milder: interval wholly above the
    worst step's); the peak is the step of lowest exact accuracy at the middle ratio, mid-schedule
    within 30%-70% of ``num_steps`` and **measurable**: its interval lies wholly below the clean
    run's (``clean/exact``). ``holds`` when every frame is milder and the peak is a measurable
    mid-schedule one; ``partly`` when either; otherwise ``does not hold``.
    """
    top, mid = max(ratios), middle_strength(ratios)
    step_acc = {s: table[f"step{s}/rel{top:g}/exact"] for s in steps}
    worst_step = min(step_acc, key=lambda s: step_acc[s]["value"])
    worst = step_acc[worst_step]
    by_frame = {f: table[f"frame{f}/rel{top:g}/exact"] for f in frames}
    milder = [f for f in frames if by_frame[f]["ci95"][0] > worst["ci95"][1]]
    at_mid = {s: table[f"step{s}/rel{mid:g}/exact"] for s in steps}
    peak = min(steps, key=lambda s: at_mid[s]["value"])
    clean = table.get("clean/exact")
    measurable = clean is None or at_mid[peak]["ci95"][1] < clean["ci95"][0]
    middle = 0.3 * num_steps <= peak <= 0.7 * num_steps and measurable
    facts = (f"noise scaled to the step's sigma: at ratio {top:g} the worst step ({worst_step}) leaves exact "
             f"{worst['value']:.3f}; one frame at every step leaves "
             + ", ".join(f"frame {f}: {by_frame[f]['value']:.3f}" for f in frames)
             + f"; at ratio {mid:g} exact accuracy by step is "
             + ", ".join(f"{s}: {at_mid[s]['value']:.3f}" for s in steps)
             + f" (lowest at step {peak} of {num_steps}"
             + ("" if measurable else ", not measurably below the clean run") + ")")
    if len(milder) == len(frames) and middle:
        return "holds", f"at equal signal-to-noise, noise at one step hurts more than at any frame and peaks mid-schedule; {facts}"
    if milder or middle:
        return "partly", (f"at equal signal-to-noise, noise at one step hurts more than noise at frames {milder} only"
                          + ("" if middle else ", and no measurable mid-schedule peak") + f"; {facts}")
    return "does not hold", f"at equal signal-to-noise, noise at one step does not hurt more than at a frame; {facts}"


def swap_verdict(table: dict, *, layers, num_layers: int, min_share: float = 0.05) -> tuple[str, str]:
    """Does swapping one middle block's tokens at step 0 flip the answer to the other maze's route?

    The most flipping block is the one of ``layers`` whose step-0 swap most often makes the answer
    follow the other maze (``step0/layer{k}/other``); it flips when that share's interval lies above
    5%, and is a middle block when it lies in the middle third of ``num_layers``. ``holds`` when it
    flips and is a middle block; ``partly`` when it flips elsewhere; otherwise ``does not hold``.
    """
    first = {k: table[f"step0/layer{k}/other"] for k in layers}
    best = max(first, key=lambda k: first[k]["value"])
    flips = first[best]["ci95"][0] > min_share
    middle = num_layers / 3 <= best < 2 * num_layers / 3
    fact = (f"at step 0 the most flipping block is {best} of {num_layers}: {first[best]['value']:.3f} "
            "follow the other maze")
    if f"step0/layer{best}/x0_other" in table:
        x0 = {k: table[f"step0/layer{k}/x0_other"]["value"] for k in layers}
        lean = max(x0, key=x0.get)
        fact += (f"; right after the swap, x0_hat leans to the other route most for block {lean} "
                 f"({x0[lean]:.3f} of mazes)")
    if flips and middle:
        return "holds", f"a middle block flips the answer; {fact}"
    if flips:
        return "partly", f"swapping one block flips the answer, but the block is not a middle one; {fact}"
    return "does not hold", f"no single block's swap at step 0 flips the answer measurably (>{min_share:.0%}); {fact}"
