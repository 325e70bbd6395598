"""Verdict rules of the causal maze experiments on hand-made figures tables (no model run)."""


from interp.causal.verdicts import ERASE_ARMS, ERASE_OUTCOMES, erase_verdict, noise_verdict, swap_verdict


def figure(value, low, high, n=300):
    return {"value": value, "ci95": [low, high], "n": n}


NONE = figure(0.0, 0.0, 0.02)
SOME = figure(0.1, 0.07, 0.14)
MANY = figure(0.4, 0.35, 0.46)


def erase_table(steps=(2,), **arms):
    """Every arm and outcome at NONE, but for ``arm__outcome=figure`` overrides at every step."""
    table = {f"5/step{s}/{a}/{o}": NONE for s in steps for a in ERASE_ARMS for o in ERASE_OUTCOMES}
    for name, value in arms.items():
        arm, outcome = name.split("__")
        table.update({f"5/step{s}/{arm}/{outcome}": value for s in steps})
    return table


def test_erase_holds_when_the_chosen_trace_moves_the_answer_to_another_valid_route():
    table = erase_table(chosen__changed=MANY, chosen__changed_valid=MANY, unchosen__changed=SOME)
    verdict, why = erase_verdict(table, sizes=[5], steps=[2], num_steps=20)
    assert verdict == "holds"
    assert "changed to another valid route 0.400 (chosen trace) vs 0.000 (control)" in why
    assert "answer changed 0.100 when the unchosen candidates were erased" in why


def test_erase_is_partly_when_the_chosen_trace_changes_the_answer_but_not_to_a_valid_route():
    table = erase_table(chosen__changed=MANY, chosen__broke=MANY, chosen__changed_valid=SOME,
                        control__changed_valid=SOME)
    assert erase_verdict(table, sizes=[5], steps=[2], num_steps=20)[0] == "partly"


def test_erase_does_not_hold_when_no_arm_beats_the_control():
    table = erase_table(chosen__changed=SOME, control__changed=SOME, unchosen__changed=SOME)
    assert erase_verdict(table, sizes=[5], steps=[2], num_steps=20)[0] == "does not hold"


def test_erase_counts_only_early_steps():
    table = erase_table(steps=(2, 15))
    table.update({"5/step15/chosen/changed": MANY, "5/step15/chosen/changed_valid": MANY})
    verdict, why = erase_verdict(table, sizes=[5], steps=[2, 15], num_steps=20)
    assert verdict == "does not hold" and "step 2 (n=300)" in why


def test_erase_ignores_a_step_where_no_maze_took_part():
    table = erase_table(chosen__changed=figure(None, 0.8, 1.0, n=0), chosen__changed_valid=figure(None, 0.8, 1.0, n=0))
    verdict, why = erase_verdict(table, sizes=[5], steps=[2], num_steps=20)
    assert verdict == "does not hold" and why.endswith("make; ")


def noise_table(*, top_steps, top_frames, mid_steps):
    """Exact accuracy per arm at std 2 (``top_*``) and at the middle std 1 (``mid_steps``)."""
    table = {f"step{s}/std2/exact": f for s, f in top_steps.items()}
    table.update({f"frame{f}/std2/exact": v for f, v in top_frames.items()})
    table.update({f"step{s}/std1/exact": f for s, f in mid_steps.items()})
    return table


STEPS, FRAMES = [0, 6, 12, 18], [0, 1]


def noise(table):
    return noise_verdict(table, strengths=[0.5, 1.0, 2.0], steps=STEPS, frames=FRAMES, num_steps=20)


def test_noise_holds_when_every_frame_is_milder_and_the_peak_is_mid_schedule():
    table = noise_table(top_steps={0: SOME, 6: NONE, 12: SOME, 18: MANY}, top_frames={0: MANY, 1: MANY},
                        mid_steps={0: MANY, 6: MANY, 12: SOME, 18: MANY})
    verdict, why = noise(table)
    assert verdict == "holds"
    assert "the worst step (6) leaves exact 0.000" in why and "sensitivity peaks at step 12 of 20" in why


def test_noise_is_partly_when_the_peak_is_late():
    table = noise_table(top_steps={0: SOME, 6: NONE, 12: SOME, 18: MANY}, top_frames={0: MANY, 1: MANY},
                        mid_steps={0: MANY, 6: MANY, 12: MANY, 18: SOME})
    verdict, why = noise(table)
    assert verdict == "partly" and "frames [0, 1] only, and sensitivity peaks late" in why


def test_noise_is_partly_when_only_some_frames_are_milder():
    table = noise_table(top_steps={0: SOME, 6: NONE, 12: SOME, 18: MANY}, top_frames={0: MANY, 1: NONE},
                        mid_steps={0: MANY, 6: SOME, 12: MANY, 18: MANY})
    verdict, why = noise(table)
    assert verdict == "partly" and "frames [0] only;" in why


def test_noise_does_not_hold_when_a_frame_hurts_as_much_and_the_peak_is_early():
    table = noise_table(top_steps={s: NONE for s in STEPS}, top_frames={0: NONE, 1: NONE},
                        mid_steps={0: NONE, 6: SOME, 12: MANY, 18: MANY})
    assert noise(table)[0] == "does not hold"


