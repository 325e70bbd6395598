"""Minimal pairs of mazes for activation patching: one wall unit or the goal changed.

A :class:`MazePair` holds a *clean* maze and a *corrupt* maze of the same size and seed that
differ in exactly one thing:

* ``kind="wall"``: one wall unit between two neighbouring cells is opened or closed; start and
  goal stay;
* ``kind="goal"``: the goal moves to another cell centre; walls and start stay.

Requirements (checked whenever a pair is built or loaded): **each maze has exactly one shortest
route**, the two routes differ, and both ``clean_only`` and ``corrupt_only`` (the route units of
one maze that are not on the other's route, start and goal of either maze left out because they
wear marker colours) are non-empty. A video that follows the clean route then paints
``clean_only`` and leaves ``corrupt_only`` as floor, and the other way round.

Search rule of :func:`make_pair`: for ``maze_seed = seed, seed + 1, ...`` (at most ``max_seeds``
seeds) the clean maze is ``generate_maze(size, maze_seed, extra_openings=...)``; a clean maze
with more than one shortest route is skipped. Its candidate changes (kind wall: every unit
between two neighbouring cells; kind goal: every other cell centre whose route from the start
passes through at least ``min_route_cells`` cells) are listed in row-major order and tried in the
order of ``numpy.random.default_rng([maze_seed, size, k]).permutation`` (``k`` = 0 for wall, 1
for goal); the first candidate that meets the requirements makes the pair. When no seed gives
one, :class:`InputError` says how many were tried.

Example:
    >>> pair = make_pair(5, seed=0, kind="wall")
    >>> pair.clean.seed == pair.corrupt.seed, len(pair.changed_units)
    (True, 1)
    >>> len(pair.clean.routes), len(pair.corrupt.routes), pair.clean.route != pair.corrupt.route
    (1, 1, True)
    >>> moved = make_pair(5, seed=0, kind="goal")
    >>> moved.changed_units == (moved.clean.goal, moved.corrupt.goal)
    True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interp.errors import InputError, check_choice, check_range
from interp.tasks.maze import Maze, Unit, default_min_route_cells, generate_maze, shortest_routes

PAIR_KINDS = ("wall", "goal")
PAIR_FILE = "pair.json"
PAIR_FORMAT = "maze-pair-1"
DEFAULT_MAX_SEEDS = 20


@dataclass(frozen=True, eq=False)
class MazePair:
    """Two mazes that differ in one wall unit or in the goal (see the module docstring).

    Attributes:
        clean: the maze whose answer patching should restore.
        corrupt: the changed maze.
        kind: ``"wall"`` or ``"goal"``.
        changed_units: grid units ``(row, col)`` that differ: the toggled wall unit (kind wall)
            or the clean goal and the corrupt goal (kind goal).
        requested_seed: the seed :func:`make_pair` was asked for (the mazes' own ``seed`` may be
            a later one, see the search rule).

    Example:
        >>> pair = make_pair(5, seed=0, kind="goal")
        >>> MazePair.from_dict(pair.to_dict()) == pair
        True
    """

    clean: Maze
    corrupt: Maze
    kind: str
    changed_units: tuple[Unit, ...]
    requested_seed: int

    def __post_init__(self) -> None:
        check_choice("pair kind", self.kind, PAIR_KINDS)
        units = tuple((int(r), int(c)) for r, c in self.changed_units)
        object.__setattr__(self, "changed_units", units)
        problem = _pair_problem(self.clean, self.corrupt, self.kind)
        if problem:
            raise InputError(f"not a minimal {self.kind} pair: {problem}")
        found = changed_units_of(self.clean, self.corrupt, self.kind)
        if units != found:
            raise InputError(f"changed_units {list(units)} do not match the mazes, which differ at {list(found)}")

    @property
    def clean_route(self) -> tuple[Unit, ...]:
        """The clean maze's one shortest route (start and goal included)."""
        return self.clean.route

    @property
    def corrupt_route(self) -> tuple[Unit, ...]:
        """The corrupt maze's one shortest route (start and goal included)."""
        return self.corrupt.route

    @property
    def clean_only(self) -> tuple[Unit, ...]:
        """Clean route units not on the corrupt route and not a start or goal of either maze."""
        return _only(self.clean_route, self.corrupt_route, _markers(self))

    @property
    def corrupt_only(self) -> tuple[Unit, ...]:
        """Corrupt route units not on the clean route and not a start or goal of either maze."""
        return _only(self.corrupt_route, self.clean_route, _markers(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MazePair):
            return NotImplemented
        return (self.clean == other.clean and self.corrupt == other.corrupt and self.kind == other.kind
                and self.changed_units == other.changed_units and self.requested_seed == other.requested_seed)

    def __hash__(self) -> int:
        return hash((self.clean, self.corrupt, self.kind, self.changed_units))

    def summary(self) -> dict:
        """What ``pair.json`` records besides the mazes: kind, seeds, changed units, routes."""
        return {
            "kind": self.kind,
            "requested_seed": int(self.requested_seed),
            "maze_seed": int(self.clean.seed),
            "size": int(self.clean.size),
            "changed_units": [list(u) for u in self.changed_units],
            "clean_route": [list(u) for u in self.clean_route],
            "corrupt_route": [list(u) for u in self.corrupt_route],
            "clean_only": [list(u) for u in self.clean_only],
            "corrupt_only": [list(u) for u in self.corrupt_only],
        }

    def to_dict(self) -> dict:
        """JSON-safe dict: :meth:`summary` plus both mazes."""
        return {"format": PAIR_FORMAT, **self.summary(), "clean": self.clean.to_dict(), "corrupt": self.corrupt.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> MazePair:
        """Inverse of :meth:`to_dict`; the recorded fields must match the mazes (see :func:`check_summary`)."""
        if not isinstance(d, dict) or "clean" not in d or "corrupt" not in d:
            raise InputError("pair dict needs the keys 'clean' and 'corrupt' (mazes as Maze.to_dict gives)")
        pair = _rebuild(Maze.from_dict(d["clean"]), Maze.from_dict(d["corrupt"]), d)
        check_summary(pair, d)
        return pair


def _markers(pair: MazePair) -> set[Unit]:
    return {pair.clean.start, pair.clean.goal, pair.corrupt.start, pair.corrupt.goal}


def _only(route, other, markers) -> tuple[Unit, ...]:
    exclude = set(other) | markers
    return tuple(u for u in route if u not in exclude)


def changed_units_of(clean: Maze, corrupt: Maze, kind: str) -> tuple[Unit, ...]:
    """The grid units in which two mazes differ, for a pair of ``kind``."""
    if kind == "goal":
        return (clean.goal, corrupt.goal)
    rows, cols = np.nonzero(clean.walls != corrupt.walls)
    return tuple((int(r), int(c)) for r, c in zip(rows, cols))


def _pair_problem(clean: Maze, corrupt: Maze, kind: str) -> str:
    """Why two mazes are not a minimal pair of ``kind`` ("" when they are)."""
    if clean.size != corrupt.size or clean.seed != corrupt.seed:
        return f"sizes/seeds differ ({clean.size}/{clean.seed} vs {corrupt.size}/{corrupt.seed})"
    if clean.start != corrupt.start:
        return f"starts differ ({clean.start} vs {corrupt.start})"
    differing = int((clean.walls != corrupt.walls).sum())
    if kind == "wall":
        if clean.goal != corrupt.goal:
            return f"goals differ ({clean.goal} vs {corrupt.goal}) in a wall pair"
        if differing != 1:
            return f"walls differ in {differing} units, not 1"
    elif differing or clean.goal == corrupt.goal:
        return f"a goal pair needs the same walls ({differing} units differ) and another goal"
    for name, maze in (("clean", clean), ("corrupt", corrupt)):
        if len(shortest_routes(maze.walls, maze.start, maze.goal, max_routes=2)) != 1:
            return f"the {name} maze has more than one shortest route"
    if set(clean.route) == set(corrupt.route):
        return "both mazes have the same route"
    markers = {clean.start, clean.goal, corrupt.start, corrupt.goal}
    if not _only(clean.route, corrupt.route, markers) or not _only(corrupt.route, clean.route, markers):
        return "one route lies within the other (no clean-only or no corrupt-only units)"
    return ""


def _with(maze: Maze, walls: np.ndarray | None = None, goal: Unit | None = None) -> Maze | None:
    """``maze`` with other walls or another goal, its routes recomputed; None when unreachable."""
    walls = maze.walls if walls is None else walls
    goal = maze.goal if goal is None else goal
    routes = shortest_routes(walls, maze.start, goal, max_routes=2)
    if not routes:
        return None
    return Maze(size=maze.size, walls=walls, start=maze.start, goal=goal, routes=tuple(routes),
                seed=maze.seed, extra_openings=maze.extra_openings)


def _wall_candidates(maze: Maze) -> list[Unit]:
    U = maze.units
    return [(r, c) for r in range(1, U - 1) for c in range(1, U - 1) if (r + c) % 2 == 1]


def _goal_candidates(maze: Maze, min_cells: int) -> list[Unit]:
    U = maze.units
    out = []
    for r in range(1, U, 2):
        for c in range(1, U, 2):
            if (r, c) in (maze.start, maze.goal):
                continue
            routes = shortest_routes(maze.walls, maze.start, (r, c), max_routes=1)
            if routes and (len(routes[0]) + 1) // 2 >= min_cells:
                out.append((r, c))
    return out


def _pair_for_maze(clean: Maze, kind: str, requested_seed: int, min_cells: int) -> MazePair | None:
    if len(clean.routes) != 1:
        return None
    candidates = _wall_candidates(clean) if kind == "wall" else _goal_candidates(clean, min_cells)
    rng = np.random.default_rng([int(clean.seed), int(clean.size), PAIR_KINDS.index(kind)])
    for i in rng.permutation(len(candidates)).tolist():
        unit = candidates[i]
        if kind == "wall":
            walls = clean.walls.copy()
            walls[unit] = not walls[unit]
            corrupt = _with(clean, walls=walls)
        else:
            corrupt = _with(clean, goal=unit)
        if corrupt is not None and not _pair_problem(clean, corrupt, kind):
            return MazePair(clean, corrupt, kind, changed_units_of(clean, corrupt, kind), requested_seed)
    return None


def make_pair(
    size: int,
    seed: int,
    kind: str = "wall",
    *,
    extra_openings: float = 0.1,
    min_route_cells: int | None = None,
    max_seeds: int = DEFAULT_MAX_SEEDS,
) -> MazePair:
    """A minimal pair of ``kind`` for maze ``size``, deterministic from its arguments.

    Args:
        size: cells per side, 4..12.
        seed: the first maze seed tried (non-negative).
        kind: ``"wall"`` (one wall unit opened or closed) or ``"goal"`` (the goal moved).
        extra_openings: passed to :func:`generate_maze`.
        min_route_cells: kind goal only: cells the corrupt route passes through at least
            (default the generator's, ``size``).
        max_seeds: seeds tried, ``seed .. seed + max_seeds - 1`` (1 = this seed only).

    Raises:
        InputError: bad arguments, or no seed in the range gives a pair.
    """
    check_choice("pair kind", kind, PAIR_KINDS)
    check_range("max_seeds", max_seeds, 1, 100_000)
    min_cells = default_min_route_cells(size) if min_route_cells is None else int(min_route_cells)
    for maze_seed in range(seed, seed + max_seeds):
        clean = generate_maze(size, maze_seed, extra_openings=extra_openings)
        pair = _pair_for_maze(clean, kind, seed, min_cells)
        if pair is not None:
            return pair
    raise InputError(
        f"no {kind} pair for maze size {size} among seeds {seed}..{seed + max_seeds - 1} (each needs a maze with one "
        "shortest route and a change that gives another unique route): raise max_seeds or try other seeds"
    )


def make_pairs(size: int, count: int, seed: int, kind: str = "wall", **options) -> list[MazePair]:
    """``count`` pairs with distinct clean mazes: each search starts after the last pair's maze seed.

    Example:
        >>> [p.clean.seed for p in make_pairs(5, 3, seed=0)] == sorted({p.clean.seed for p in make_pairs(5, 3, 0)})
        True
    """
    check_range("count", count, 1, 100_000)
    pairs, next_seed = [], seed
    for _ in range(count):
        pair = make_pair(size, next_seed, kind, **options)
        pairs.append(pair)
        next_seed = pair.clean.seed + 1
    return pairs


def _rebuild(clean: Maze, corrupt: Maze, recorded: dict) -> MazePair:
    kind = recorded.get("kind")
    check_choice("pair kind", kind, PAIR_KINDS)
    problem = _pair_problem(clean, corrupt, kind)
    if problem:
        raise InputError(f"the two mazes are not a minimal {kind} pair: {problem}")
    return MazePair(clean, corrupt, kind, changed_units_of(clean, corrupt, kind), int(recorded.get("requested_seed", clean.seed)))


def check_summary(pair: MazePair, recorded: dict) -> None:
    """Raise :class:`InputError` naming every recorded field that the pair's mazes contradict."""
    wanted = pair.summary()
    differ = [f"{key} is {recorded[key]} in {PAIR_FILE} but {wanted[key]} in the mazes"
              for key in wanted if key in recorded and _plain(recorded[key]) != wanted[key]]
    missing = [key for key in ("kind", "changed_units", "clean_route", "corrupt_route") if key not in recorded]
    if missing:
        differ.append(f"{PAIR_FILE} lacks {missing}")
    if differ:
        raise InputError("pair file does not match its mazes: " + "; ".join(differ))


def _plain(value):
    return json.loads(json.dumps(value))


def save_pair(pair: MazePair, folder: str | os.PathLike, *, overwrite: bool = False, **task_options) -> Path:
    """Write ``folder/clean`` and ``folder/corrupt`` (VBVR task folders) and ``folder/pair.json``.

    ``task_options`` go to :func:`interp.tasks.vbvr.save_task` (``num_frames``, ``px_per_unit``,
    ``palette``, ``video_format``, ...). A non-empty folder holding anything but these is
    refused unless ``overwrite``.

    Example:
        >>> import tempfile
        >>> pair = make_pair(5, seed=0)
        >>> load_pair(save_pair(pair, tempfile.mkdtemp() + "/p", video_format="png")) == pair
        True
    """
    from interp.tasks.vbvr import save_task

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{str(folder)!r} exists and is not a folder")
    if folder.is_dir() and not overwrite:
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in ("clean", "corrupt", PAIR_FILE))
        if foreign:
            raise InputError(f"folder {str(folder)!r} holds {foreign[:3]}: pass overwrite to write a pair there")
    save_task(pair.clean, folder / "clean", overwrite=overwrite, **task_options)
    save_task(pair.corrupt, folder / "corrupt", overwrite=overwrite, **task_options)
    (folder / PAIR_FILE).write_text(json.dumps({"format": PAIR_FORMAT, **pair.summary()}, indent=1) + "\n")
    return folder


def load_pair(folder: str | os.PathLike) -> MazePair:
    """Read a folder written by :func:`save_pair`.

    Raises:
        InputError: a missing part, task folders without maze metadata, mazes that are not a
            minimal pair, or a ``pair.json`` that does not match its mazes (naming each field).
    """
    from interp.tasks.vbvr import load_task

    folder = Path(folder)
    path = folder / PAIR_FILE
    if not path.is_file():
        raise InputError(f"{str(folder)!r} has no {PAIR_FILE}: not a pair folder written by save_pair")
    try:
        recorded = json.loads(path.read_text())
    except ValueError as err:
        raise InputError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(recorded, dict) or recorded.get("format") != PAIR_FORMAT:
        raise InputError(f"{path} is not a pair file (format should be {PAIR_FORMAT!r})")
    mazes = []
    for part in ("clean", "corrupt"):
        task = load_task(folder / part)
        if task.maze is None:
            raise InputError(f"{str(folder / part)!r} holds no maze metadata of this package")
        mazes.append(task.maze)
    pair = _rebuild(mazes[0], mazes[1], recorded)
    check_summary(pair, recorded)
    return pair


def load_pairs(folder: str) -> list:
    """Every pair folder in ``folder`` (or ``folder`` itself), all of one maze size."""
    from pathlib import Path

    from interp.errors import InputError

    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"--pairs-from {folder!r} is not a folder")
    found = [root] if (root / PAIR_FILE).is_file() else sorted(p for p in root.iterdir() if (p / PAIR_FILE).is_file())
    if not found:
        raise InputError(f"--pairs-from {folder!r} holds no pair folder (none has a {PAIR_FILE})")
    pairs = [load_pair(p) for p in found]
    sizes = sorted({p.clean.size for p in pairs})
    if len(sizes) > 1:
        raise InputError(f"--pairs-from {folder!r} mixes maze sizes {sizes}: patch one size at a time")
    return pairs
