"""Chain-of-Steps metrics: what the clean-video estimate x0_hat shows at every denoising step.

Input per sample: the x0_hat video decoded at each step, uint8 ``[S, F, H, W, 3]`` (convert a
model-space float estimate in [-1, 1] with :func:`model_space_to_uint8`), and its maze. Each
step's video is decoded with the scorer's decoder (:func:`interp.tasks.route_colour.read_units`);
a grid unit is **painted** when its route colour amount in the **final frame** is at least
``threshold`` (default 0.5: nearer the path colour than the floor colour).

Definitions, per step:

* **candidates**: the number of distinct start-to-goal routes, walked in 4-connected steps
  without revisiting a unit, through painted floor units of the maze (start and goal count as
  painted). Counting stops at :data:`MAX_COUNT` routes or :data:`MAX_WORK` search expansions
  (``candidates_capped`` says so). ``shortest_shown`` counts the maze's shortest routes whose
  units between start and goal are all painted; ``side_branches`` counts the 4-connected groups
  of painted floor units that lie on no candidate route but touch one, or touch the start or
  goal (corridor branches leaving the routes or the markers: dead ends and partial detours).
* **answer**: the set of painted units (walls included) plus start and goal;
  ``answer_correct`` when it equals one shortest route of the maze exactly.
* **wrong**: something painted is wrong: a painted wall unit (``crosses_wall``), a painted floor
  unit on no shortest route (``off_route``: dead ends and detours), or a candidate route longer
  than the shortest. An unfinished but correct partial route is not wrong.
* **self_correction**: ``wrong`` at this step and the final step's answer correct. The sample
  self-corrects when any step has this flag.
* **scaffold_correct** (working memory): in every frame, the wall / not-wall labels equal the
  maze's walls at every unit and the start and goal units show the start and goal colours.

Per sample: **commitment_step**, the first step from which the answer stays equal to the final
step's answer; **perception_step**, the first step from which the scaffold stays correct;
**action_step**, the first step from which the answer stays correct (None when never). Steps are
reported as the labels given in ``steps`` (default ``0..S-1``).

Example:
    >>> from interp.tasks import generate_maze, ground_truth_video
    >>> maze = generate_maze(5, seed=0)
    >>> x0 = np.stack([ground_truth_video(maze, 3, px_per_unit=3)] * 4)     # [S=4, F, H, W, 3]
    >>> m = cos_metrics(x0, maze)
    >>> m.candidates.tolist(), m.commitment_step, m.perception_step, m.action_step
    ([1, 1, 1, 1], 0, 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from interp.errors import InputError, check_finite
from interp.tasks.route_colour import read_units
from interp.tasks.maze import Maze
from interp.tasks.render import GOAL, START, WALL

DEFAULT_THRESHOLD = 0.5
MAX_COUNT = 64
MAX_WORK = 200_000
_FOUR = ndimage.generate_binary_structure(2, 1)


def model_space_to_uint8(x0) -> np.ndarray:
    """x0_hat in model space (float in [-1, 1], ``[..., 3]`` channels last) -> uint8 0..255.

    Values are clipped to [-1, 1] first, as the organism's decoder does. A store's ``[S, C, F, H,
    W]`` estimate becomes ``[S, F, H, W, 3]`` with ``x0.transpose(0, 2, 3, 4, 1)`` first.

    Example:
        >>> model_space_to_uint8(np.array([-1.0, 0.0, 1.0, 2.0])).tolist()
        [0, 128, 255, 255]
    """
    x = np.asarray(x0, dtype=np.float32)
    if not np.isfinite(x).all():
        raise InputError("x0_hat holds NaN or infinite values")
    return np.round((np.clip(x, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


@dataclass
class CosSample:
    """Chain-of-Steps metrics of one sample; arrays hold one value per step (see module docstring)."""

    size: int
    seed: int
    threshold: float
    steps: list[int]
    candidates: np.ndarray
    candidates_capped: np.ndarray
    shortest_shown: np.ndarray
    side_branches: np.ndarray
    answer_correct: np.ndarray
    crosses_wall: np.ndarray
    off_route: np.ndarray
    wrong: np.ndarray
    self_correction: np.ndarray
    scaffold_correct: np.ndarray
    scaffold_agreement: np.ndarray
    commitment_step: int
    perception_step: int | None
    action_step: int | None
    answers: list = field(default_factory=list, repr=False)
    final_exact: bool | None = None

    @property
    def final_correct(self) -> bool:
        """The last step's answer is a shortest route; where the model's own scorer read the final video
        (``final_exact``, e.g. a walker's walk scorer: route and walk), what it says."""
        return bool(self.answer_correct[-1]) if self.final_exact is None else bool(self.final_exact)

    @property
    def self_corrected(self) -> bool:
        """Some step was wrong and the final answer is right."""
        return bool(self.self_correction.any())

    @property
    def working_memory_share(self) -> float:
        """Share of steps whose scaffold (walls, start, goal) is decoded correctly."""
        return float(self.scaffold_correct.mean())

    @property
    def perception_before_action(self) -> bool | None:
        """perception_step < action_step; None when either is undefined."""
        if self.perception_step is None or self.action_step is None:
            return None
        return self.perception_step < self.action_step

    def to_dict(self) -> dict:
        """JSON-safe dict: per-step lists, sample-level numbers, and answers as unit lists."""
        arrays = ("candidates", "candidates_capped", "shortest_shown", "side_branches", "answer_correct",
                  "crosses_wall", "off_route", "wrong", "self_correction", "scaffold_correct", "scaffold_agreement")
        out = {"size": self.size, "seed": self.seed, "threshold": self.threshold, "steps": list(self.steps)}
        out.update({k: np.asarray(getattr(self, k)).tolist() for k in arrays})
        out.update({"commitment_step": self.commitment_step, "perception_step": self.perception_step,
                    "action_step": self.action_step, "final_correct": self.final_correct,
                    "self_corrected": self.self_corrected, "working_memory_share": self.working_memory_share,
                    "perception_before_action": self.perception_before_action,
                    "answers": [[list(u) for u in sorted(a)] for a in self.answers]})
        if self.final_exact is not None:
            out["final_exact"] = bool(self.final_exact)
        return out


def count_routes(free: np.ndarray, start, goal, *, max_count: int = MAX_COUNT, max_work: int = MAX_WORK):
    """Distinct simple 4-connected routes ``start -> goal`` over ``free`` units (bool ``[U, U]``).

    Returns ``(count, capped, routes)``: routes found (at most ``max_count``), whether a cap
    stopped the search, and the routes as tuples of units.

    Example:
        >>> free = np.zeros((5, 5), bool); free[1:4, 1:4] = True; free[2, 2] = False
        >>> count_routes(free, (1, 1), (3, 3))[:2]       # round the middle either way
        (2, False)
    """
    U = free.shape[0]
    start, goal = tuple(start), tuple(goal)
    if not (free[start] and free[goal]):
        return 0, False, []
    routes, work = [], 0
    path, on_path = [start], {start}
    stack = [iter(_neighbours(start, U))]
    while stack:
        if len(routes) >= max_count or work >= max_work:
            return len(routes), True, routes
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        work += 1
        if nxt in on_path or not free[nxt]:
            continue
        if nxt == goal:
            routes.append(tuple(path) + (goal,))
            continue
        path.append(nxt)
        on_path.add(nxt)
        stack.append(iter(_neighbours(nxt, U)))
    return len(routes), False, routes


def _neighbours(unit, U):
    r, c = unit
    return [(r + dr, c + dc) for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)) if 0 <= r + dr < U and 0 <= c + dc < U]


