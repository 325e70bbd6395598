"""Walk videos: an agent walks a shortest route from the start to a target, leaving a trail.

A walk maze is a :class:`~interp.tasks.maze.Maze` plus a *key*: a second cell, drawn in its own
colour, far from the start. The task prompt names the target: ``"goal"`` (the red goal) or
``"key"`` (the yellow key), so one maze has two different answers. Frame 0 shows the maze with
the agent on the start (the image the video is conditioned on); in frame ``f`` the agent stands
on unit ``agent_indices(...)[f]`` of the route (two cells a frame) and the units it has passed
(start excluded) are drawn in the path colour; once it reaches the target (by frame
``F - 1 - hold`` at the latest) it stays there and the whole route is drawn.

Example:
    >>> from interp.tasks.walk import generate_walk_maze, walk_video
    >>> walk = generate_walk_maze(5, seed=0)
    >>> walk.target_maze("key").goal == walk.key
    True
    >>> walk_video(walk, "goal", 16).shape
    (16, 22, 22, 3)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interp.errors import check_choice, check_range
from interp.tasks.maze import Maze, generate_maze, shortest_routes
from interp.tasks.routes import grid_distances
from interp.tasks.render import FLOOR, GOAL, PATH, START, WALL
# the walker's pixel format sits beside its network (its adapter reads maze images with it)
from interp.organism.walk_frames import (AGENT, KEY, WALK_LABELS, WALK_PALETTE, as_walk_first_frame,  # noqa: F401
                                        decode_walk_labels, default_key, render_walk, walk_palette_array)

TARGETS = ("goal", "key")
#: Final frames that hold the complete route with the agent on the target.
DEFAULT_HOLD = 2
#: Route units the agent walks per frame (two cells), so where it stands depends on the distance
#: walked, not on the route's length.
DEFAULT_SPEED = 4


@dataclass(frozen=True, eq=False)
class WalkMaze:
    """A maze, its key cell and the shortest routes from the start to the key.

    Attributes:
        maze: the maze (start, goal, walls and the shortest routes start -> goal).
        key: grid unit of the key's cell centre (never the start or the goal).
        key_routes: every shortest route start -> key (capped at 64).
    """

    maze: Maze
    key: tuple[int, int]
    key_routes: tuple

    @property
    def size(self) -> int:
        return self.maze.size

    @property
    def seed(self) -> int:
        return self.maze.seed

    def target_unit(self, target: str) -> tuple[int, int]:
        check_choice("target", target, TARGETS)
        return self.maze.goal if target == "goal" else self.key

    def routes(self, target: str) -> tuple:
        """Every shortest route from the start to ``target`` (``"goal"`` or ``"key"``)."""
        check_choice("target", target, TARGETS)
        return self.maze.routes if target == "goal" else self.key_routes

    def target_maze(self, target: str) -> Maze:
        """The maze with ``target`` as its goal, so the route scorers apply unchanged."""
        if target == "goal":
            return self.maze
        m = self.maze
        return Maze(size=m.size, walls=m.walls, start=m.start, goal=self.key, routes=self.key_routes,
                    seed=m.seed, extra_openings=m.extra_openings)

    def moves(self, target: str) -> int:
        """Cell-to-cell moves on a shortest route to ``target`` (route units ``// 2``)."""
        return (len(self.routes(target)[0]) - 1) // 2


def generate_walk_maze(size: int, seed: int, *, extra_openings: float = 0.1) -> WalkMaze:
    """``generate_maze(size, seed)`` plus a key cell drawn by its own seeded generator.

    The key is a cell centre other than the goal whose shortest route from the start passes
    through at least ``size`` cells (the rule the goal follows); where no such cell exists, the
    farthest cell other than the goal is taken.
    """
    maze = generate_maze(size, seed, extra_openings=extra_openings)
    U = maze.units
    free = (~maze.walls).ravel().tolist()
    dist = np.asarray(grid_distances(free, U, maze.start[0] * U + maze.start[1])).reshape(U, U)
    centres = [(r, c) for r in range(1, U, 2) for c in range(1, U, 2) if (r, c) not in (maze.start, maze.goal)]
    cells = np.array([dist[u] // 2 + 1 for u in centres])
    rng = np.random.default_rng([int(seed), int(size), 7])
    far = np.nonzero(cells >= size)[0]
    pick = int(far[rng.integers(far.size)]) if far.size else int(cells.argmax())
    key = centres[pick]
    routes = shortest_routes(maze.walls, maze.start, key)
    return WalkMaze(maze=maze, key=key, key_routes=tuple(routes))


def agent_indices(route_length: int, num_frames: int, hold: int = DEFAULT_HOLD,
                  units_per_frame: int = DEFAULT_SPEED) -> list[int]:
    """Route index of the agent per frame: it walks ``units_per_frame`` units a frame from the
    start, faster where the route is too long to reach the target by frame ``F - 1 - hold``, and
    then stays on the target.

    Example:
        >>> agent_indices(9, 6, hold=1, units_per_frame=2)
        [0, 2, 4, 6, 8, 8]
    """
    check_range("num_frames", num_frames, hold + 2, 10_000)
    arrive = num_frames - 1 - hold
    speed = max(units_per_frame, -(-(route_length - 1) // arrive))
    return [min(route_length - 1, f * speed) for f in range(num_frames)]


def base_labels(walk: WalkMaze) -> np.ndarray:
    """uint8 ``[U, U]``: walls, floor, start, goal and key (no agent, no trail)."""
    labels = np.where(walk.maze.walls, WALL, FLOOR).astype(np.uint8)
    labels[walk.maze.start] = START
    labels[walk.maze.goal] = GOAL
    labels[walk.key] = KEY
    return labels


def walk_labels(walk: WalkMaze, target: str, num_frames: int, *, route_index: int = 0,
                hold: int = DEFAULT_HOLD, units_per_frame: int = DEFAULT_SPEED) -> np.ndarray:
    """Labels uint8 ``[F, U, U]`` of the walk to ``target`` along ``routes(target)[route_index]``."""
    routes = walk.routes(target)
    check_range("route_index", route_index, 0, len(routes) - 1)
    route = routes[route_index]
    base = base_labels(walk)
    grids = np.repeat(base[None], num_frames, axis=0)
    for f, idx in enumerate(agent_indices(len(route), num_frames, hold, units_per_frame)):
        for unit in route[1:idx]:
            grids[f][unit] = PATH
        grids[f][route[idx]] = AGENT
    return grids


def first_frame_labels(walk: WalkMaze) -> np.ndarray:
    """Labels ``[U, U]`` of frame 0: the maze with the agent on the start (the same for every target)."""
    labels = base_labels(walk)
    labels[walk.maze.start] = AGENT
    return labels


def walk_video(walk: WalkMaze, target: str, num_frames: int, *, route_index: int = 0, px_per_unit: int = 2,
               hold: int = DEFAULT_HOLD, units_per_frame: int = DEFAULT_SPEED) -> np.ndarray:
    """The ground-truth walk video uint8 ``[F, H, W, 3]``."""
    labels = walk_labels(walk, target, num_frames, route_index=route_index, hold=hold, units_per_frame=units_per_frame)
    return render_walk(labels, px_per_unit)


def walk_for_maze(maze: Maze) -> WalkMaze:
    """The walk maze the walker sees when given the plain ``maze`` (:func:`as_walk_first_frame`'s key),
    so that its answer to a maze tool's maze can be scored as a walk."""
    key = default_key(maze.walls, maze.start, maze.goal)
    return WalkMaze(maze=maze, key=key, key_routes=tuple(shortest_routes(maze.walls, maze.start, key)))
