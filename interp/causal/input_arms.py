"""Noise, erase and swap on any model's own inputs: prompts, prompt pairs or first-frame image pairs.

The organism's maze experiments (``experiments/noise_step_vs_frame.py``, ``erase_candidates.py``,
``layer_swap.py``) read their answers off mazes; these are the same edits for a task of inputs
(:class:`~interp.tasks.input_pairs.InputPairTask`, or any :class:`~interp.tasks.interface.PairTask`)
on any supported model, scored by the task's metric (by default
:class:`~interp.tasks.interface.Distance` of the final latents). An **arm** is a list of
interventions and the step its runs start at; every arm runs every input (each pair's clean
member) from the clean run's state entering that step (nothing changes before it), through the
one executor, :func:`interp.interventions.run`:

* :func:`noise_arms_for`: Gaussian noise in x_t at one step (every frame) or in one latent frame at
  every step, of absolute std, or scaled to the step's own noise level (:mod:`interp.causal.noise`);
* :func:`erase_arms`: a region of x0_hat set to ``fill`` at one step, x_t re-formed at the same
  noise level with the run's own noise (:func:`interp.causal.erase.erase_edit`; flow-matching
  families only);
* :func:`swap_arms`: one layer's block site at one step replaced by the partner's values
  (:func:`interp.causal.swap.swap_at`): each pair's corrupted run, or for single inputs the next
  input's run (``partner="self"``: the input's own run, a control that must change nothing).

Input ``i`` runs with noise seed ``noise_seed + i``. The metric gets the clean run as its
reference and, as the other one, the corrupted run (pairs) or the partner's run (a swap of single
inputs): ``preference`` 1 is the clean output, -1 the other's. Single inputs with no other run are
measured by ``clean_distance`` and ``relative_distance``.

Example:
    >>> runs = clean_runs(model, task, num_steps=4, steps=[0, 2], sites=["x0"])       # doctest: +SKIP
    >>> study = run_arms(model, runs, noise_arms_for(model, runs, strengths=[0.5], steps=[0, 2]), "noise")  # doctest: +SKIP
    >>> study.summary()["arms"][0]["name"]                                             # doctest: +SKIP
    'step0/std0.5'
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from interp.errors import InputError

#: What a study writes into its folder.
OUTPUTS = ("result.json", "arms.png")


@dataclass
class Arm:
    """One condition: its interventions, the step its runs start at, and the sources they patch from."""

    name: str
    start: int
    interventions: list
    sources: dict = field(default_factory=dict)


@dataclass
class CleanRuns:
    """The unedited runs a study edits and measures against.

    Attributes:
        inputs: the clean inputs (one row per input or pair).
        clean: the clean run, with ``x_t`` (and the asked sites) cached at the asked steps.
        corrupt: each pair's corrupted run (``None`` for single inputs), its block sites cached.
        task, num_steps, steps: what made them.
    """

    inputs: object
    clean: object
    corrupt: object
    task: object
    num_steps: int
    steps: list

    @property
    def size(self) -> int:
        return int(self.inputs.batch_size)

    def x_t(self, step: int):
        """The clean run's state entering ``step``, ``[B, C, F, H, W]``."""
        from interp.interventions.executor import token_latents

        return token_latents(self.clean.cache.get("x_t", step), tuple(self.inputs.latents.shape[-3:]))

    def x0(self, step: int):
        """The clean run's estimate x0_hat at ``step``, ``[B, C, F, H, W]``."""
        from interp.interventions.executor import token_latents

        return token_latents(self.clean.cache.get("x0", step), tuple(self.inputs.latents.shape[-3:]))


def clean_runs(model, task, *, num_steps: int, steps: Sequence[int], sites: Sequence[str] = (),
               other_sites: Sequence[str] = (), noise_seed: int = 0) -> CleanRuns:
    """Run ``task``'s clean inputs (and corrupted ones, for pairs) once, keeping ``x_t`` and ``sites``
    of the clean run and ``other_sites`` of the corrupted run at ``steps`` (block sites in every
    guidance branch)."""
    from interp.interventions import run_with_cache
    from interp.tasks.interface import is_paired

    steps = sorted({int(s) for s in steps})
    for s in steps:
        if not 0 <= s < num_steps:
            raise InputError(f"step {s} is outside the schedule: choose 0..{num_steps - 1}")
    seeds = [noise_seed + i for i in range(task.num_pairs())]
    inputs = task.inputs(model, "clean", seeds)
    branches = ("cond", "uncond") if inputs.do_guidance else ("cond",)
    options = dict(steps=steps, branches=branches, num_steps=num_steps, progress=False)
    keep = bool(steps)  # with no step chosen, arms start at step 0 and read nothing of the clean run
    clean = run_with_cache(model, inputs, ["x_t", *sites] if keep else [], **options)
    corrupt = None
    if is_paired(task):
        corrupt = run_with_cache(model, task.inputs(model, "corrupt", seeds), list(other_sites) if keep else [],
                                 **options)
    return CleanRuns(inputs, clean, corrupt, task, num_steps, steps)


