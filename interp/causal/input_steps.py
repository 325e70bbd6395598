"""Chain-of-Steps metrics without a maze: how each step's estimate x0_hat approaches the answer.

On the organism ``cos cos-metrics`` reads routes off every step's x0_hat; on any model the answer
is the run's final output and the metrics are distances (RMS over every latent value):

* ``distance_to_final`` ``[S, B]``: x0_hat at step ``s`` to the run's final latents;
* ``relative_to_final``: that distance over step 0's (1 at the first step, 0 at the answer);
* ``commitment_step`` per input: the first step from which ``relative_to_final`` stays at or below
  ``tolerance`` (``None`` when it never does);
* with pairs, ``preference`` ``[S, B]``: where the clean run's x0_hat lies between the clean and the
  corrupted run's final latents (:class:`~interp.tasks.interface.Distance`: 1 at its own answer,
  -1 at the partner's), and ``separation_step``: the first step from which it stays above 0;
* a user's metric ``module:function`` (:data:`~interp.tasks.interface.Metric`) of each step's x0_hat,
  decoded to video unless it reads latents.

The trajectory comes from one run per member through :func:`interp.interventions.run`
(:func:`~interp.interventions.observe` of ``x0``), input ``i`` with noise seed ``noise_seed + i``;
a trace store's stored x0 (``cos trace --sites x0``) gives the same per-sample metrics.

Example:
    >>> x0 = np.stack([np.full((1, 2), v) for v in (4.0, 1.0, 0.0)])     # [S=3, B=1, 2 values]
    >>> m = convergence(x0, final=np.zeros((1, 2)), tolerance=0.3)
    >>> m["relative_to_final"][:, 0].tolist(), m["commitment_step"]
    ([1.0, 0.25, 0.0], [1])
"""

from __future__ import annotations

import numpy as np

#: What ``cos cos-metrics`` writes for inputs of any model.
OUTPUTS = ("metrics.json", "cos_metrics.png")


def _rms(a, b) -> np.ndarray:
    """RMS difference per leading index ``[B]`` of ``a`` and ``b`` ``[B, ...]``."""
    return np.sqrt(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).reshape(len(a), -1).mean(1))


def stays(flags: np.ndarray, steps) -> list:
    """Per column of ``flags`` ``[S, B]``: the first step label from which every later flag is True."""
    out = []
    for column in np.asarray(flags, bool).T:
        bad = np.flatnonzero(~column)
        first = 0 if not len(bad) else int(bad[-1]) + 1
        out.append(None if first >= len(column) else steps[first])
    return out


def convergence(x0, final, *, tolerance: float = 0.1, steps=None) -> dict:
    """Distances of x0_hat ``[S, B, ...]`` to the final latents ``[B, ...]`` (see the module docstring)."""
    x0 = np.asarray(x0, np.float64)
    steps = list(range(len(x0))) if steps is None else list(steps)
    distance = np.stack([_rms(x, final) for x in x0])
    first = np.broadcast_to(distance[0], distance.shape)
    # a run already at its answer at step 0 stays at relative distance 0 (not 0 / 0)
    relative = np.divide(distance, first, out=np.where(distance > 0, np.inf, 0.0), where=first > 0)
    return {"distance_to_final": distance, "relative_to_final": relative,
            "commitment_step": stays(relative <= tolerance, steps)}


def step_metrics(model, task, *, num_steps: int, noise_seed: int = 0, tolerance: float = 0.1,
                 user_metric=None) -> dict:
    """Run ``task``'s clean inputs (and corrupted ones, for pairs) keeping x0_hat at every step, and
    measure each step (see the module docstring). Returns the ``metrics.json`` record."""
    from interp.interventions import observe, run
    from interp.tasks.interface import Distance, checked_metric, is_paired

    seeds = [noise_seed + i for i in range(task.num_pairs())]
    clean_inputs = task.inputs(model, "clean", seeds)
    clean = run(model, clean_inputs, observe("x0"), num_steps=num_steps, progress=False, decode=False)
    steps = clean.cache.steps("x0")
    x0 = clean.trajectory("x0").double().cpu().numpy()                # [S, B, C, F, H, W]
    final = clean.latents.double().cpu().numpy()
    per_step = convergence(x0, final, tolerance=tolerance, steps=steps)
    per_input = {"commitment_step": per_step.pop("commitment_step")}
    if is_paired(task):
        corrupt = run(model, task.inputs(model, "corrupt", seeds), num_steps=num_steps, progress=False, decode=False)
        distance = Distance(final, corrupt.latents, reads="latents")
        rows = list(range(len(final)))
        per_step["preference"] = np.stack([distance(x, rows)["preference"] for x in x0])
        per_input["separation_step"] = stays(per_step["preference"] > 0, steps)
    if user_metric is not None:
        metric = checked_metric(user_metric)
        rows = list(range(len(final)))
        reads = getattr(metric, "reads", "video")
        values = [metric(x if reads == "latents" else model.decode(clean.at("x0", s)), rows) for x, s in zip(x0, steps)]
        for name in values[0]:
            per_step[name] = np.stack([v[name] for v in values])
    return {"task": task.describe(), "num_steps": num_steps, "steps": steps, "tolerance": tolerance,
            "per_step": {name: _summary(v) for name, v in per_step.items()}, "per_input": per_input}


def _summary(values: np.ndarray) -> dict:
    """``{"mean": [S], "values": [[B] per step]}`` with NaN as None."""
    clean = lambda x: None if not np.isfinite(x) else round(float(x), 6)  # noqa: E731
    mean = [clean(np.nanmean(row)) if np.isfinite(row).any() else None for row in values]
    return {"mean": mean, "values": [[clean(x) for x in row] for row in values]}


def plot_step_metrics(record: dict, path) -> None:
    """One panel per per-step metric: its mean over inputs at every step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from interp.outputs import save_figure

    names = list(record["per_step"])
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        mean = [np.nan if v is None else v for v in record["per_step"][name]["mean"]]
        ax.plot(record["steps"], mean, marker="o", ms=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("denoising step")
    fig.suptitle(f"x0_hat per step, mean over {len(record['per_input']['commitment_step'])} inputs", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
