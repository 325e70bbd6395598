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
                         "on other models use interp.causal.erase / noise / swap with your own inputs and metric")
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
    """The unedited run with ``sites`` kept in memory (on the model's device)."""
    return run_with_cache(model, inputs, sites, steps=steps, num_steps=num_steps, **{"progress": False, **run_options})


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


__all__ = ["load", "maze_inputs", "clean_run", "loop_value", "to_frames", "chunks", "latent_tokens"]


def draw(figures) -> list[str]:
    """Call each ``(file name, draw function)``; return the names drawn. A plotting failure (e.g. no
    matplotlib on a compute node) is reported and skipped: the numbers in result.json stay, and
    ``--replot`` draws the figures later from them."""
    import sys

    done = []
    for name, fn in figures:
        try:
            fn()
            done.append(name)
        except Exception as err:  # noqa: BLE001 - a figure must never cost the measured numbers
            print(f"warning: figure {name} not drawn ({type(err).__name__}: {err}); rerun with --replot",
                  file=sys.stderr)
    return done


def replot_args(args, folder):
    """The settings and figures of an earlier ``result.json`` in ``folder``, for ``--replot``."""
    import json
    from pathlib import Path

    path = Path(folder) / "result.json"
    if not path.is_file():
        raise InputError(f"--replot needs {path}: run the experiment first")
    record = json.loads(path.read_text())
    for key, value in record.get("settings", {}).items():
        if key not in ("replot", "out"):
            setattr(args, key, value)
    return record


def rewrite_verdict(folder, record: dict, *_ignored) -> None:
    """Re-judge ``record`` (an earlier ``result.json`` in ``folder``, for ``--replot``) by the claims
    registry and store it; what the script would have said is not used (the registry's rule judges)."""
    from pathlib import Path

    from interp import registry
    from interp.outputs import write_json

    if registry.registered(record.get("name", "")):
        record = registry.judge_record(record)
        write_json(Path(folder) / "result.json", record, default=float)


def script_parser(description: str, presets: dict, *, name: str, first_seed: int):
    """The options every causal experiment script shares; a script adds its own, then calls :func:`parse_preset`."""
    from interp.results import ScriptParser

    parser = ScriptParser(description=description)
    parser.add_argument("--preset", default="cpu", choices=sorted(presets))
    parser.add_argument("--out", default=None, help="output folder (default: interp.results.result_folder)")
    parser.set_defaults(name=name)
    parser.add_argument("--model", default="organism")
    parser.add_argument("--num-steps", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=first_seed)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--replot", action="store_true", help="redraw the figures from --out/result.json")
    return parser


def parse_preset(parser, presets: dict, argv):
    """Parse ``argv``; every option left unset takes the chosen preset's value."""
    from interp.results import claim_output, result_folder

    args = parser.parse_args(argv)
    for key, value in presets[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.out = str(args.out or result_folder(args.name, args.preset))
    claim_output(args)
    return args
