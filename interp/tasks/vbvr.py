"""Maze tasks on disk in the VBVR-Bench sample layout.

A task folder holds::

    first_frame.png      the bare maze (start and goal shown): the image a model is conditioned on
    final_frame.png      the solved maze (the whole route drawn)
    ground_truth.mp4     the solution video (or ground_truth/frame_000.png ... without ffmpeg)
    prompt.txt           the instruction
    metadata.json        the maze (walls, start, goal, all shortest routes, seed, version) and how
                         it was drawn (palette, px_per_unit, num_frames, fps)

:func:`load_task` also reads folders written by VBVR-Bench itself (a first frame and a prompt,
any or no ``metadata.json``); their :attr:`Task.maze` is None.

Example:
    >>> import tempfile
    >>> from interp.tasks import generate_maze
    >>> folder = save_task(generate_maze(5, seed=0), tempfile.mkdtemp() + "/maze", video_format="png")
    >>> task = load_task(folder)
    >>> task.maze == generate_maze(5, seed=0), task.ground_truth.shape
    (True, (6, 22, 22, 3))
    >>> task.score(task.ground_truth).exact
    True
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import interp
from interp.errors import InputError, check_choice, check_finite, check_range
from interp.tasks.maze import Maze
from interp.tasks.render import MAX_PX_PER_UNIT, PALETTES, ground_truth_video
from interp.tasks.video_io import has_ffmpeg, read_video, write_video
from interp.validate import Field

GENERATOR = "cos-interp"
FORMAT_VERSION = 1
VIDEO_FORMATS = ("auto", "mp4", "png", "gif")
MAX_FPS = 1000.0
OWN_FILES = ("first_frame.png", "final_frame.png", "prompt.txt", "metadata.json", "ground_truth.mp4", "ground_truth.gif")

COLOUR_WORDS: dict[str, dict[str, str]] = {
    "default": {"floor": "white", "wall": "black", "start": "green", "goal": "red", "path": "blue"},
    "colorblind": {"floor": "white", "wall": "black", "start": "bluish-green", "goal": "orange", "path": "blue"},
}


def maze_prompt(palette: str = "default") -> str:
    """The instruction that goes with a maze drawn in ``palette``."""
    check_choice("palette", palette, tuple(PALETTES))
    # a palette added to PALETTES without words is described by its RGB values
    w = COLOUR_WORDS.get(palette) or {k: f"RGB{tuple(v)}" for k, v in PALETTES[palette].items()}
    return (
        f"The image shows a maze seen from above: {w['wall']} walls, {w['floor']} corridors, "
        f"a {w['start']} start square and a {w['goal']} goal square. Draw the shortest path from the "
        f"{w['start']} square to the {w['goal']} square as a {w['path']} line through the {w['floor']} "
        f"corridors, step by step, without crossing any {w['wall']} wall. The walls, start and goal "
        "do not move."
    )


@dataclass
class Task:
    """One task sample read from disk.

    Attributes:
        folder: where it was read from.
        first_frame: uint8 ``[H, W, 3]``.
        prompt: the instruction ("" when the folder has no ``prompt.txt``).
        final_frame: uint8 ``[H, W, 3]`` or None.
        ground_truth: uint8 ``[F, H, W, 3]`` or None.
        maze: the :class:`Maze` for folders written by this package, else None.
        metadata: the parsed ``metadata.json`` ({} when absent).
    """

    folder: Path
    first_frame: np.ndarray
    prompt: str = ""
    final_frame: np.ndarray | None = None
    ground_truth: np.ndarray | None = None
    maze: Maze | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def palette(self) -> str:
        """Palette the task was drawn with ("default" when unknown)."""
        return str(self.metadata.get("palette", "default")) if self.maze is not None else "default"

    @property
    def px_per_unit(self) -> int | None:
        """Pixels per grid unit, for folders written by this package."""
        return int(self.metadata["px_per_unit"]) if self.maze is not None else None

    def score(self, video, *, palette: str | None = None):
        """Score ``video``: by grid units when the maze is known, else from pixels.

        Uses :func:`~interp.tasks.score.score_video` or, for folders without maze metadata,
        :func:`~interp.tasks.score.score_video_images` with this task's first frame.
        """
        from interp.tasks.score import score_video, score_video_images

        palette = palette or self.palette
        if self.maze is not None:
            return score_video(video, self.maze, palette=palette)
        return score_video_images(video, first_frame=self.first_frame, palette=palette)


def is_own_task(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds a ``metadata.json`` written by this package."""
    try:
        meta = json.loads((Path(folder) / "metadata.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("generator") == GENERATOR


def check_writable(folder: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Raise :class:`InputError` unless :func:`save_task` may write into ``folder``.

    Missing or empty folders may be written; so may a task folder of this package holding
    nothing else; anything else only with ``overwrite``.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{str(folder)!r} exists and is not a folder")
    if overwrite or not folder.is_dir() or not any(folder.iterdir()):
        return
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in OWN_FILES + ("ground_truth",))
    if foreign or not is_own_task(folder):
        what = f"holds {foreign[:3]}" if foreign else "is not a task folder of " + GENERATOR
        raise InputError(f"folder {str(folder)!r} is not empty and {what}: pass overwrite to replace")


def save_task(
    maze: Maze,
    folder: str | os.PathLike,
    *,
    num_frames: int = 6,
    px_per_unit: int = 2,
    palette: str = "default",
    route_index: int = 0,
    prompt: str | None = None,
    video_format: str = "auto",
    fps: float = 4.0,
    overwrite: bool = False,
) -> Path:
    """Write ``maze`` as a VBVR-layout task folder and return its path.

    Args:
        maze: the maze.
        folder: target folder; created if missing.
        num_frames: frames of the ground-truth video (>= 2).
        px_per_unit: pixels per grid unit.
        palette: a key of :data:`PALETTES`.
        route_index: which shortest route the ground truth draws.
        prompt: instruction text (default :func:`maze_prompt`).
        video_format: ``"mp4"``, ``"png"`` (``ground_truth/`` frames), ``"gif"``, or ``"auto"``
            (mp4 when imageio-ffmpeg is installed, else png).
        fps: frame rate stored with the video.
        overwrite: replace the files of a non-empty folder. Without it, a folder written by this
            package is replaced only when it holds nothing else, and any other non-empty folder is
            refused.

    Raises:
        InputError: bad arguments or a folder that may not be written; nothing is written then.
    """
    check_range("num_frames", num_frames, 2, 10_000)
    check_range("px_per_unit", px_per_unit, 1, MAX_PX_PER_UNIT)
    check_choice("palette", palette, tuple(PALETTES))
    check_choice("video_format", video_format, VIDEO_FORMATS)
    check_range("route_index", route_index, 0, len(maze.routes) - 1)
    fps = check_finite("fps", fps, 0, MAX_FPS, low_open=True)
    if video_format == "auto":
        video_format = "mp4" if has_ffmpeg() else "png"
    if video_format == "mp4" and not has_ffmpeg():
        raise InputError("video_format 'mp4' needs imageio and imageio-ffmpeg: pip install 'cos-interp[video]'")
    folder = Path(folder)
    check_writable(folder, overwrite=overwrite)

    video = ground_truth_video(maze, num_frames, route_index=route_index, palette=palette, px_per_unit=px_per_unit)
    text = maze_prompt(palette) if prompt is None else str(prompt)
    video_name = {"mp4": "ground_truth.mp4", "gif": "ground_truth.gif", "png": "ground_truth"}[video_format]
    meta = {
        "task": "maze",
        "generator": GENERATOR,
        "generator_version": interp.__version__,
        "format_version": FORMAT_VERSION,
        "maze": maze.to_dict(),
        "palette": palette,
        "palette_colors": {k: list(v) for k, v in PALETTES[palette].items()},
        "px_per_unit": int(px_per_unit),
        "num_frames": int(num_frames),
        "route_index": int(route_index),
        "fps": float(fps),
        "height": int(video.shape[1]),
        "width": int(video.shape[2]),
        "ground_truth": video_name,
    }

    from PIL import Image

    # Written complete under a temporary name first, so a failure (a full disk, a kill) never
    # leaves a half-written task folder that a rerun would have to refuse.
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    try:
        tmp.mkdir(parents=True)
        Image.fromarray(video[0]).save(tmp / "first_frame.png")
        Image.fromarray(video[-1]).save(tmp / "final_frame.png")
        (tmp / "prompt.txt").write_text(text + "\n", encoding="utf-8")
        write_video(tmp / video_name, video, fps=fps)
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        _move_into_place(tmp, folder, video_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _move_into_place(tmp: Path, folder: Path, video_name: str) -> None:
    """Make the complete task in ``tmp`` the task at ``folder``.

    A missing or empty ``folder`` is replaced by one rename. Into a non-empty one (an earlier
    task, or other files with ``overwrite``) the files move one by one, ``metadata.json`` last,
    so other files stay and the folder reads as a task of this package throughout.
    """
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        os.replace(tmp, folder)
        return
    for name in OWN_FILES:  # a stale video of another format would be read back instead
        if name.startswith("ground_truth") and name != video_name and (folder / name).is_file():
            (folder / name).unlink()
    if video_name != "ground_truth" and (folder / "ground_truth").is_dir():
        for frame in (folder / "ground_truth").glob("frame_*.png"):
            frame.unlink()
    for item in sorted(tmp.iterdir(), key=lambda p: p.name == "metadata.json"):
        target = folder / item.name
        if item.is_dir():
            target.mkdir(exist_ok=True)
            for frame in target.glob("frame_*.png"):
                frame.unlink()
            for frame in item.iterdir():
                os.replace(frame, target / frame.name)
        else:
            os.replace(item, target)


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    from interp.validate import check_image_file

    check_image_file(path)  # the header first: a huge image is refused before it is decoded
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as err:
        raise InputError(f"cannot read image {str(path)!r}: {err}") from None


def load_task(folder: str | os.PathLike) -> Task:
    """Read a task folder (this package's or VBVR-Bench's); see the module docstring.

    Raises:
        InputError: no such folder, no ``first_frame.png``, unreadable files, or metadata of this
            package that does not fit the images.
    """
    from interp.validate import check_schema, read_json, read_text

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"task folder {str(folder)!r} does not exist")
    if not (folder / "first_frame.png").is_file():
        raise InputError(f"task folder {str(folder)!r} has no first_frame.png")
    first = _read_image(folder / "first_frame.png")
    final = _read_image(folder / "final_frame.png") if (folder / "final_frame.png").is_file() else None
    prompt = read_text(folder / "prompt.txt", "prompt").strip() if (folder / "prompt.txt").is_file() else ""
    meta: dict = {}
    if (folder / "metadata.json").is_file():
        meta = read_json(folder / "metadata.json", "task metadata", require_dict=False)
        if not isinstance(meta, dict):
            meta = {"value": meta}
    maze = None
    if meta.get("generator") == GENERATOR and meta.get("task") == "maze":
        check_schema(meta, task_metadata_schema(), str(folder / "metadata.json"))
        maze = Maze.from_dict(meta["maze"])
        expected = maze.units * meta["px_per_unit"]
        if first.shape[:2] != (expected, expected):
            raise InputError(
                f"first_frame.png of {str(folder)!r} is {first.shape[1]}x{first.shape[0]} but the metadata "
                f"describes {expected}x{expected} ({maze.units} units x {meta.get('px_per_unit')} px)"
            )
    video = None
    for name in ("ground_truth.mp4", "ground_truth.gif", "ground_truth"):
        path = folder / name
        if path.is_file() or (path.is_dir() and any(path.glob("*.png"))):
            video = read_video(path)
            break
    return Task(folder=folder, first_frame=first, prompt=prompt, final_frame=final, ground_truth=video, maze=maze, metadata=meta)


def task_metadata_schema() -> dict[str, Field]:
    """What a task folder's ``metadata.json`` written by this package must hold."""
    return {
        "maze": Field(dict, required=True),
        "px_per_unit": Field(int, required=True, low=1, high=MAX_PX_PER_UNIT),
        "palette": Field(str, choices=tuple(PALETTES)),
        "num_frames": Field(int, low=2, high=10_000),
        "fps": Field(float, low=0, high=1000, low_open=True),
        "route_index": Field(int, low=0),
        "height": Field(int, low=1),
        "width": Field(int, low=1),
        "ground_truth": Field(str),
    }
