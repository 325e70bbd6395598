"""Per-token probe targets derived from maze metadata and from the model's own output.

A target is computed on the maze's unit grid (``[U, U]``, or ``[F, U, U]`` when it depends on
the frame) and then read out at each stored token through the store's token grid
(``(frame, h, w)`` per token; the organism has one token per maze unit). Units where a target
is undefined are masked: ``-1`` for class targets, ``NaN`` for the regression target.

================  ==============  ====================================================================
name              family          label per unit
================  ==============  ====================================================================
``wall``          perception      1 wall, 0 floor
``start``         perception      1 at the start unit, else 0
``goal``          perception      1 at the goal unit, else 0
``open_sides``    perception      cells only: 0 one open side (dead-end tip), 1 two, 2 three or four
``route``         reasoning       floor only: 1 on any shortest route, 0 elsewhere
``dead_end``      reasoning       floor only: 1 if on no simple route from start to goal, else 0
``distance``      reasoning       floor only: BFS steps to the goal (regression)
``route_chosen``  reasoning       floor only: 1 where the model's final frame draws the path
``final_output``  consolidation   the label (floor/wall/start/goal/path) the model's final output
                                  shows at that token's own frame and unit
================  ==============  ====================================================================

``wall``, ``start`` and ``goal`` can be read from a token's own pixels; a model conditioned on
the maze image (the organism sees the first frame at every token) carries them from its input
on. ``open_sides`` cannot: a cell's token holds only its own floor colour, so telling a tip
from a corridor or a junction needs its four neighbours' tokens, i.e. spatial mixing.

A dead-end unit lies on no simple (self-avoiding) route from start to goal: a walk that enters
it must come back out the way it went in. In a maze without loops that is every floor unit off
the route; with loops, a loop that offers another way to the goal is not a dead end.

Example:
    >>> from interp.tasks import generate_maze
    >>> maze = generate_maze(4, seed=0)
    >>> grids = unit_targets(maze)
    >>> int(grids["start"].sum()), grids["wall"].shape
    (1, (9, 9))
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from interp.errors import InputError, check_choice

PERCEPTION, REASONING, CONSOLIDATION = "perception", "reasoning", "consolidation"


@dataclass(frozen=True)
class Target:
    """What a target is: its kind (``"class"`` or ``"regress"``), family and whether it needs
    the model's final output."""

    name: str
    kind: str
    family: str
    needs_output: bool = False
    n_classes: int = 2


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("wall", "class", PERCEPTION),
        Target("start", "class", PERCEPTION),
        Target("goal", "class", PERCEPTION),
        Target("open_sides", "class", PERCEPTION, n_classes=3),
        Target("route", "class", REASONING),
        Target("dead_end", "class", REASONING),
        Target("distance", "regress", REASONING),
        Target("route_chosen", "class", REASONING, needs_output=True),
        Target("final_output", "class", CONSOLIDATION, needs_output=True, n_classes=5),
    )
}


def check_targets(names) -> list[Target]:
    """Validate target names; returns their :class:`Target` records in the given order."""
    names = list(names)
    if not names:
        raise InputError(f"no targets given: choose from {', '.join(TARGETS)}")
    for name in names:
        check_choice("target", name, tuple(TARGETS))
    return [TARGETS[n] for n in dict.fromkeys(names)]


def _neighbours(r: int, c: int, U: int):
    for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)):
        rr, cc = r + dr, c + dc
        if 0 <= rr < U and 0 <= cc < U:
            yield rr, cc


def bfs_distance(walls: np.ndarray, source) -> np.ndarray:
    """Steps from ``source`` to every floor unit (float ``[U, U]``, NaN at walls/unreachable)."""
    walls = np.asarray(walls, bool)
    U = walls.shape[0]
    dist = np.full(walls.shape, np.nan)
    dist[tuple(source)] = 0
    queue = deque([tuple(source)])
    while queue:
        r, c = queue.popleft()
        for rr, cc in _neighbours(r, c, U):
            if not walls[rr, cc] and np.isnan(dist[rr, cc]):
                dist[rr, cc] = dist[r, c] + 1
                queue.append((rr, cc))
    return dist


