"""The maze ``cos demo`` shows: one where the early steps draw several routes and the answer commits later.

Most held-out mazes are decided at step 0, so a demo on an arbitrary maze draws identical rows.
The demo's maze is picked by a stated, seeded rule instead (:func:`pick_maze`):

    Scan held-out mazes ``generate_maze(size, seed)`` for ``seed = first_seed, first_seed + 1, ...``
    and keep those with two or more shortest routes. Solve each with noise seed ``noise_seed`` in
    ``num_steps`` steps. Pick the first maze for which

    1. the finished video draws a shortest route exactly (the scorer's ``exact``);
    2. at step 0, x0_hat's last frame paints another shortest route too: the mean route-colour
       affinity of units on a shortest route but off the final one is at least ``min_alternative``
       (0.25: a quarter of full route colour; 0 is floor, 1 is route colour);
    3. the answer commits late: the route decoded from x0_hat's last frame still differs from the
       final route at step ``min_commit - 1`` (default: changes after step 3).

With the defaults (5x5, from seed 900_000, noise seed 0, 20 steps) the rule picks
:data:`DEMO_SEED`; a test re-derives it. The per-step numbers of one maze (its Chain-of-Steps
curve) come from :func:`trajectory`, which the demo applies to its stored x0_hat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from interp.errors import InputError, check_range
from interp.organism.cos_curve import affinity, unit_colours
from interp.organism.data import EVAL_SEED_LIMIT

DEMO_SIZE = 5
DEMO_FIRST_SEED = 900_000
#: what :func:`pick_maze` returns with its defaults (held out: below ``EVAL_SEED_LIMIT``)
DEMO_SEED = 900_010
MIN_ALTERNATIVE = 0.25
MIN_COMMIT = 4


@dataclass
class Trajectory:
    """Per-step route colour of one solved maze, read from x0_hat's last frame.

    ``final``, ``alternative``, ``other``: mean route-colour affinity per step of the units on the
    final route, on other shortest routes (off the final one) and on the remaining floor.
    ``commit_step``: first step from which the decoded route equals the final one for good.
    """

    size: int
    seed: int
    routes: int
    exact: bool
    final: list[float]
    alternative: list[float]
    other: list[float]
    commit_step: int

    def accepted(self, min_alternative: float = MIN_ALTERNATIVE, min_commit: int = MIN_COMMIT) -> bool:
        """Whether this maze passes the rule of the module (conditions 1-3)."""
        return bool(self.exact and self.alternative[0] >= min_alternative and self.commit_step >= min_commit)

    def to_dict(self) -> dict:
        return asdict(self)


def to_pixels(x0: torch.Tensor) -> np.ndarray:
    """x0_hat ``[3, F, H, W]`` in [-1, 1] -> uint8 video ``[F, H, W, 3]`` (the organism's decoding)."""
    return ((x0.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 3, 0).numpy()


def trajectory(maze, x0: torch.Tensor | np.ndarray, video: np.ndarray, config) -> Trajectory:
    """The Chain-of-Steps numbers of one maze from its x0_hat at every step ``[S, 3, F, H, W]``."""
    from interp.tasks import PATH, label_grid
    from interp.tasks.score import decode_labels, score_output

    x0 = torch.as_tensor(np.asarray(x0)) if not isinstance(x0, torch.Tensor) else x0
    if x0.ndim != 5 or x0.shape[1] != 3:
        raise InputError(f"x0_hat must be [step, 3, frame, H, W]; got shape {tuple(x0.shape)}")
    floor_units = label_grid(maze, upto=0) == 0
    final = (decode_labels(video, maze, palette=config.palette)[-1] == PATH) & floor_units
    on_routes = np.zeros_like(floor_units)
    for route in maze.routes:
        for r, c in route:
            on_routes[r, c] = True
    masks = {"final": final, "alternative": on_routes & floor_units & ~final, "other": floor_units & ~on_routes & ~final}
    colours = config.palette_colors
    a = affinity(unit_colours(x0[:, :, -1], config.px_per_unit), colours["floor"], colours["path"])  # [S, U, U]
    curves = {k: [round(float(a[s][m].mean()), 4) if m.any() else float("nan") for s in range(len(a))]
              for k, m in masks.items()}
    decoded = [(decode_labels(to_pixels(x0[s]), maze, palette=config.palette)[-1] == PATH) & floor_units
               for s in range(len(x0))]
    commit = len(decoded) - 1
    while commit > 0 and np.array_equal(decoded[commit - 1], final):
        commit -= 1
    if not np.array_equal(decoded[commit], final):
        commit = len(decoded)  # never matches: the last x0_hat and the video disagree
    exact = bool(score_output(video, maze, palette=config.palette).exact)
    return Trajectory(maze.size, maze.seed, len(maze.routes), exact, curves["final"], curves["alternative"],
                      curves["other"], commit)


def pick_maze(organism=None, *, size: int = DEMO_SIZE, first_seed: int = DEMO_FIRST_SEED, noise_seed: int = 0,
              num_steps: int = 20, min_alternative: float = MIN_ALTERNATIVE, min_commit: int = MIN_COMMIT,
              batch: int = 4, max_candidates: int = 64):
    """Apply the rule of the module; returns ``(maze, trajectory)`` of the first accepted maze.

    Example:
        >>> maze, t = pick_maze(first_seed=900_009)   # doctest: +SKIP
        >>> maze.seed, t.commit_step                  # doctest: +SKIP
        (900010, 8)
    """
    from interp.interventions import observe, run
    from interp.models.maze_organism import OrganismModel
    from interp.organism.evaluate import first_frames, load
    from interp.tasks import generate_maze

    check_range("maze size", size, 4, 12)
    check_range("num_steps", num_steps, min_commit + 1, 1000)
    check_range("first_seed", first_seed, 0, EVAL_SEED_LIMIT - 1)
    organism = load(organism)
    cfg = organism.config
    seed, tried = first_seed, 0
    while tried < max_candidates:
        candidates = []
        while len(candidates) < batch and seed < EVAL_SEED_LIMIT:
            maze = generate_maze(size, seed, extra_openings=cfg.extra_openings)
            seed += 1
            if len(maze.routes) >= 2:
                candidates.append(maze)
        if not candidates:
            break
        model = OrganismModel(organism)
        inputs = model.prepare(first_frame=first_frames(candidates, organism), seeds=[noise_seed] * len(candidates))
        result = run(model, inputs, observe("x0"), num_steps=num_steps, progress=False)
        x0 = result.trajectory("x0").cpu().transpose(0, 1)  # [B, S, 3, F, H, W]
        for i, maze in enumerate(candidates):
            found = trajectory(maze, x0[i], result.video[i], cfg)
            if found.accepted(min_alternative, min_commit):
                return maze, found
        tried += len(candidates)
    raise InputError(f"no {size}x{size} maze from seed {first_seed} among {tried} multi-route candidates passes "
                     f"the rule (alternative affinity >= {min_alternative} at step 0, commit at step >= {min_commit})")
