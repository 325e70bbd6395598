"""Maze generation: a grid of walls, a start, a goal and every shortest route between them.

A maze of ``n`` cells per side lives on a grid of ``U = 2n + 1`` units per side. Cell centres are
the units at odd ``(row, col)``; the units between two neighbouring cells are walls or corridor;
units at even ``(row, col)`` are pillars and the outer border is wall. A route is the list of
units walked from the start centre to the goal centre, both included.

Example:
    >>> from interp.tasks import generate_maze
    >>> maze = generate_maze(5, seed=0)
    >>> maze.units, maze.walls.shape
    (11, (11, 11))
    >>> maze.route[0] == maze.start and maze.route[-1] == maze.goal
    True
    >>> generate_maze(5, seed=0) == maze      # deterministic per (size, seed, options)
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from interp.errors import InputError, check_range
from interp.tasks.routes import Route, Unit, grid_distances, shortest_routes

MAZE_VERSION = "maze-1"
MIN_SIZE, MAX_SIZE = 4, 12


def default_min_route_cells(size: int) -> int:
    """Default minimum number of cells on the shortest route: the maze's side length ``n``.

    A route through ``n`` cells spans at least one side of the maze, long enough that the answer
    is not visible at a glance and short enough that every seed finds such a pair quickly.
    """
    return size


@dataclass(frozen=True, eq=False)
class Maze:
    """A maze on a unit grid with all its shortest routes.

    Attributes:
        size: cells per side ``n`` (4..12); the grid has ``U = 2n + 1`` units per side.
        walls: bool ``[U, U]``, True = wall; border all wall; cell centres at odd ``(r, c)``.
        start: grid-unit ``(row, col)`` of the start cell centre.
        goal: grid-unit ``(row, col)`` of the goal cell centre.
        routes: all shortest routes start -> goal (inclusive), over units (capped, see
            :func:`shortest_routes`).
        seed: generator seed.
        extra_openings: fraction of removable interior walls opened after the perfect maze.
        version: generator version string.

    Example:
        >>> maze = generate_maze(4, seed=3)
        >>> Maze.from_dict(maze.to_dict()) == maze
        True
    """

    size: int
    walls: np.ndarray
    start: Unit
    goal: Unit
    routes: tuple[Route, ...]
    seed: int
    extra_openings: float
    version: str = MAZE_VERSION
    _hash: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        walls = np.array(self.walls, dtype=bool)
        walls.flags.writeable = False
        start, goal = _unit(self.start, "start"), _unit(self.goal, "goal")
        routes = tuple(tuple(_unit(u, "route unit") for u in route) for route in self.routes)
        object.__setattr__(self, "walls", walls)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "goal", goal)
        object.__setattr__(self, "routes", routes)
        _validate(self)
        key = (self.size, walls.tobytes(), start, goal, routes, self.seed, self.extra_openings, self.version)
        object.__setattr__(self, "_hash", hash(key))

    @property
    def units(self) -> int:
        """Units per side ``U = 2 * size + 1``."""
        return 2 * self.size + 1

    @property
    def route(self) -> Route:
        """The first shortest route (``routes[0]``)."""
        return self.routes[0]

    @property
    def route_length(self) -> int:
        """Number of units on a shortest route, start and goal included."""
        return len(self.routes[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Maze):
            return NotImplemented
        return (
            self.size == other.size
            and np.array_equal(self.walls, other.walls)
            and self.start == other.start
            and self.goal == other.goal
            and self.routes == other.routes
            and self.seed == other.seed
            and self.extra_openings == other.extra_openings
            and self.version == other.version
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        # rebuild through __init__ so that copies in worker processes get read-only walls too
        args = (self.size, self.walls, self.start, self.goal, self.routes, self.seed, self.extra_openings, self.version)
        return (type(self), args)

    def to_dict(self) -> dict:
        """JSON-safe dict; walls as rows of ``#`` (wall) and ``.`` (floor)."""
        return {
            "size": int(self.size),
            "walls": ["".join("#" if w else "." for w in row) for row in self.walls],
            "start": list(self.start),
            "goal": list(self.goal),
            "routes": [[list(u) for u in route] for route in self.routes],
            "seed": int(self.seed),
            "extra_openings": float(self.extra_openings),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Maze:
        """Inverse of :meth:`to_dict`; raises :class:`InputError` on malformed input."""
        required = ("size", "walls", "start", "goal", "routes", "seed", "extra_openings", "version")
        if not isinstance(d, dict):
            raise InputError(f"maze metadata must be a dict, got {type(d).__name__}")
        missing = [k for k in required if k not in d]
        if missing:
            raise InputError(f"maze metadata lacks keys {missing}: needs {list(required)}")
        rows = d["walls"]
        try:
            if rows and isinstance(rows[0], str):
                bad = {ch for row in rows for ch in row} - {"#", "."}
                if bad:
                    raise InputError(f"maze walls contain {sorted(bad)}: use '#' for wall, '.' for floor")
                walls = np.array([[ch == "#" for ch in row] for row in rows], dtype=bool)
            else:
                walls = np.array(rows, dtype=bool)
            return cls(
                size=int(d["size"]),
                walls=walls,
                start=tuple(d["start"]),
                goal=tuple(d["goal"]),
                routes=tuple(tuple(tuple(u) for u in r) for r in d["routes"]),
                seed=int(d["seed"]),
                extra_openings=float(d["extra_openings"]),
                version=str(d["version"]),
            )
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"malformed maze metadata: {type(err).__name__}: {err}") from None