def _first_stable(flags_or_values, final) -> int | None:
    """First index from which every value equals ``final`` (None when the last one does not)."""
    values = list(flags_or_values)
    if values[-1] != final:
        return None
    i = len(values) - 1
    while i > 0 and values[i - 1] == final:
        i -= 1
    return i


def _scaffold(labels: np.ndarray, maze: Maze) -> tuple[bool, float]:
    wall_ok = (labels == WALL) == maze.walls                                # [F, U, U]
    marks = (labels[:, maze.start[0], maze.start[1]] == START) & (labels[:, maze.goal[0], maze.goal[1]] == GOAL)
    return bool(wall_ok.all() and marks.all()), float(wall_ok.mean())


def _step(amount: np.ndarray, maze: Maze, threshold: float, shortest_units: np.ndarray) -> dict:
    painted = amount >= threshold
    floor = ~maze.walls
    free = painted & floor
    free[maze.start] = free[maze.goal] = True
    count, capped, routes = count_routes(free, maze.start, maze.goal)
    on_candidates = np.zeros_like(free)
    for route in routes:
        on_candidates[tuple(np.array(route).T)] = True
    markers = np.zeros_like(free)
    markers[maze.start] = markers[maze.goal] = True
    rest, _ = ndimage.label(free & ~on_candidates & ~markers, _FOUR)
    touching = ndimage.binary_dilation(on_candidates | markers, _FOUR)
    side = len(set(np.unique(rest[touching & (rest > 0)]).tolist()))
    shown = sum(all(painted[u] for u in route[1:-1]) for route in maze.routes)
    answer = frozenset(zip(*np.nonzero(painted))) | {maze.start, maze.goal}
    answer = frozenset((int(r), int(c)) for r, c in answer)
    correct = any(answer == frozenset(route) for route in maze.routes)
    crosses = bool((painted & maze.walls).any())
    inner = painted & floor
    inner[maze.start] = inner[maze.goal] = False
    off = bool((inner & ~shortest_units).any())
    longer = any(len(route) > maze.route_length for route in routes)
    return {"candidates": count, "candidates_capped": capped, "shortest_shown": shown, "side_branches": side,
            "answer": answer, "answer_correct": correct, "crosses_wall": crosses, "off_route": off,
            "wrong": crosses or off or longer}