def swap_table(other: dict, layers=range(12)):
    """Share following the other maze after a step-0 swap of each block: NONE but for ``other``."""
    return {f"step0/layer{k}/other": other.get(k, NONE) for k in layers}


def test_swap_holds_when_a_middle_block_flips_the_answer():
    verdict, why = swap_verdict(swap_table({5: MANY}), layers=list(range(12)), num_layers=12)
    assert verdict == "holds" and "most flipping block is 5 of 12: 0.400" in why


def test_swap_is_partly_when_the_flipping_block_is_not_a_middle_one():
    assert swap_verdict(swap_table({0: MANY}), layers=list(range(12)), num_layers=12)[0] == "partly"


def test_swap_does_not_hold_when_no_block_flips_more_than_five_percent():
    table = swap_table({5: figure(0.05, 0.03, 0.09)})
    assert swap_verdict(table, layers=list(range(12)), num_layers=12)[0] == "does not hold"


def test_swap_names_the_block_whose_early_estimate_leans_most_to_the_other_route():
    table = swap_table({5: MANY})
    table.update({f"step0/layer{k}/x0_other": MANY if k == 3 else NONE for k in range(12)})
    why = swap_verdict(table, layers=list(range(12)), num_layers=12)[1]
    assert "x0_hat leans to the other route most for block 3 (0.400 of mazes)" in why


def test_swap_outcome_reads_hand_painted_answers():
    import numpy as np

    from interp.causal.swap import swap_outcome
    from interp.tasks import generate_maze

    own = generate_maze(5, seed=0)
    # a partner whose route (between start and goal) avoids own's start and goal and differs from own's
    other = next(m for m in (generate_maze(5, seed=s) for s in range(1, 200))
                 if not {own.start, own.goal} & set(m.routes[0][1:-1])
                 and set(m.routes[0][1:-1]) != set(own.routes[0][1:-1]))
    units = np.asarray(own.walls).shape

    def painted(route):
        amount = np.zeros(units)
        for unit in route:
            amount[unit] = 1.0
        return amount

    own_route, other_route = own.routes[0][1:-1], other.routes[0][1:-1]  # between start and goal
    follows = swap_outcome(painted(other_route), painted(own_route), own, other)
    assert follows["other"] and not follows["own"] and not follows["broken"] and follows["closer_other"]
    assert follows["x0_own"] and not follows["x0_other"]
    keeps = swap_outcome(painted(own_route), painted(other_route), own, other)
    assert keeps["own"] and not keeps["other"] and not keeps["closer_other"] and keeps["x0_other"]
    nothing = swap_outcome(np.zeros(units), np.zeros(units), own, other)
    assert nothing["broken"] and not nothing["own"] and not nothing["other"]


def scaled_table(top_steps, top_frames, mid_steps, clean=figure(0.9, 0.86, 0.93)):
    table = {f"step{s}/rel2/exact": f for s, f in top_steps.items()}
    table.update({f"frame{f}/rel2/exact": v for f, v in top_frames.items()})
    table.update({f"step{s}/rel1/exact": f for s, f in mid_steps.items()})
    table["clean/exact"] = clean
    return table


def scaled(table):
    from interp.causal.verdicts import noise_scaled_verdict

    return noise_scaled_verdict(table, ratios=[0.5, 1.0, 2.0], steps=STEPS, frames=FRAMES, num_steps=20)


def test_scaled_noise_holds_when_frames_are_milder_and_a_measurable_peak_is_mid_schedule():
    table = scaled_table({0: SOME, 6: NONE, 12: SOME, 18: SOME}, {0: MANY, 1: MANY},
                         {0: MANY, 6: SOME, 12: MANY, 18: MANY})
    assert scaled(table)[0] == "holds"


def test_scaled_noise_peak_that_the_clean_run_matches_is_no_peak():
    flat = figure(0.88, 0.84, 0.91)
    table = scaled_table({0: SOME, 6: NONE, 12: SOME, 18: SOME}, {0: MANY, 1: MANY},
                         {0: flat, 6: figure(0.87, 0.83, 0.9), 12: flat, 18: flat})
    verdict, why = scaled(table)
    assert verdict == "partly" and "not measurably below the clean run" in why


def test_scaled_noise_does_not_hold_when_frames_hurt_as_much_and_the_peak_is_late():
    table = scaled_table({0: SOME, 6: SOME, 12: SOME, 18: NONE}, {0: NONE, 1: NONE},
                         {0: MANY, 6: MANY, 12: MANY, 18: NONE})
    assert scaled(table)[0] == "does not hold"


def test_erase_against_the_matched_control_fails_when_an_equal_edit_moves_the_answer_as_often():
    table = erase_table(chosen__changed=MANY, chosen__changed_valid=MANY, matched__changed=MANY,
                        matched__changed_valid=MANY)
    assert erase_verdict(table, sizes=[5], steps=[2], num_steps=20)[0] == "holds"
    verdict, why = erase_verdict(table, sizes=[5], steps=[2], num_steps=20, control="matched")
    assert verdict == "does not hold" and "(matched control)" in why and "same colour distance" in why