def _unit(u, what: str) -> Unit:
    try:
        r, c = u
        return (int(r), int(c))
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} {u!r} is not a (row, col) pair") from None


def _validate(maze: Maze) -> None:
    check_range("maze size", maze.size, MIN_SIZE, MAX_SIZE)
    U = 2 * maze.size + 1
    w = maze.walls
    if w.shape != (U, U):
        raise InputError(f"walls of shape {w.shape} do not fit size {maze.size}: expected ({U}, {U})")
    if not (w[0].all() and w[-1].all() and w[:, 0].all() and w[:, -1].all()):
        raise InputError("walls must close the outer border of the maze")
    for name, (r, c) in (("start", maze.start), ("goal", maze.goal)):
        if not (0 < r < U and 0 < c < U and r % 2 == 1 and c % 2 == 1) or w[r, c]:
            raise InputError(f"{name} {(r, c)} is not a floor cell centre (odd row and col inside 1..{U - 2})")
    if not maze.routes:
        raise InputError("a maze needs at least one route from start to goal")
    check_range("extra_openings", maze.extra_openings, 0.0, 1.0)
    for route in maze.routes:
        if not route:
            raise InputError("a route of the maze is empty: each route lists the units from start to goal")
        if route[0] != maze.start or route[-1] != maze.goal:
            raise InputError(f"route from {route[0]} to {route[-1]} does not join start {maze.start} to goal {maze.goal}")
        if len(route) != len(maze.routes[0]):
            raise InputError("all routes of a maze must be shortest, hence of equal length")
        for (r0, c0), (r1, c1) in zip(route, route[1:]):
            if abs(r0 - r1) + abs(c0 - c1) != 1:
                raise InputError(f"route jumps from {(r0, c0)} to {(r1, c1)}: steps must be 4-connected")
        for r, c in route:
            if not (0 <= r < U and 0 <= c < U) or w[r, c]:
                raise InputError(f"route crosses wall or leaves grid at {(r, c)}")


def _perfect_maze(n: int, rng: np.random.Generator) -> np.ndarray:
    """Randomised depth-first backtracker on ``n x n`` cells; returns the wall grid."""
    U = 2 * n + 1
    walls = np.ones((U, U), bool)
    walls[1::2, 1::2] = False
    visited = [False] * (n * n)
    draws = rng.random(n * n).tolist()  # one draw per carve, fewer calls into the generator
    k = 0
    cell = int(draws[-1] * n * n)
    visited[cell] = True
    stack = [cell]
    while stack:
        cell = stack[-1]
        r, c = divmod(cell, n)
        options = []
        if r > 0 and not visited[cell - n]:
            options.append(cell - n)
        if c > 0 and not visited[cell - 1]:
            options.append(cell - 1)
        if c < n - 1 and not visited[cell + 1]:
            options.append(cell + 1)
        if r < n - 1 and not visited[cell + n]:
            options.append(cell + n)
        if not options:
            stack.pop()
            continue
        nxt = options[int(draws[k] * len(options))]
        k += 1
        r2, c2 = divmod(nxt, n)
        walls[r + r2 + 1, c + c2 + 1] = False  # the unit between the two cell centres
        visited[nxt] = True
        stack.append(nxt)
    return walls


