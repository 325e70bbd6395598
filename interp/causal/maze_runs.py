"""What every causal maze experiment needs: a model, held-out mazes as inputs, the clean run.

Example:
    >>> model, mazes, inputs = maze_inputs("organism", size=5, count=2)      # doctest: +SKIP
    >>> clean = clean_run(model, inputs, ["x_t", "x0"], num_steps=20)         # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError, check_range
from interp.interventions import run_with_cache
from interp.tokens import latent_tokens


def load(model: str, device: str, dtype: str):
    """A maze-solving model in pixel space (the organism, or an organism folder)."""
    from interp.models import OrganismModel, load_model

    if dtype not in ("float32", "bfloat16"):
        raise InputError(f"unknown dtype {dtype!r}: valid are float32, bfloat16")
    loaded = load_model(model, device=device, dtype=getattr(torch, dtype))
    if not isinstance(loaded, OrganismModel):
        raise InputError(f"{model!r} is not a maze organism: the maze experiments read answers in pixel space; "
                         "on other models run cos noise / erase / swap with your own prompts or image pairs "
                         "(interp.causal.input_arms)")
    return loaded


def maze_inputs(model, *, size: int, count: int, first_seed: int = 0, noise_seed: int = 0, min_routes: int = 1):
    """Held-out mazes of ``size`` and their inputs; maze ``i`` gets noise seed ``noise_seed + i``.

    Mazes are ``generate_maze(size, seed)`` for seeds ``first_seed, first_seed + 1, ...``, keeping
    the first ``count`` with at least ``min_routes`` shortest routes.
    """
    from interp.organism.data import heldout_mazes
    from interp.organism.evaluate import first_frames

    check_range("maze size", size, 4, 12)
    check_range("min_routes", min_routes, 1, 64)
    openings = model.organism.config.extra_openings
    if min_routes == 1:
        mazes = heldout_mazes(size, count, first_seed=first_seed, extra_openings=openings)
    else:
        mazes, seed = [], first_seed
        while len(mazes) < count:
            if seed - first_seed > 200 * count:
                raise InputError(f"fewer than {count} mazes of size {size} with {min_routes}+ shortest routes "
                                 f"among seeds {first_seed}..{seed}")
            maze = heldout_mazes(size, 1, first_seed=seed, extra_openings=openings)[0]
            seed += 1
            if len(maze.routes) >= min_routes:
                mazes.append(maze)
    frames = first_frames(mazes, model.organism)
    return mazes, model.prepare(first_frame=frames, seeds=[noise_seed + i for i in range(count)])


def clean_run(model, inputs, sites, *, num_steps: int, steps=None, **run_options):
    """The unedited run with ``sites`` kept in memory (on the model's device); block sites of both
    guidance branches when the run is guided (the walker), so a patch from it edits each branch alike."""
    branches = ("cond", "uncond") if inputs.do_guidance else ("cond",)
    return run_with_cache(model, inputs, sites, steps=steps, num_steps=num_steps,
                          **{"progress": False, "branches": branches, **run_options})


def loop_value(cache, site: str, step: int, like: torch.Tensor) -> torch.Tensor:
    """A loop site's cached tokens ``[B, T, C]`` back in latent layout ``[B, C, F, H, W]`` shaped like ``like``."""
    tokens = cache.get(site, step)
    b, c, f, h, w = like.shape
    return tokens.reshape(b, f, h, w, c).permute(0, 4, 1, 2, 3).contiguous()


def to_frames(model, latents: torch.Tensor) -> np.ndarray:
    """uint8 ``[B, F, H, W, 3]`` of model-space latents (the organism's pixels)."""
    return model.decode(latents)


def chunks(count: int, batch: int):
    """``range`` slices of at most ``batch`` samples."""
    return [range(lo, min(lo + batch, count)) for lo in range(0, count, batch)]


def maze_options(parser, *, first_seed: int):
    """The options every causal maze experiment adds to the template's (:func:`interp.experiment.options`)."""
    parser.add_argument("--num-steps", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=first_seed)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--dtype", default=None)
    return parser


__all__ = ["load", "maze_inputs", "clean_run", "loop_value", "to_frames", "chunks", "latent_tokens", "maze_options"]
