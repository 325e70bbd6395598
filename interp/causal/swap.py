"""Layer swap: replace one layer's visual tokens at one step by the same layer's tokens from a run
on another input. One :class:`~interp.interventions.Patch` from a source run.

A Wan block's hidden states hold the visual tokens only (text enters through cross-attention),
so every token of ``blocks.{k}.resid_post`` (the block's output) is replaced.

Example:
    >>> swap_at(5, 0, take=[1, 0])[0].at.to_dict()["site"]
    'blocks.5.resid_post'
"""

from __future__ import annotations

from interp.interventions import At, Intervention, Patch
from interp.tasks.maze_answers import swap_outcome  # noqa: F401  (the maze's reading of a swap, kept importable here)


def swap_at(layer: int, step: int, *, take, source: str = "other", samples=None,
            site: str = "resid_post") -> list[Intervention]:
    """Row ``i`` of the chosen samples takes row ``take[i]`` of ``sources[source]`` at (``layer``, ``step``);
    ``step`` may be a list of steps."""
    steps = [step] if isinstance(step, int) else list(step)
    return [Intervention(At(f"blocks.{layer}.{site}", steps=steps, samples=samples), Patch(source, take=take))]


def partners(routes: list, *, shift: int = 1) -> list[int]:
    """For each sample the next one (cyclically, from ``shift``) whose route differs: ``routes`` are
    comparable values (e.g. frozensets of units). Raises if some sample has no partner."""
    from interp.errors import InputError

    n = len(routes)
    out = []
    for i in range(n):
        for j in range(shift, shift + n):
            k = (i + j) % n
            if k != i and routes[k] != routes[i]:
                out.append(k)
                break
        else:
            raise InputError(f"sample {i} has no partner with another route among {n} samples")
    return out
