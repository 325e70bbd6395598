"""What a task gives the causal tools: paired inputs, token regions and a metric.

The causal machinery (:func:`interp.interventions.patch_sweep`, the command line) names no task.
A task supplies, through :class:`PairTask`:

* ``inputs(model, which, seeds)``: the loop inputs of every pair's ``"clean"`` or ``"corrupt"``
  member, one batch row per pair;
* ``regions(model, inputs)``: named token regions to patch (a :class:`~interp.interventions.Tokens`
  for every pair, or a function of the pair index);
* ``metric(model, clean_run, corrupt_run)``: a function ``(outputs, pair indices) -> {name:
  values}`` scoring decoded videos (or final latents, if it has ``reads = "latents"``), given
  the clean and corrupted runs (:class:`~interp.interventions.RunResult`) as references;
* ``describe()``: what the task was, for the record.

Optional hooks (:class:`TaskHooks`) a task may add, and the tools use where it does:

* ``summarise(grid)``: the task's own summary of a patching grid (``result.json``), in place of
  every metric normalised (:meth:`~interp.interventions.PatchGrid.summary`);
* ``answer_map(metric, videos)``: a per-location reading of each video's answer (the maze's route
  colour per unit), drawn as the effect maps of the strongest cells.

A task of single inputs (prompts without partners) has no ``"corrupt"`` member: ``paired`` is
False and its metric gets ``None`` for the corrupted run.

The maze is one task (its pairs differ by one wall, its metric reads the route colour); a user's
prompts or first frames are another (:class:`interp.tasks.input_pairs.InputPairTask`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from interp.errors import InputError

#: ``metric(videos [R, F, H, W, 3] uint8 (or latents, with ``reads = "latents"``), pair indices) -> {name: values [R]}``.
Metric = Callable[[np.ndarray, Sequence[int]], dict]


@runtime_checkable
class PairTask(Protocol):
    """A task whose pairs the causal tools can run, patch and score."""

    name: str

    def num_pairs(self) -> int: ...

    def inputs(self, model, which: str, seeds: Sequence[int]): ...

    def regions(self, model, inputs) -> dict: ...

    def metric(self, model, clean_run, corrupt_run) -> Metric: ...

    def describe(self) -> dict: ...


@runtime_checkable
class TaskHooks(Protocol):
    """What a task may add to :class:`PairTask`; :func:`hook` finds it (``None`` where absent)."""

    def summarise(self, grid) -> dict: ...

    def answer_map(self, metric, videos) -> np.ndarray: ...


#: The optional hooks of :class:`TaskHooks`, by name.
HOOKS = ("summarise", "answer_map")


def hook(task, name: str):
    """``task``'s optional hook ``name`` (one of :data:`HOOKS`), or ``None`` when it has none."""
    if name not in HOOKS:
        raise InputError(f"unknown task hook {name!r}: valid are {', '.join(HOOKS)}")
    return getattr(task, name, None)


def is_paired(task) -> bool:
    """Whether ``task``'s inputs come in clean / corrupted pairs (tasks say so with ``paired``; default yes)."""
    return bool(getattr(task, "paired", True))


class Distance:
    """The generic metric: where a run's output lies between the clean and the corrupted run's.

    It reads final latents (``reads="latents"``: exact, and no decoding per cell) or decoded
    uint8 videos (``reads="video"``, scaled to [0, 1]). For each row, with RMS distances to its
    pair's clean output (``d_clean``) and corrupted output (``d_corrupt``), ``d`` between those two:

    * ``preference``: ``(d_corrupt - d_clean) / d``: 1 at the clean output, -1 at the corrupted one;
    * ``flip``: 1 when the output is nearer the clean output than the corrupted one;
    * ``clean_distance``: ``d_clean``.

    With no corrupted outputs (``corrupt=None``: single inputs, no partner), it gives
    ``clean_distance`` and ``relative_distance``, ``d_clean`` over the RMS of the clean output.

    Example:
        >>> clean = np.zeros((1, 2, 4, 4, 3), np.uint8); corrupt = np.full_like(clean, 255)
        >>> Distance(clean, corrupt, reads="video")(np.full_like(clean, 64), [0])["preference"].round(2)
        array([0.5])
    """

    def __init__(self, clean, corrupt=None, *, reads: str = "latents") -> None:
        if reads not in ("latents", "video"):
            raise InputError(f"Distance reads latents or video, not {reads!r}")
        self.reads = reads
        self.clean = self._array(clean)
        if corrupt is None:
            self.corrupt, self.between = None, None
            self.size = _rms(self.clean, np.zeros_like(self.clean))
            return
        self.corrupt = self._array(corrupt)
        if self.clean.shape != self.corrupt.shape:
            raise InputError(f"clean and corrupted outputs differ in shape: {self.clean.shape} vs {self.corrupt.shape}")
        self.between = _rms(self.clean, self.corrupt)

    def _array(self, value) -> np.ndarray:
        if hasattr(value, "detach"):
            value = value.detach().float().cpu().numpy()
        value = np.asarray(value, np.float64)
        return value / 255.0 if self.reads == "video" else value

    def __call__(self, outputs, rows: Sequence[int]) -> dict[str, np.ndarray]:
        rows = np.asarray(rows)
        outputs = self._array(outputs)
        d_clean = _rms(outputs, self.clean[rows])
        if self.corrupt is None:
            size = np.where(self.size[rows] > 0, self.size[rows], np.nan)
            return {"clean_distance": d_clean, "relative_distance": d_clean / size}
        d_corrupt = _rms(outputs, self.corrupt[rows])
        between = np.where(self.between[rows] > 0, self.between[rows], np.nan)
        # a pair whose two runs are one (a swap with the run itself) has no side to flip to
        flip = np.where(np.isnan(between), np.nan, (d_clean < d_corrupt).astype(float))
        return {"preference": (d_corrupt - d_clean) / between, "flip": flip, "clean_distance": d_clean}


def _rms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a - b) ** 2).reshape(len(a), -1).mean(axis=1))


def load_metric(spec: str) -> Callable:
    """``"package.module:function"`` -> the function (a user's metric, same signature as :data:`Metric`)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(f"metric {spec!r} must be written module:function (e.g. mymetrics:brightness)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise InputError(f"cannot import the metric's module {module_name!r}: {err}") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise InputError(f"module {module_name!r} has no function {attr!r}")
    return function


def checked_metric(function: Callable) -> Metric:
    """``function`` with its answers checked: a dict of one value per row (it keeps ``reads``)."""

    def metric(outputs, rows):
        out = function(outputs, rows)
        if not isinstance(out, dict) or not out:
            raise InputError(f"metric {getattr(function, '__name__', function)} returned {type(out).__name__}: "
                             "it must return {name: one value per row}")
        values = {str(k): np.asarray(v, float).reshape(-1) for k, v in out.items()}
        bad = [k for k, v in values.items() if len(v) != len(rows)]
        if bad:
            raise InputError(f"metric values {bad} do not have one value per row ({len(rows)} rows)")
        return values

    metric.reads = getattr(function, "reads", "video")
    return metric