def dead_end_units(walls: np.ndarray, start, goal) -> np.ndarray:
    """Bool ``[U, U]``: floor units that lie on no simple route from ``start`` to ``goal``.

    A walk that enters such a unit must leave the region the way it came in. Computed exactly
    (loops included): with an extra edge joining start and goal, the units on some simple
    start-goal route are those of the biconnected component holding that edge (Tarjan).
    """
    walls = np.asarray(walls, bool)
    U = walls.shape[0]
    s, g = tuple(map(int, start)), tuple(map(int, goal))

    def neighbours(u):
        out = [n for n in _neighbours(*u, U) if not walls[n]]
        if u == s:
            out.append(g)
        elif u == g:
            out.append(s)
        return out

    disc: dict = {s: 0}
    low: dict = {s: 0}
    edges: list = []
    keep: set = set()
    stack = [(s, None, iter(neighbours(s)))]
    while stack:
        u, parent, it = stack[-1]
        advanced = False
        for v in it:
            if v == parent:
                continue
            if v not in disc:
                disc[v] = low[v] = len(disc)
                edges.append((u, v))
                stack.append((v, u, iter(neighbours(v))))
                advanced = True
                break
            if disc[v] < disc[u]:
                edges.append((u, v))
                low[u] = min(low[u], disc[v])
        if advanced:
            continue
        stack.pop()
        if parent is not None:
            low[parent] = min(low[parent], low[u])
            if low[u] >= disc[parent]:  # parent separates u's subtree: pop one component
                component = []
                while True:
                    e = edges.pop()
                    component.append(e)
                    if e == (parent, u):
                        break
                if any({a, b} == {s, g} for a, b in component):
                    keep = {x for e in component for x in e}
    floor = ~walls
    dead = floor.copy()
    for u in keep | {s, g}:
        dead[u] = False
    return dead


def open_sides(walls: np.ndarray) -> np.ndarray:
    """Int ``[U, U]``: per cell centre (odd ``(r, c)``), open sides minus one, capped at 2
    (0 tip, 1 corridor or corner, 2 junction); ``-1`` on every other unit."""
    walls = np.asarray(walls, bool)
    out = np.full(walls.shape, -1, np.int64)
    floor = (~walls).astype(np.int64)
    cells = floor[1:-1:2, 1:-1:2] > 0
    count = floor[0:-2:2, 1:-1:2] + floor[2::2, 1:-1:2] + floor[1:-1:2, 0:-2:2] + floor[1:-1:2, 2::2]
    out[1:-1:2, 1:-1:2] = np.where(cells & (count > 0), np.minimum(count, 3) - 1, -1)
    return out


def unit_targets(maze, final_labels: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every target on the unit grid of ``maze`` (an :class:`interp.tasks.Maze`).

    Args:
        maze: the maze.
        final_labels: the model's decoded output, int ``[F, U, U]`` (see :func:`interp.tasks.score.decode_labels`);
            without it the output-based targets are left out.

    Returns:
        name -> ``[U, U]`` array (``final_output``: ``[F, U, U]``); int with ``-1`` = masked for
        class targets, float with ``NaN`` = masked for ``distance``.
    """
    from interp.tasks.render import PATH

    walls = np.asarray(maze.walls, bool)
    floor_mask = np.where(walls, -1, 0)
    out = {"wall": walls.astype(np.int64)}
    for name, unit in (("start", maze.start), ("goal", maze.goal)):
        grid = np.zeros(walls.shape, np.int64)
        grid[tuple(unit)] = 1
        out[name] = grid
    out["open_sides"] = open_sides(walls)
    route = floor_mask.copy()
    for path in maze.routes:
        rows, cols = np.array(path).T
        route[rows, cols] = 1
    out["route"] = route
    dead = floor_mask.copy()
    dead[dead_end_units(walls, maze.start, maze.goal)] = 1
    out["dead_end"] = dead
    out["distance"] = bfs_distance(walls, maze.goal)
    if final_labels is not None:
        final_labels = np.asarray(final_labels)
        if final_labels.ndim != 3 or final_labels.shape[1:] != walls.shape:
            raise InputError(f"final labels of shape {final_labels.shape} do not fit the "
                             f"{walls.shape[0]}x{walls.shape[1]} maze: expected [F, {walls.shape[0]}, {walls.shape[1]}]")
        chosen = floor_mask.copy()
        chosen[(final_labels[-1] == PATH) & ~walls] = 1
        out["route_chosen"] = chosen
        out["final_output"] = final_labels.astype(np.int64)
    return out


def token_values(unit_grid: np.ndarray, token_grid: np.ndarray) -> np.ndarray:
    """Read a unit-grid target out at each token ``(frame, h, w)``; returns ``[T]``.

    Tokens on a pooled axis (``-1`` in the token grid) get the masked value, as do tokens
    outside the grid (e.g. a store of another resolution).
    """
    grid = np.asarray(unit_grid)
    tg = np.asarray(token_grid)
    masked = np.nan if grid.dtype.kind == "f" else -1
    frame, h, w = tg[:, 0], tg[:, 1], tg[:, 2]
    U0, U1 = grid.shape[-2:]
    ok = (h >= 0) & (w >= 0) & (h < U0) & (w < U1)
    if grid.ndim == 3:
        ok &= (frame >= 0) & (frame < grid.shape[0])
    out = np.full(len(tg), masked, dtype=grid.dtype)
    if grid.ndim == 3:
        out[ok] = grid[frame[ok], h[ok], w[ok]]
    else:
        out[ok] = grid[h[ok], w[ok]]
    return out
