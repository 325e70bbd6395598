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


def swap_outcome(amount, x0_amount, own_maze, other_maze) -> dict[str, bool]:
    """How one swapped run ended, from each unit's route-colour ``amount`` in its final video and
    ``x0_amount`` in its x0_hat at the swapped step (both read on ``own_maze``'s units).

    ``other``: the painted route is the partner maze's and not its own; ``own``: it is its own;
    ``broken``: neither. ``closer_other``: the painted units overlap the partner's first route more
    than its own (intersection over union); ``x0_other`` / ``x0_own``: the same for the x0_hat.
    """
    from interp.causal import maze as M

    painted = M.painted_set(amount, own_maze)
    own_routes, other_routes = M.route_interiors(own_maze), M.route_interiors(other_maze)
    follows, keeps = painted in other_routes, painted in own_routes
    early = M.painted_set(x0_amount, own_maze)
    return {"other": follows and not keeps, "own": keeps, "broken": not follows and not keeps,
            "closer_other": _iou(painted, other_routes[0]) > _iou(painted, own_routes[0]),
            "x0_other": _iou(early, other_routes[0]) > _iou(early, own_routes[0]),
            "x0_own": _iou(early, own_routes[0]) > _iou(early, other_routes[0])}


def _iou(a, b) -> float:
    return len(a & b) / max(1, len(a | b))

