"""cos-interp: open up video diffusion transformers while they reason.

The package is organised by concept: ``interp.tasks`` makes and scores problems,
``interp.models`` knows architectures, ``interp.interventions`` runs the denoising loop and
edits or observes it (``interp.run``), ``interp.capture`` and ``interp.store`` record traces,
``interp.metrics`` reads Chain-of-Steps metrics, ``interp.organism`` is the bundled
maze-solving Wan model. Linear probes live in the sibling package ``probes``.

What a user types first is importable from the top level (``interp.trace`` is
:func:`interp.capture.capture`: the name ``capture`` belongs to the subpackage); each name is imported on first use,
so ``import interp`` stays light (no torch until a model or sampler is touched).

Example:
    >>> import interp
    >>> maze = interp.generate_maze(5, seed=0)
    >>> interp.render_maze(maze).shape
    (22, 22, 3)
"""

from __future__ import annotations

from interp.errors import InputError
from interp.lazy import lazy_attributes

__version__ = "0.1.0"

# name -> module that defines it (imported on first access)
_LAZY = {
    # models
    "load_model": "interp.models",
    # tasks
    "generate_maze": "interp.tasks",
    "render_maze": "interp.tasks",
    "make_pairs": "interp.tasks",
    "load_task": "interp.tasks",
    "save_task": "interp.tasks",
    "score_video": "interp.tasks",
    # capture and the trace store (``interp.capture`` is the subpackage; its function is ``trace``)
    "trace": ("interp.capture", "capture"),
    "CaptureSpec": "interp.capture",
    "TraceStore": "interp.store",
    # running a model (the one entry), interventions and patching
    "run": "interp.interventions",
    "observe": "interp.interventions",
    "run_with_cache": "interp.interventions",
    "Intervention": "interp.interventions",
    "At": "interp.interventions",
    "Tokens": "interp.interventions",
    "Patch": "interp.interventions",
    "Noise": "interp.interventions",
    "Merge": "interp.interventions",
    "patch_sweep": "interp.interventions",
    # Chain-of-Steps metrics
    "cos_metrics": "interp.metrics.cos",
    # results
    "write_result": "interp.results",
    # the browser viewer of a trace
    "view": "interp.viewer",
}

__all__ = ["InputError", "__version__", *_LAZY]


__getattr__ = lazy_attributes(globals(), _LAZY)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