@dataclass
class _Partner:
    """Another input's run, seen row by row as the partner of each input (``.latents``, ``.video``)."""

    run: object
    take: list

    @property
    def latents(self):
        return self.run.latents[self.take]

    @property
    def video(self):
        return None if self.run.video is None else self.run.video[self.take]


def noise_arms_for(model, runs: CleanRuns, *, strengths: Sequence[float] = (), steps: Sequence[int] = (),
                   frames: Sequence[int] = (), ratios: Sequence[float] = ()) -> list[Arm]:
    """Noise in every frame at each of ``steps`` and in each latent frame of ``frames`` at every step,
    of each std of ``strengths`` and of each ``ratio`` times the step's sigma (names as
    :func:`interp.causal.noise.noise_arms`)."""
    from interp.causal.noise import noise_arms
    from interp.sampling import schedule

    if not strengths and not ratios:
        raise InputError("give a noise strength (--std) or a ratio to the step's noise level (--ratio)")
    if not steps and not frames:
        raise InputError("give steps (--steps) or latent frames (--frames) to add noise at")
    sigmas = schedule(model, runs.num_steps, None, runs.inputs)[2][:runs.num_steps].tolist() \
        if ratios else None
    made = noise_arms(list(strengths), list(steps), list(frames), [], num_steps=runs.num_steps,
                      num_frames=int(runs.inputs.latents.shape[2]), ratios=list(ratios), sigmas=sigmas)
    rows = list(range(runs.size))
    return [Arm(name, start, edits(rows)) for name, start, edits in made]


def latent_region(name: str, grid) -> np.ndarray:
    """Bool ``[F * H * W]`` over latent tokens: ``all``, ``frame:K`` (latent frame K), ``none`` (no token)."""
    from interp.interventions import Tokens

    f = grid[0]
    if name == "none":
        return np.zeros(int(np.prod(grid)), bool)
    if name == "all":
        tokens = Tokens.all()
    elif name.startswith("frame:") and name[6:].isdigit() and int(name[6:]) < f:
        tokens = Tokens.in_frames(int(name[6:]))
    else:
        raise InputError(f"unknown region {name!r}: valid are all, none and frame:K with K in 0..{f - 1}")
    return tokens.mask(tuple(grid), 1)[0].numpy()


def erase_arms(model, runs: CleanRuns, *, steps: Sequence[int], regions: Sequence[str], fill: float = 0.0) -> list[Arm]:
    """Erase each of ``regions`` (:func:`latent_region`) from x0_hat at each of ``steps``: the region's
    latents take ``fill`` and x_t is re-formed at the step's noise level (``runs`` must hold ``x0``)."""
    from interp.causal.erase import erase_edit

    grid = tuple(runs.inputs.latents.shape[-3:])
    arms = []
    for step in steps:
        x_t, x0 = runs.x_t(step), runs.x0(step)
        for region in regions:
            mask = np.repeat(latent_region(region, grid)[None], runs.size, axis=0)
            edit = erase_edit(model, runs.inputs, step=step, mask=mask, fill=fill, x_t=x_t, x0=x0,
                              num_steps=runs.num_steps)
            arms.append(Arm(f"step{step}/{region}", step, [edit]))
    return arms


def partners_of(runs: CleanRuns, partner: str) -> tuple[object, list[int]]:
    """Where a swap takes its values: ``(source run, row of each input)``; ``partner`` is ``pair``
    (each pair's corrupted run), ``next`` (the next input, cyclically) or ``self`` (its own run)."""
    rows = list(range(runs.size))
    if partner == "pair":
        if runs.corrupt is None:
            raise InputError("a swap with the pair's partner needs pairs (--prompt-pairs, --image-pairs)")
        return runs.corrupt, rows
    if partner == "next":
        if runs.size < 2:
            raise InputError("a swap with the next input needs at least two inputs")
        return runs.clean, rows[1:] + rows[:1]
    if partner == "self":
        return runs.clean, rows
    raise InputError(f"unknown swap partner {partner!r}: valid are pair, next, self")


