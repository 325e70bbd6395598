"""``cos tasks``: make maze task folders and score videos against them.

Examples::

    cos tasks make --sizes 5 7 --count 10 --seed 0 --frames 4 --px 2 --out outputs/tasks
    cos tasks score outputs/tasks/maze5_s0/ground_truth.mp4 --task outputs/tasks/maze5_s0 --json scores.json
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("tasks", help="make maze tasks (VBVR layout) and score videos")
    actions = parser.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)

    make = actions.add_parser("make", help="write one VBVR-layout task folder per maze")
    make.add_argument("--sizes", type=int, nargs="+", default=[5], help="maze sizes in cells per side, 4..12")
    make.add_argument("--count", type=int, default=1, help="mazes per size (seeds SEED..SEED+COUNT-1)")
    make.add_argument("--seed", type=int, default=0, help="first generator seed")
    make.add_argument("--frames", type=int, default=4,
                      help="frames of the ground-truth video (>= 2; default: 4, as many as the organism generates)")
    make.add_argument("--px", type=int, default=2, help="pixels per grid unit")
    make.add_argument("--extra-openings", type=float, default=0.1, help="fraction of removable walls opened (0..1)")
    make.add_argument("--min-route-cells", type=int, default=None, help="minimum cells on the route (default: size)")
    make.add_argument("--palette", default="default", help="colour palette name")
    make.add_argument("--video-format", default="auto", help="auto, mp4, png or gif")
    make.add_argument("--fps", type=float, default=4.0, help="frame rate of the ground-truth video")
    make.add_argument("--overwrite", action="store_true", help="replace files in non-empty folders")
    make.add_argument("--out", required=True, help="output folder; one subfolder maze<size>_s<seed> per maze")
    make.set_defaults(func=run_make)

    score = actions.add_parser("score", help="score videos against a task folder")
    score.add_argument("videos", nargs="+", metavar="VIDEO_OR_DIR", help="video files or folders of PNG frames")
    score.add_argument("--task", required=True, help="task folder (this package's or VBVR-Bench's)")
    score.add_argument("--palette", default=None, help="palette (default: the task's)")
    score.add_argument("--json", default=None, metavar="OUT", help="also write all scores to this JSON file")
    score.add_argument("--overwrite", action="store_true", help="replace the --json file if it exists")
    score.set_defaults(func=run_score)


def run_make(args: argparse.Namespace) -> int:
    from interp.tasks.folders import make_tasks

    folders = make_tasks(args.out, sizes=args.sizes, count=args.count, seed=args.seed, num_frames=args.frames,
                         px_per_unit=args.px, palette=args.palette, extra_openings=args.extra_openings,
                         min_route_cells=args.min_route_cells, video_format=args.video_format, fps=args.fps,
                         overwrite=args.overwrite)
    print(f"wrote {len(folders)} task folders to {folders[0].parent}")
    return 0


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def run_score(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from interp.outputs import claim_file, write_json
    from interp.errors import check_choice
    from interp.tasks import PALETTES
    from interp.tasks.vbvr import load_task
    from interp.tasks.video_io import read_video

    task = load_task(args.task)
    palette = args.palette or task.palette
    check_choice("palette", palette, tuple(PALETTES))
    if args.json is not None:
        claim_file(args.json, overwrite=args.overwrite, option="--json")
    rows = []
    for path in tqdm(args.videos, desc="score", unit="video", leave=False, disable=len(args.videos) < 20):
        result = task.score(read_video(path), palette=palette)
        rows.append({"video": str(path), **result.to_dict()})

    columns = ("video", "mode", "exact", "valid_route", "vbvr_score",
               "avoids_walls", "touches_start_goal", "connected", "walls_preserved")
    table = [[_fmt(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(columns)]
    for r in [list(columns)] + table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    if args.json is not None:
        write_json(args.json, {"task": str(args.task), "scores": rows}, indent=1)
    return 0
