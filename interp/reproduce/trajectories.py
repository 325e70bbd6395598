"""x0_hat trajectories of held-out mazes: moved beside the maze task, :mod:`interp.tasks.maze_trajectories`
(this name stays for old imports)."""

from interp.tasks.maze_trajectories import (  # noqa: F401
    FIRST_SEED, Trajectories, cached_samples, cos_samples, final_answers, heldout, same_size_batches,
    sample_from_dict, trace_x0,
)