def swap_arms(runs: CleanRuns, *, layers: Sequence[int], steps: Sequence[int], site: str = "resid_post",
              partner: str = "pair") -> list[Arm]:
    """Block ``site`` of each of ``layers`` at each of ``steps`` replaced by the partner's (:func:`partners_of`)."""
    from interp.causal.swap import swap_at

    source, take = partners_of(runs, partner)
    return [Arm(f"step{step}/layer{layer}", step, swap_at(layer, step, take=take, source="other", site=site),
                {"other": source.cache})
            for step in steps for layer in layers]


@dataclass
class ArmStudy:
    """Every arm's metric values per input, the clean run's, and the record."""

    experiment: str
    values: dict
    reference: dict
    starts: dict
    meta: dict

    def summary(self) -> dict:
        """Means with a bootstrap 95% interval over inputs, per arm and metric (``result.json``)."""
        from interp.stats import mean_ci

        def stats(values: dict) -> dict:
            return {name: {**mean_ci(v[np.isfinite(v)]), "values": [None if not np.isfinite(x) else round(float(x), 6)
                                                                      for x in v]}
                    for name, v in values.items()}

        return {"experiment": self.experiment, "n_inputs": len(next(iter(self.reference.values()))),
                "meta": self.meta, "clean": stats(self.reference),
                "arms": [{"name": name, "start": self.starts[name], **stats(values)}
                         for name, values in self.values.items()]}


def run_arms(model, runs: CleanRuns, arms: Sequence[Arm], experiment: str, *, partner: str | None = None,
             record: dict | None = None) -> ArmStudy:
    """Run every arm from the clean run's state at its start and score it with the task's metric."""
    from interp.interventions import run

    began = time.perf_counter()
    other = runs.corrupt
    if partner in ("next", "self"):
        source, take = partners_of(runs, partner)
        other = _Partner(source, take)
    metric = runs.task.metric(model, runs.clean, other)
    rows = list(range(runs.size))
    values = {}
    for arm in arms:
        start = runs.inputs.take(rows, latents=runs.x_t(arm.start)) if arm.start else runs.inputs
        out = run(model, start, arm.interventions, num_steps=runs.num_steps, start_step=arm.start,
                  sources=arm.sources, progress=False)
        values[arm.name] = _score(metric, out, rows)
    meta = {**(record or {}), "task": runs.task.describe(), "num_steps": runs.num_steps,
            "seconds": round(time.perf_counter() - began, 1)}
    return ArmStudy(experiment, values, _score(metric, runs.clean, rows), {a.name: a.start for a in arms}, meta)


def _score(metric, result, rows) -> dict:
    outputs = result.latents if getattr(metric, "reads", "video") == "latents" else result.video
    return {name: np.asarray(v, float).reshape(-1) for name, v in metric(outputs, rows).items()}


def save_study(out, study: ArmStudy) -> dict:
    """Write ``result.json`` and ``arms.png`` (each arm's mean first metric with its interval) into ``out``."""
    from pathlib import Path

    from interp.outputs import save_figure, write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = study.summary()
    write_json(out / "result.json", summary)
    import matplotlib.pyplot as plt

    fig = _figure(summary)
    save_figure(fig, out / "arms.png")
    plt.close(fig)
    return summary


def _figure(summary: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = next(iter(summary["clean"]))
    arms = summary["arms"]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(arms) + 2), 3.2))
    means = [a[metric]["value"] if a[metric]["value"] is not None else np.nan for a in arms]
    lows = [m - a[metric]["ci95"][0] if a[metric]["ci95"] else 0 for m, a in zip(means, arms)]
    highs = [a[metric]["ci95"][1] - m if a[metric]["ci95"] else 0 for m, a in zip(means, arms)]
    ax.bar(range(len(arms)), means, yerr=[lows, highs], color="tab:blue", capsize=3)
    clean = summary["clean"][metric]["value"]
    if clean is not None:
        ax.axhline(clean, color="k", lw=1, ls="--", label="clean run")
        ax.legend(fontsize=8)
    ax.set_xticks(range(len(arms)), [a["name"] for a in arms], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(metric)
    ax.set_title(f"{summary['experiment']}: {summary['n_inputs']} inputs, mean and 95% interval", fontsize=9)
    fig.tight_layout()
    return fig
