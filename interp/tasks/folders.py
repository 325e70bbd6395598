"""Task folders on disk: write one VBVR-layout folder per maze, and find the folders again.

What ``cos tasks make`` and ``cos trace --task`` do, for scripts and notebooks too.

Example:
    >>> import tempfile
    >>> folders = make_tasks(tempfile.mkdtemp(), sizes=[5], count=2, seed=3, video_format="png")
    >>> [f.name for f in folders], len(find_tasks([str(folders[0].parent)]))
    (['maze5_s3', 'maze5_s4'], 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from interp.errors import MAX_SEED, InputError, check_choice, check_finite, check_range, check_seed


def task_folder_name(size: int, seed: int) -> str:
    """Folder name of one maze: ``maze<size>_s<seed>``."""
    return f"maze{size}_s{seed}"


def make_tasks(out: str | Path, *, sizes: Sequence[int] = (5,), count: int = 1, seed: int = 0, num_frames: int = 4,
               px_per_unit: int = 2, palette: str = "default", extra_openings: float = 0.1,
               min_route_cells: int | None = None, video_format: str = "auto", fps: float = 4.0,
               overwrite: bool = False) -> list[Path]:
    """Write ``count`` mazes per size (seeds ``seed .. seed + count - 1``) as task folders under ``out``.

    Every option and every folder is checked, and every maze made, before anything is written, so
    a bad option leaves the disk untouched. Returns the folders in the order written.
    """
    from interp.outputs import check_output_dir
    from interp.tasks.maze import MAX_SIZE, MIN_SIZE, generate_maze
    from interp.tasks.render import MAX_PX_PER_UNIT, PALETTES
    from interp.tasks.vbvr import MAX_FPS, VIDEO_FORMATS, check_writable, save_task
    from interp.tasks.video_io import has_ffmpeg

    for size in sizes:
        check_range("maze size", size, MIN_SIZE, MAX_SIZE)
    check_range("count", count, 1, 10**7)
    check_range("frames", num_frames, 2, 10_000)
    check_range("px", px_per_unit, 1, MAX_PX_PER_UNIT)
    check_choice("palette", palette, tuple(PALETTES))
    check_choice("video format", video_format, VIDEO_FORMATS)
    if video_format == "mp4" and not has_ffmpeg():
        raise InputError("video format 'mp4' needs imageio and imageio-ffmpeg: pip install 'cos-interp[video]'")
    check_seed(seed, "--seed")
    if seed + count - 1 > MAX_SEED:
        raise InputError(f"--seed {seed} with --count {count} runs past the largest seed {MAX_SEED}")
    check_finite("--fps", fps, 0, MAX_FPS, low_open=True)
    check_finite("extra_openings", extra_openings, 0, 1)
    if min_route_cells is not None:
        check_range("--min-route-cells", min_route_cells, 1, MAX_SIZE * MAX_SIZE)
    out = check_output_dir(out)
    jobs = [(size, seed + i) for size in dict.fromkeys(sizes) for i in range(count)]
    for size, s in jobs:
        check_writable(out / task_folder_name(size, s), overwrite=overwrite)
    # generation takes about a millisecond per maze, so only big batches get a bar
    mazes = [generate_maze(size, s, extra_openings=extra_openings, min_route_cells=min_route_cells)
             for size, s in tqdm(jobs, desc="generate", unit="maze", leave=False, disable=len(jobs) < 2000)]
    folders = []
    for (size, s), maze in tqdm(list(zip(jobs, mazes)), desc="write", unit="task"):
        folders.append(save_task(maze, out / task_folder_name(size, s), num_frames=num_frames,
                                 px_per_unit=px_per_unit, palette=palette, video_format=video_format, fps=fps,
                                 overwrite=overwrite))
    return folders


def find_tasks(folders: Sequence[str | Path]) -> list:
    """Load task folders; a folder without ``first_frame.png`` contributes its task subfolders."""
    from interp.tasks.vbvr import load_task

    tasks = []
    for folder in map(Path, folders):
        if folder.is_dir() and not (folder / "first_frame.png").is_file():
            children = sorted(p for p in folder.iterdir() if (p / "first_frame.png").is_file())
            if not children:
                raise InputError(f"{str(folder)!r} is neither a task folder nor a folder of task folders")
            tasks.extend(load_task(child) for child in children)
        else:
            tasks.append(load_task(folder))
    return tasks
