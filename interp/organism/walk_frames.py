"""The walker's pixel format: its labels, its palette, and a plain maze image made into its frame 0.

The walking organism (:mod:`interp.organism.walk_model`) was trained on frames drawn in this
palette; its adapter (:class:`interp.models.walker.WalkerModel`) reads a maze image through
:func:`as_walk_first_frame`, so this module sits beside the network, below the tasks. The walk
task (:mod:`interp.tasks.walk`) draws and scores walks with the same functions. The first five
labels and colours are the maze's (:data:`interp.tasks.render.PALETTES` ``"default"``, same
indices), checked by ``tests/tasks/test_walk_frames.py``.

Example:
    >>> walk_palette_array().shape
    (7, 3)
    >>> decode_walk_labels(render_walk(np.array([[WALL, AGENT], [KEY, FLOOR]])), 2).tolist()
    [[[1, 6], [5, 0]]]
"""

from __future__ import annotations

from collections import deque

import numpy as np

from interp.errors import InputError, check_range

FLOOR, WALL, START, GOAL, PATH, KEY, AGENT = range(7)
WALK_LABELS = ("floor", "wall", "start", "goal", "path", "key", "agent")
#: The maze palette ``"default"`` plus the key and the agent, far from every other colour in RGB.
WALK_PALETTE = {"floor": (255, 255, 255), "wall": (0, 0, 0), "start": (0, 200, 0), "goal": (230, 0, 0),
                "path": (0, 90, 255), "key": (255, 200, 0), "agent": (200, 0, 200)}


def walk_palette_array() -> np.ndarray:
    """uint8 ``[7, 3]``: row ``i`` is the colour of walk label ``i``."""
    return np.array([WALK_PALETTE[name] for name in WALK_LABELS], dtype=np.uint8)


def render_walk(labels: np.ndarray, px_per_unit: int = 2) -> np.ndarray:
    """Colour walk labels (``[..., U, U]``): uint8 ``[..., U * px, U * px, 3]``."""
    check_range("px_per_unit", px_per_unit, 1, 64)
    image = walk_palette_array()[np.asarray(labels)]
    return image.repeat(px_per_unit, axis=-3).repeat(px_per_unit, axis=-2)


def decode_walk_labels(video, units: int) -> np.ndarray:
    """Nearest walk-palette label of every unit's central colour: uint8 ``[F, U, U]``.

    ``video`` is uint8 ``[F, H, W, 3]`` (or one frame); a unit is ``H / U`` pixels and its colour
    the mean of its central half, so a blurred edge counts little.
    """
    frames = np.asarray(video)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"a walk video is [F, H, W, 3], got shape {frames.shape}")
    _, H, W, _ = frames.shape
    if H % units or W % units:
        raise InputError(f"frames of {H}x{W} px do not divide into {units}x{units} units")
    ph, pw = H // units, W // units
    cells = frames.astype(np.float32).reshape(frames.shape[0], units, ph, units, pw, 3)
    lo_h, hi_h = ph // 4, max(ph // 4 + 1, ph - ph // 4)
    lo_w, hi_w = pw // 4, max(pw // 4 + 1, pw - pw // 4)
    colours = cells[:, :, lo_h:hi_h, :, lo_w:hi_w].mean(axis=(2, 4))
    pal = walk_palette_array().astype(np.float32)
    dist = ((colours[..., None, :] - pal) ** 2).sum(-1)
    return dist.argmin(-1).astype(np.uint8)


def as_walk_first_frame(image: np.ndarray, px_per_unit: int = 2, key: tuple[int, int] | None = None) -> np.ndarray:
    """A maze image as the walker's frame 0: uint8 ``[H, W, 3]``.

    A walk frame (one showing the agent) is returned unchanged. A plain maze image (walls, floor,
    start, goal, as :func:`interp.tasks.render.render_maze` draws it) gets the agent on its start
    and, if it shows no key, a key on ``key`` or by default on the cell farthest from the start along
    the floor (other than the goal; the first such cell in row-major order), so every maze tool can
    give its mazes to the walker. Two mazes that differ in one wall can have different default keys:
    a minimal pair gives both the clean maze's ``key``.
    """
    frame = np.asarray(image)
    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.shape[0] != frame.shape[1]:
        raise InputError(f"a maze image is square [H, W, 3], got shape {frame.shape}")
    if frame.shape[0] % px_per_unit:
        raise InputError(f"a {frame.shape[0]} px image does not divide into units of {px_per_unit} px")
    labels = decode_walk_labels(frame, frame.shape[0] // px_per_unit)[0]
    if (labels == AGENT).any():
        return frame
    starts, goals = np.argwhere(labels == START), np.argwhere(labels == GOAL)
    if len(starts) != 1 or len(goals) != 1:
        raise InputError(f"the maze image shows {len(starts)} start and {len(goals)} goal units: expected one of each")
    start, goal = tuple(int(v) for v in starts[0]), tuple(int(v) for v in goals[0])
    if not (labels == KEY).any():
        key = default_key(labels == WALL, start, goal) if key is None else tuple(key)
        if labels[key] != FLOOR:
            raise InputError(f"the key's unit {key} is not floor in this maze")
        labels[key] = KEY
    labels[start] = AGENT
    return render_walk(labels, px_per_unit)


def default_key(walls: np.ndarray, start: tuple[int, int], goal: tuple[int, int]) -> tuple[int, int]:
    """The key a plain maze gets (:func:`as_walk_first_frame`): the cell farthest from the start along
    the floor, other than the goal, the first such cell in row-major order."""
    dist = _distances(~np.asarray(walls, bool), start)
    dist[goal] = -1
    centres = np.zeros_like(dist, dtype=bool)
    centres[1::2, 1::2] = True
    dist[~centres] = -1
    return tuple(int(v) for v in np.unravel_index(int(dist.argmax()), dist.shape))


def _distances(free: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Steps over the 4-connected ``free`` units from ``start``; -1 where unreachable."""
    dist = np.full(free.shape, -1)
    dist[start] = 0
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r - 1, c), (r, c - 1), (r, c + 1), (r + 1, c)):
            if 0 <= nr < free.shape[0] and 0 <= nc < free.shape[1] and free[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                queue.append((nr, nc))
    return dist
