"""Metrics read from videos and x0_hat estimates of maze tasks.

* :mod:`interp.tasks.route_colour` (old name :mod:`interp.metrics.route_colour`): labels and route colour amount per grid unit, read with
  the scorer's decoder.
* :mod:`interp.metrics.cos`: Chain-of-Steps metrics per sample and denoising step (candidates,
  commitment, self-correction, working memory, perception before action) and their aggregate.
"""
