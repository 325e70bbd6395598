"""Reproduce the paper claim by claim on the maze organism.

* :mod:`interp.tasks.maze_trajectories` (old name :mod:`interp.reproduce.trajectories`): x0_hat of every step for many held-out mazes, read into
  Chain-of-Steps metrics (:mod:`interp.metrics.cos`);
* :mod:`interp.reproduce.claims`: one summary per claim (figures with 95% intervals and n, and a
  reading of them in words; the verdict is the claims registry's rule on those figures);
* :mod:`interp.reproduce.renoise`: is the plan fixed early? Redraw the noise after step k and
  see whether the final answer changes;
* :mod:`interp.reproduce.plots`: the figures;
* the claims and their rules: :mod:`interp.registry` (``experiments/claims.toml``).

The experiment scripts in ``experiments/`` only parse ``--preset`` and call these functions.
"""
