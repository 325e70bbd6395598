"""Interventions: one mechanism for every causal edit of a denoising run.

An :class:`Intervention` is where (:class:`At`: a site, steps, guidance branch, expert, samples,
tokens) plus what (an action: :class:`Set`, :class:`Add`, :class:`Zero`, :class:`Scale`,
:class:`Mean`, :class:`Noise`, :class:`Project`, :class:`Patch`, :class:`Swap`, :class:`Merge`,
:class:`Collect`, :class:`Apply`, :class:`Redraw`, :class:`Cool`). :func:`run` executes a list of them and is the
one way to run or observe a model (:func:`observe` collects ``x_t`` / ``x0``); :func:`run_with_cache`
is the in-memory capture; :func:`interp.capture.capture` streams ``collect`` into a store.

Example:
    >>> from interp.interventions import At, Intervention, Noise, Tokens, dumps
    >>> noise_frame_2 = Intervention(At("x_t", steps=[5], tokens=Tokens.in_frames(2)), Noise(std=0.5, seed=1))
    >>> dumps([noise_frame_2])[:60]
    '[{"at": {"branch": null, "expert": null, "samples": null, "si'
"""

from interp.interventions.actions import (
    ACTIONS, Action, Add, Apply, Collect, Context, Cool, Mean, Merge, Noise, Patch, Project, Redraw, RenoiseMerge, Scale, Set,
    Swap, Zero,
    action_from_dict,
)
from interp.interventions.cache import ActivationCache
from interp.interventions.intervention import Intervention, dumps, loads
from interp.interventions.executor import RunResult, observe, plan, run
from interp.interventions.sources import run_with_cache
from interp.interventions.where import At, Tokens

__all__ = [
    "ACTIONS", "Action", "ActivationCache", "Add", "Apply", "At", "Collect", "Context", "Cool", "Intervention", "Mean",
    "Merge", "Noise", "Patch", "Project", "Redraw", "RenoiseMerge", "RunResult", "Scale", "Set", "Swap", "Tokens", "Zero",
    "action_from_dict", "dumps", "loads", "observe", "plan", "run", "run_with_cache",
]

from interp.interventions.patching import PatchGrid, patch_sweep  # noqa: E402

__all__ += ["PatchGrid", "patch_sweep"]
