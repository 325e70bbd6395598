"""Pictures: the step x frame grid of x0_hat and its animation over steps (more maps live beside it)."""

from interp.viz.steps_grid import decode_x0, step_frame_grid, steps_gif

__all__ = ["decode_x0", "step_frame_grid", "steps_gif"]