def _open_extra(walls: np.ndarray, fraction: float, rng: np.random.Generator) -> None:
    """Open ``round(fraction * k)`` of the ``k`` closed walls between two neighbouring cells."""
    between = np.zeros_like(walls)
    between[1:-1:2, 2:-1:2] = True  # between horizontal neighbours
    between[2:-1:2, 1:-1:2] = True  # between vertical neighbours
    rows, cols = np.nonzero(walls & between)
    count = int(round(fraction * len(rows)))
    if count:
        pick = rng.permutation(len(rows))[:count]
        walls[rows[pick], cols[pick]] = False


def generate_maze(
    size: int,
    seed: int,
    *,
    extra_openings: float = 0.1,
    min_route_cells: int | None = None,
    max_routes: int = 64,
) -> Maze:
    """Make a maze with loops, a start, a goal and all its shortest routes.

    Rules: a perfect maze (randomised depth-first backtracker) on ``size x size`` cells; then a
    fraction ``extra_openings`` of the interior walls that still separate two neighbouring cells
    are opened, making loops (several routes) next to dead ends; then start and goal are drawn
    among cell centres so that the shortest route passes through at least ``min_route_cells``
    cells (default ``size``). All randomness comes from ``numpy.random.default_rng`` seeded by
    ``(seed, size)``; the perfect maze depends on ``(seed, size)`` only.

    Args:
        size: cells per side, 4..12.
        seed: non-negative integer.
        extra_openings: fraction in [0, 1] of removable interior walls to open.
        min_route_cells: minimum cells on the shortest route, 2..size*size.
        max_routes: cap on the number of shortest routes listed.

    Raises:
        InputError: an argument is out of range, or no start/goal pair of the maze is that far
            apart (lower ``min_route_cells`` or ``extra_openings``).

    Example:
        >>> maze = generate_maze(7, seed=1, extra_openings=0.2)
        >>> (len(maze.route) + 1) // 2 >= 7      # cells on the route
        True
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise InputError(f"maze size {size!r} is not valid: use an integer in {MIN_SIZE}..{MAX_SIZE}")
    check_range("maze size", size, MIN_SIZE, MAX_SIZE)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed {seed!r} is not valid: use a non-negative integer")
    check_range("extra_openings", extra_openings, 0.0, 1.0)
    min_cells = default_min_route_cells(size) if min_route_cells is None else min_route_cells
    check_range("min_route_cells", min_cells, 2, size * size)
    check_range("max_routes", max_routes, 1, 10**9)

    rng = np.random.default_rng([int(seed), int(size)])
    walls = _perfect_maze(size, rng)
    _open_extra(walls, extra_openings, rng)

    U = 2 * size + 1
    free = (~walls).ravel().tolist()
    need = 2 * min_cells - 1  # units on a route through min_cells cells
    centres = (np.arange(1, U, 2)[:, None] * U + np.arange(1, U, 2)[None, :]).ravel()
    order = rng.permutation(size * size).tolist()
    best = 0
    for cell in order:
        s = int(centres[cell])
        dist = np.asarray(grid_distances(free, U, s))[centres]
        far = np.nonzero(dist + 1 >= need)[0]
        if far.size:
            g = int(centres[far[int(rng.integers(far.size))]])
            break
        best = max(best, int(dist.max()))
    else:
        raise InputError(
            f"min_route_cells {min_cells} is too long for maze size {size} seed {seed} "
            f"(longest shortest route has {best // 2 + 1} cells): lower it"
        )
    start, goal = divmod(s, U), divmod(g, U)
    routes = shortest_routes(walls, start, goal, max_routes=max_routes)
    return Maze(
        size=int(size),
        walls=walls,
        start=start,
        goal=goal,
        routes=tuple(routes),
        seed=int(seed),
        extra_openings=float(extra_openings),
    )
