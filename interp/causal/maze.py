"""Maze glue of the causal tests: moved beside the maze task, :mod:`interp.tasks.maze_answers`
(this name stays for old imports)."""

from interp.tasks.maze_answers import (  # noqa: F401
    PAINTED, Outcome, answer_amount, candidates, equal_arms, floor_units, outcomes, paired_tokens, painted_set,
    pixel_mask, route_interiors, score_all, swap_outcome, unit_pixel_tokens, unit_token_mask,
)
