"""Reproduce the paper claim by claim on the maze organism.

* :mod:`interp.reproduce.trajectories`: x0_hat of every step for many held-out mazes, read into
  Chain-of-Steps metrics (:mod:`interp.metrics.cos`);
* :mod:`interp.reproduce.claims`: one summary per claim (figures with 95% intervals and n, a
  verdict by a stated rule);
* :mod:`interp.reproduce.renoise`: is the plan fixed early? Redraw the noise after step k and
  see whether the final answer changes;
* :mod:`interp.reproduce.plots`: the figures;
* :mod:`interp.reproduce.registry`: every experiment script, for ``make reproduce``.

The experiment scripts in ``experiments/`` only parse ``--preset`` and call these functions.
"""
