"""Scoring walk videos: the final route, and the walk that drew it.

The route is scored as the maze scorer scores it: the last frame's path, agent, start and target
units must equal one shortest route to the target (``exact_route``). The walk is scored frame by
frame (``walk_ok``): every frame shows exactly one agent; frame 0's agent is on the start and the
last frame's on the target; every agent position lies on that route, at a route index that never
decreases (so the agent never jumps through a wall, skips back or leaves the route); and the
trail of each frame is exactly the route units the agent has passed (start excluded).

Example:
    >>> from interp.tasks.walk import generate_walk_maze, walk_video
    >>> walk = generate_walk_maze(5, seed=0)
    >>> score_walk(walk_video(walk, "key", 16), walk, "key").exact
    True
    >>> score_walk(walk_video(walk, "goal", 16), walk, "key").exact   # walked to the other target
    False
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from interp.errors import InputError
from interp.tasks.render import GOAL, PATH, START
from interp.tasks.walk import AGENT, KEY, WalkMaze, decode_walk_labels


@dataclass
class WalkScore:
    """Scores of one walk video.

    Attributes:
        exact: ``exact_route`` and ``walk_ok``.
        exact_route: last frame's path + agent + start + target units equal one shortest route.
        walk_ok: the walk rules of the module docstring hold on every frame.
        agent_per_frame: every frame shows exactly one agent unit.
        in_order: every agent position lies on the route, at non-decreasing route indices, from
            the start (frame 0) to the target (last frame).
        trail_ok: every frame's path units are exactly the route units behind the agent.
        positions: the agent's unit per frame (``None`` where not exactly one agent).
        route_index: index of the route (in ``walk.routes(target)``) the walk is checked against.
        failure: the first walk rule that failed, in words; ``None`` when the walk is correct.
    """

    exact: bool
    exact_route: bool
    walk_ok: bool
    agent_per_frame: bool
    in_order: bool
    trail_ok: bool
    positions: list
    route_index: int
    failure: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def score_walk_labels(labels: np.ndarray, walk: WalkMaze, target: str) -> WalkScore:
    """Score decoded walk labels ``[F, U, U]`` for the walk to ``target``."""
    labels = np.asarray(labels)
    maze = walk.maze
    if labels.ndim != 3 or labels.shape[1:] != maze.walls.shape:
        raise InputError(f"walk labels must be [F, {maze.units}, {maze.units}], got {labels.shape}")
    routes = walk.routes(target)
    target_unit = walk.target_unit(target)
    target_label = GOAL if target == "goal" else KEY
    last = labels[-1]
    drawn = (last == PATH) | (last == AGENT)
    drawn[maze.start] |= last[maze.start] == START
    drawn[target_unit] |= last[target_unit] == target_label
    masks = np.zeros((len(routes),) + maze.walls.shape, bool)
    for i, route in enumerate(routes):
        r, c = np.array(route).T
        masks[i, r, c] = True
    equal = (masks == drawn).all((1, 2))
    exact_route = bool(equal.any())
    best = int(equal.argmax()) if exact_route else int(((masks & drawn).sum((1, 2)) / (masks | drawn).sum((1, 2))).argmax())
    route = routes[best]
    index = {u: i for i, u in enumerate(route)}

    positions, failure = [], None
    for f, grid in enumerate(labels):
        agents = list(zip(*np.nonzero(grid == AGENT)))
        positions.append(tuple(int(v) for v in agents[0]) if len(agents) == 1 else None)
        if len(agents) != 1 and failure is None:
            failure = f"frame {f} shows {len(agents)} agent units"
    agent_per_frame = all(p is not None for p in positions)

    in_order, trail_ok, previous = agent_per_frame, agent_per_frame, -1
    if agent_per_frame:
        for f, p in enumerate(positions):
            i = index.get(p)
            if i is None:
                in_order = False
                failure = failure or f"frame {f}: the agent at {p} is off the route (a jump through a wall or a detour)"
                break
            if i < previous:
                in_order = False
                failure = failure or f"frame {f}: the agent went back from route unit {previous} to {i}"
                break
            previous = i
            trail = labels[f] == PATH
            want = np.zeros_like(trail)
            for unit in route[1:i]:
                want[unit] = True
            if trail_ok and not np.array_equal(trail, want):
                trail_ok = False
                failure = failure or f"frame {f}: the trail is not the route behind the agent"
        if in_order and index.get(positions[0]) != 0:
            in_order, failure = False, failure or "frame 0: the agent is not on the start"
        if in_order and index.get(positions[-1]) != len(route) - 1:
            in_order, failure = False, failure or "last frame: the agent has not reached the target"
    walk_ok = agent_per_frame and in_order and trail_ok
    return WalkScore(exact=exact_route and walk_ok, exact_route=exact_route, walk_ok=walk_ok,
                     agent_per_frame=agent_per_frame, in_order=in_order, trail_ok=trail_ok,
                     positions=positions, route_index=best, failure=failure)


def score_walk(video, walk: WalkMaze, target: str) -> WalkScore:
    """Score a uint8 walk video ``[F, H, W, 3]`` for the walk to ``target`` (``"goal"`` or ``"key"``)."""
    return score_walk_labels(decode_walk_labels(video, walk.maze.units), walk, target)


@dataclass(frozen=True)
class WalkScorer:
    """Scores a walker's video of a plain maze (a maze tool's input) as a walk: the maze scorer's
    :class:`~interp.tasks.score.MazeScore` with ``exact`` true only when the walk scorer's is too
    (route and walk, to ``prompt``'s target; the key as :func:`interp.tasks.walk.walk_for_maze` places it).
    Plain data, so worker processes can take it.

    Example:
        >>> from interp.tasks import generate_maze
        >>> from interp.tasks.walk import walk_for_maze, walk_video
        >>> maze = generate_maze(5, seed=0)
        >>> WalkScorer()(walk_video(walk_for_maze(maze), "goal", 16), maze).exact
        True
    """

    prompt: str = "goal"
    palette: str = "default"

    def __call__(self, video, maze):
        import dataclasses

        from interp.tasks.score import score_output
        from interp.tasks.walk import walk_for_maze

        score = score_output(video, maze, palette=self.palette)
        try:
            walk = score_walk(video, walk_for_maze(maze), self.prompt)
        except (ValueError, FloatingPointError):       # a damaged video is a failed walk, not an error
            return dataclasses.replace(score, exact=False)
        return score if walk.exact and score.exact else dataclasses.replace(score, exact=False)


def scorer_for(model, prompt: str = "goal"):
    """How a maze experiment reads ``model``'s answers: the walk scorer for a walker (its spec's
    family ``wan-walker``), else ``None`` (the maze scorer of the model's palette)."""
    spec = getattr(model, "spec", None)
    if getattr(spec, "family", None) == "wan-walker":
        return WalkScorer(prompt=prompt, palette=getattr(model.organism.config, "palette", "default"))
    return None
