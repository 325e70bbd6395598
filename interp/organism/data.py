"""Training and held-out maze videos, deterministic per (run seed, step) so training can resume.

Split: held-out evaluation uses generator seeds ``0 <= seed < EVAL_SEED_LIMIT``; training uses
seeds at or above ``TRAIN_SEED_BASE`` (``generate_maze`` seeds its RNG with ``(seed, size)``, so
the two ranges never share a generator stream).
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.tasks import generate_maze, ground_truth_video

EVAL_SEED_LIMIT = 1_000_000
TRAIN_SEED_BASE = 1_000_000_000
#: Seeds reserved for one training step's batch; bounds the batch size.
SEEDS_PER_STEP = 4096


def size_for_step(step: int, run_seed: int, sizes: list[int], weights: list[float]) -> int:
    """The maze size used at ``step``: a seeded draw from the size mixture."""
    p = np.asarray(weights, dtype=float)
    rng = np.random.default_rng([run_seed, step, 1])
    return int(sizes[int(rng.choice(len(sizes), p=p / p.sum()))])


def training_batch(
    step: int,
    size: int,
    batch_size: int,
    *,
    run_seed: int,
    num_frames: int,
    px_per_unit: int,
    palette: str,
    extra_openings: float,
) -> np.ndarray:
    """uint8 ``[B, F, H, W, 3]`` ground-truth videos for one training step.

    Where a maze has several shortest routes, one is drawn at random, so the model learns every
    correct answer rather than the generator's enumeration order.
    """
    if batch_size > SEEDS_PER_STEP:
        raise InputError(f"batch size {batch_size} is out of range: choose 1..{SEEDS_PER_STEP}")
    base = TRAIN_SEED_BASE + (run_seed * 10_000_000 + step) * SEEDS_PER_STEP
    rng = np.random.default_rng([run_seed, step, 2])
    videos = []
    for i in range(batch_size):
        maze = generate_maze(size, base + i, extra_openings=extra_openings)
        route = int(rng.integers(len(maze.routes)))
        videos.append(
            ground_truth_video(maze, num_frames, route_index=route, palette=palette, px_per_unit=px_per_unit)
        )
    return np.stack(videos)


class MazeStepDataset(torch.utils.data.Dataset):
    """Item ``k`` is the whole batch of training step ``k``: ``(size, uint8 videos)``.

    Use with ``DataLoader(dataset, batch_size=None, sampler=range(start, total), num_workers=n)``
    so worker processes build batches ahead of the GPU and a resumed run sees the same data.
    """

    def __init__(self, *, run_seed: int, sizes: list[int], weights: list[float], tokens_per_batch: int,
                 num_frames: int, px_per_unit: int, palette: str, extra_openings: float):
        self.run_seed = run_seed
        self.sizes = list(sizes)
        self.weights = list(weights)
        self.tokens_per_batch = tokens_per_batch
        self.kw = dict(num_frames=num_frames, px_per_unit=px_per_unit, palette=palette,
                       extra_openings=extra_openings)

    def batch_size(self, size: int) -> int:
        """Videos per batch at this maze size: about ``tokens_per_batch`` tokens in all."""
        tokens = self.kw["num_frames"] * (2 * size + 1) ** 2
        return max(1, min(SEEDS_PER_STEP, self.tokens_per_batch // tokens))

    def __len__(self) -> int:
        return 10**9

    def __getitem__(self, step: int):
        size = size_for_step(step, self.run_seed, self.sizes, self.weights)
        video = training_batch(step, size, self.batch_size(size), run_seed=self.run_seed, **self.kw)
        return size, torch.from_numpy(video)


def heldout_mazes(size: int, count: int, *, first_seed: int = 0, extra_openings: float = 0.1) -> list:
    """Held-out mazes of one size: generator seeds ``first_seed .. first_seed + count - 1``."""
    if first_seed < 0 or first_seed + count > EVAL_SEED_LIMIT:
        raise InputError(
            f"held-out seeds {first_seed}..{first_seed + count - 1} leave the held-out range 0..{EVAL_SEED_LIMIT - 1}"
        )
    return [generate_maze(size, first_seed + i, extra_openings=extra_openings) for i in range(count)]
