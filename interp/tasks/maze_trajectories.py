"""x0_hat trajectories of held-out mazes, and their Chain-of-Steps metrics.

One sampling run per batch of mazes; after every denoising step the clean-video estimate
``x0_hat`` is kept as uint8 frames (the organism works in pixel space, so no decoder is needed)
and every maze's trajectory is read by :func:`interp.metrics.cos.cos_metrics`.

Examples:
    >>> from interp.tasks.maze_trajectories import heldout
    >>> [m.size for m in heldout([5], 2, multi_route=True)]
    [5, 5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interp.errors import check_range
from interp.organism.data import EVAL_SEED_LIMIT

# held-out maze seeds used by these experiments: inside the evaluation range, away from the
# seeds of the organism's own accuracy table (0..) and of the patching pairs (910_000..)
FIRST_SEED = 500_000


def heldout(sizes, count: int, *, multi_route: bool = False, first_seed: int = FIRST_SEED,
            extra_openings: float = 0.1) -> list:
    """``count`` held-out mazes per size; with ``multi_route`` only mazes with 2+ shortest routes
    (the only mazes on which several candidate routes can be told from one)."""
    from interp.tasks import generate_maze

    check_range("count", count, 1, 100_000)
    mazes = []
    for size in sizes:
        found, seed = [], first_seed
        while len(found) < count and seed < EVAL_SEED_LIMIT:
            maze = generate_maze(size, seed, extra_openings=extra_openings)
            if not multi_route or len(maze.routes) >= 2:
                found.append(maze)
            seed += 1
        mazes.extend(found)
    return mazes


@dataclass
class Trajectories:
    """x0_hat per step (uint8 ``[N, S, F, H, W, 3]``), final videos ``[N, F, H, W, 3]`` and mazes
    (lists of per-maze arrays when the mazes have several sizes)."""

    mazes: list
    x0: np.ndarray
    videos: np.ndarray
    num_steps: int
    noise_seed: int


def trace_x0(model, mazes, *, num_steps: int | None = None, noise_seed: int = 0, batch: int = 64) -> Trajectories:
    """Solve ``mazes`` with the organism adapter ``model``, keeping x0_hat of every step.

    Maze ``i`` uses noise seed ``noise_seed + i``.
    """
    from interp.interventions import observe, run
    from interp.metrics.cos import model_space_to_uint8
    from interp.organism.evaluate import first_frames

    num_steps = num_steps or model.organism.config.num_inference_steps
    x0s, videos = [], []
    for lo, chunk in same_size_batches(mazes, batch):
        inputs = model.prepare(first_frame=first_frames(chunk, model.organism),
                               seeds=[noise_seed + lo + i for i in range(len(chunk))])
        result = run(model, inputs, observe("x0"), num_steps=num_steps, progress=False)
        x0 = result.trajectory("x0").float().permute(1, 0, 3, 4, 5, 2).cpu().numpy()
        x0s.append(model_space_to_uint8(x0))                    # [B, S, F, H, W, 3]
        videos.append(result.video)
    if len({x.shape for x in x0s}) > 1:                          # several sizes: keep a list per maze
        return Trajectories(list(mazes), [x for b in x0s for x in b], [v for b in videos for v in b],
                            num_steps, noise_seed)
    return Trajectories(list(mazes), np.concatenate(x0s), np.concatenate(videos), num_steps, noise_seed)


def same_size_batches(mazes, batch: int):
    """``(first index, mazes)`` chunks of at most ``batch`` consecutive mazes of one size (one tensor each)."""
    lo = 0
    while lo < len(mazes):
        hi = lo + 1
        while hi < len(mazes) and hi - lo < batch and mazes[hi].size == mazes[lo].size:
            hi += 1
        yield lo, mazes[lo:hi]
        lo = hi


def cos_samples(traj: Trajectories, *, palette: str = "default", threshold: float = 0.5, scorer=None) -> list:
    """:class:`~interp.metrics.cos.CosSample` of every maze of ``traj``; with ``scorer`` (e.g.
    :func:`interp.tasks.walk_score.scorer_for` a walker) its reading of each final video is the sample's
    final answer (``final_exact``: right at the end, so self-correction is wrong at a step and then
    exact by that scorer)."""
    import dataclasses

    from interp.metrics.cos import cos_metrics

    samples = [cos_metrics(x0, maze, palette=palette, threshold=threshold) for x0, maze in zip(traj.x0, traj.mazes)]
    if scorer is None:
        return samples
    exact = [bool(scorer(video, maze).exact) for video, maze in zip(traj.videos, traj.mazes)]
    return [dataclasses.replace(s, final_exact=e, self_correction=s.wrong & e) for s, e in zip(samples, exact)]


def final_answers(videos: np.ndarray, mazes, *, palette: str = "default", scorer=None) -> tuple[list, np.ndarray]:
    """The painted unit set of each final video and whether it is a shortest route (with ``scorer``,
    e.g. :func:`interp.tasks.walk_score.scorer_for` a walker: whether that scorer calls it exact)."""
    from interp.metrics.cos import cos_metrics

    rows = [cos_metrics(v[None], m, palette=palette) for v, m in zip(videos, mazes)]
    if scorer is None:
        correct = [r.final_correct for r in rows]
    else:
        correct = [bool(scorer(v, m).exact) for v, m in zip(videos, mazes)]
    return [r.answers[-1] for r in rows], np.array(correct)


def sample_from_dict(d: dict):
    """Rebuild a :class:`~interp.metrics.cos.CosSample` from its :meth:`to_dict` form."""
    from interp.metrics.cos import CosSample

    arrays = {k: np.asarray(d[k], dtype=bool if isinstance(d[k][0], bool) else int if k != "scaffold_agreement" else float)
              for k in ("candidates", "candidates_capped", "shortest_shown", "side_branches", "answer_correct",
                        "crosses_wall", "off_route", "wrong", "self_correction", "scaffold_correct",
                        "scaffold_agreement")}
    return CosSample(size=d["size"], seed=d["seed"], threshold=d["threshold"], steps=list(d["steps"]),
                     commitment_step=d["commitment_step"], perception_step=d["perception_step"],
                     action_step=d["action_step"], final_exact=d.get("final_exact"),
                     answers=[frozenset(tuple(u) for u in a) for a in d["answers"]], **arrays)


def cached_samples(model, *, sizes, count: int, thresholds=(0.5,), num_steps: int | None = None,
                   noise_seed: int = 0, batch: int = 64, cache=None, palette: str = "default") -> dict:
    """``{threshold: [CosSample]}`` for held-out multi-route mazes, computed once per setting.

    Several experiments read the same trajectories; with ``cache`` (a JSON path) the metrics of
    a previous call with the same settings and the same model weights are reused, so that one
    sampling run serves them all. A walker's final videos are read by its walk scorer
    (:func:`interp.tasks.walk_score.scorer_for`: right at the end means route and walk exact).
    """
    import json
    import os
    from dataclasses import asdict
    from pathlib import Path

    from interp.tasks.walk_score import scorer_for

    scorer = scorer_for(model)
    key = {"sizes": list(sizes), "count": count, "thresholds": list(thresholds), "num_steps": num_steps,
           "noise_seed": noise_seed, "first_seed": FIRST_SEED, "model": model.fingerprint()}
    if scorer is not None:
        key["scorer"] = {"name": type(scorer).__name__, **asdict(scorer)}
    path = Path(cache) if cache else None
    if path is not None and path.exists():
        stored = json.loads(path.read_text())
        if stored.get("key") == key:
            return {float(t): [sample_from_dict(d) for d in rows] for t, rows in stored["samples"].items()}
    traj = trace_x0(model, heldout(sizes, count, multi_route=True), num_steps=num_steps, noise_seed=noise_seed,
                    batch=batch)
    out = {float(t): cos_samples(traj, palette=palette, threshold=t, scorer=scorer) for t in thresholds}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.part")     # whole or absent: runs in parallel share the file
        part.write_text(json.dumps({"key": key, "samples": {str(t): [s.to_dict() for s in rows]
                                                             for t, rows in out.items()}}))
        os.replace(part, path)
    return out
