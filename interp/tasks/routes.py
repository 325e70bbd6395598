"""Routes over a grid of wall and floor units: breadth-first distances and every shortest route.

Example:
    >>> import numpy as np
    >>> walls = np.ones((5, 5), bool); walls[1:4, 1:4] = False
    >>> shortest_routes(walls, (1, 1), (1, 3))
    [((1, 1), (1, 2), (1, 3))]
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

import numpy as np

from interp.errors import InputError, check_range

Unit = tuple[int, int]
Route = tuple[Unit, ...]


def grid_distances(free: list[bool], U: int, source: int) -> list[int]:
    """Distances in steps over free units of a flat ``U x U`` grid; -1 where unreachable."""
    dist = [-1] * (U * U)
    dist[source] = 0
    queue = deque([source])
    offsets = (-U, -1, 1, U)
    while queue:
        i = queue.popleft()
        d = dist[i] + 1
        for o in offsets:
            j = i + o
            if dist[j] < 0 and free[j]:
                dist[j] = d
                queue.append(j)
    return dist


def shortest_routes(walls: np.ndarray, start: Sequence[int], goal: Sequence[int], max_routes: int = 64) -> list[Route]:
    """All shortest 4-connected routes over floor units from ``start`` to ``goal``, inclusive.

    Breadth-first distances from both ends pick the units on some shortest route; a depth-first
    walk over those layers lists the routes in a fixed neighbour order (up, left, right, down),
    stopping after ``max_routes``. Returns ``[]`` when the goal cannot be reached.

    Example:
        >>> import numpy as np
        >>> walls = np.ones((5, 5), bool); walls[1:4, 1:4] = False; walls[2, 2] = True
        >>> len(shortest_routes(walls, (1, 1), (3, 3)))   # around the pillar either way
        2
    """
    walls = np.asarray(walls, dtype=bool)
    if walls.ndim != 2 or walls.shape[0] != walls.shape[1]:
        raise InputError(f"walls must be a square 2-D grid, got shape {walls.shape}")
    check_range("max_routes", max_routes, 1, 10**9)
    U = walls.shape[0]
    # pad so neighbour lookups never leave the grid
    P = U + 2
    padded = np.ones((P, P), bool)
    padded[1:-1, 1:-1] = walls
    free = (~padded).ravel().tolist()
    for name, (r, c) in (("start", start), ("goal", goal)):
        if not (0 <= r < U and 0 <= c < U) or walls[r, c]:
            raise InputError(f"{name} {(r, c)} is not a floor unit of the {U}x{U} grid")
    s = (start[0] + 1) * P + start[1] + 1
    g = (goal[0] + 1) * P + goal[1] + 1
    ds, dg = grid_distances(free, P, s), grid_distances(free, P, g)
    total = ds[g]
    if total < 0:
        return []
    offsets = (-P, -1, 1, P)
    routes: list[Route] = []
    stack = [(s, (s,))]
    # depth-first; push in reverse so the first neighbour (up, left, right, down) is explored first:
    # a fixed order keeps route enumeration deterministic
    while stack and len(routes) < max_routes:
        i, path = stack.pop()
        if i == g:
            routes.append(tuple(divmod(j, P) for j in path))
            continue
        d = ds[i] + 1
        for o in reversed(offsets):
            j = i + o
            if ds[j] == d and dg[j] == total - d:
                stack.append((j, path + (j,)))
    return [tuple((r - 1, c - 1) for r, c in route) for route in routes]