def cos_metrics(x0_videos, maze: Maze, *, threshold: float = DEFAULT_THRESHOLD, palette: str = "default",
                steps=None) -> CosSample:
    """Chain-of-Steps metrics of one sample from its x0_hat videos ``[S, F, H, W, 3]`` (uint8).

    Args:
        x0_videos: the decoded x0_hat video at each step, uint8.
        maze: the sample's maze (walls, start, goal, all shortest routes).
        threshold: route colour amount from which a unit counts as painted, in (0, 1].
        palette: palette the maze is drawn in.
        steps: step labels of the rows (default ``0..S-1``).

    Raises:
        InputError: not uint8 ``[S, F, H, W, 3]``, frames the decoder refuses, a threshold out of
            range, or step labels that do not fit.
    """
    videos = np.asarray(x0_videos)
    if videos.dtype != np.uint8 or videos.ndim != 5 or videos.shape[-1] != 3 or 0 in videos.shape:
        raise InputError(
            f"x0_videos must be uint8 [steps, frames, H, W, 3], got {videos.dtype} {videos.shape}: convert "
            "model-space floats in [-1, 1] with model_space_to_uint8")
    check_finite("threshold", threshold, 0.0, 1.0, low_open=True)
    S = len(videos)
    steps = list(range(S)) if steps is None else [int(s) for s in steps]
    if len(steps) != S:
        raise InputError(f"{len(steps)} step labels for {S} steps of x0_hat")
    shortest_units = np.zeros_like(maze.walls)
    for route in maze.routes:
        shortest_units[tuple(np.array(route).T)] = True
    rows, scaffold, agreement = [], [], []
    for video in videos:
        reading = read_units(video, maze, palette=palette)
        rows.append(_step(reading.amount[-1], maze, threshold, shortest_units))
        ok, share = _scaffold(reading.labels, maze)
        scaffold.append(ok)
        agreement.append(share)
    col = {k: np.array([r[k] for r in rows]) for k in rows[0] if k != "answer"}
    answers = [r["answer"] for r in rows]
    final_correct = bool(col["answer_correct"][-1])
    scaffold = np.array(scaffold, bool)
    commit = _first_stable(answers, answers[-1])
    perception = _first_stable(scaffold.tolist(), True)
    action = _first_stable(col["answer_correct"].tolist(), True)
    return CosSample(
        size=maze.size, seed=maze.seed, threshold=float(threshold), steps=steps,
        candidates=col["candidates"].astype(int), candidates_capped=col["candidates_capped"].astype(bool),
        shortest_shown=col["shortest_shown"].astype(int), side_branches=col["side_branches"].astype(int),
        answer_correct=col["answer_correct"].astype(bool), crosses_wall=col["crosses_wall"].astype(bool),
        off_route=col["off_route"].astype(bool), wrong=col["wrong"].astype(bool),
        self_correction=col["wrong"].astype(bool) & final_correct,
        scaffold_correct=scaffold, scaffold_agreement=np.round(np.array(agreement), 6),
        commitment_step=steps[commit],
        perception_step=None if perception is None else steps[perception],
        action_step=None if action is None else steps[action],
        answers=answers,
    )
