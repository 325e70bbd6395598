"""Training and held-out walks, deterministic per (run seed, step); the split is the maze organism's.

Training mazes use generator seeds at or above ``TRAIN_SEED_BASE``; held-out evaluation uses
seeds below ``EVAL_SEED_LIMIT`` (:mod:`interp.organism.data`). Workers send unit labels
(``[B, F, U, U]`` uint8), not pixels; :func:`labels_to_model` colours them on the device.
"""

from __future__ import annotations

import numpy as np
import torch

from interp.organism.data import EVAL_SEED_LIMIT, SEEDS_PER_STEP, TRAIN_SEED_BASE, size_for_step
from interp.tasks.walk import TARGETS, generate_walk_maze, walk_labels, walk_palette_array

__all__ = ["EVAL_SEED_LIMIT", "WalkStepDataset", "heldout_walks", "labels_to_model", "walk_batch"]


def walk_batch(step: int, size: int, batch_size: int, *, run_seed: int, num_frames: int, hold: int,
               units_per_frame: int, extra_openings: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels uint8 ``[B, F, U, U]`` and target indices int64 ``[B]`` (0 goal, 1 key) of one step.

    Targets alternate within the batch (both answers of the task in every batch); where a target
    has several shortest routes one is drawn at random.
    """
    base = TRAIN_SEED_BASE + (run_seed * 10_000_000 + step) * SEEDS_PER_STEP
    rng = np.random.default_rng([run_seed, step, 3])
    labels, targets = [], []
    for i in range(batch_size):
        walk = generate_walk_maze(size, base + i, extra_openings=extra_openings)
        target = (i + step) % 2
        routes = walk.routes(TARGETS[target])
        labels.append(walk_labels(walk, TARGETS[target], num_frames, route_index=int(rng.integers(len(routes))),
                                  hold=hold, units_per_frame=units_per_frame))
        targets.append(target)
    return np.stack(labels), np.asarray(targets, dtype=np.int64)


class WalkStepDataset(torch.utils.data.Dataset):
    """Item ``k`` is training step ``k``'s batch: ``(size, labels, targets)``."""

    def __init__(self, *, run_seed: int, sizes, weights, tokens_per_batch: int, tokens_per_frame_unit: float,
                 num_frames: int, hold: int, units_per_frame: int, extra_openings: float):
        self.run_seed, self.sizes, self.weights = run_seed, list(sizes), list(weights)
        self.tokens_per_batch = tokens_per_batch
        self.tokens_per_frame_unit = tokens_per_frame_unit
        self.kw = dict(num_frames=num_frames, hold=hold, units_per_frame=units_per_frame,
                       extra_openings=extra_openings)

    def batch_size(self, size: int) -> int:
        """Videos per batch, even (two experts take half each): about ``tokens_per_batch`` tokens."""
        tokens = self.tokens_per_frame_unit * self.kw["num_frames"] * (2 * size + 1) ** 2
        return max(2, min(SEEDS_PER_STEP, int(self.tokens_per_batch // tokens)) // 2 * 2)

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, step: int):
        size = size_for_step(step, self.run_seed, self.sizes, self.weights)
        labels, targets = walk_batch(step, size, self.batch_size(size), run_seed=self.run_seed, **self.kw)
        return size, torch.from_numpy(labels), torch.from_numpy(targets)


def labels_to_model(labels: torch.Tensor, px_per_unit: int) -> torch.Tensor:
    """Walk labels ``[B, F, U, U]`` to model pixels ``[B, 3, F, U * px, U * px]`` in ``[-1, 1]``."""
    palette = torch.as_tensor(walk_palette_array(), device=labels.device).float().div(127.5).sub(1.0)
    x = palette[labels.long()]  # [B, F, U, U, 3]
    x = x.repeat_interleave(px_per_unit, dim=2).repeat_interleave(px_per_unit, dim=3)
    return x.permute(0, 4, 1, 2, 3).contiguous()


def heldout_walks(size: int, count: int, *, first_seed: int = 0, extra_openings: float = 0.1) -> list:
    """Held-out walk mazes: generator seeds ``first_seed .. first_seed + count - 1``."""
    from interp.errors import InputError

    if first_seed < 0 or first_seed + count > EVAL_SEED_LIMIT:
        raise InputError(f"held-out seeds {first_seed}..{first_seed + count - 1} leave 0..{EVAL_SEED_LIMIT - 1}")
    return [generate_walk_maze(size, first_seed + i, extra_openings=extra_openings) for i in range(count)]
