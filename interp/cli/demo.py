"""``cos demo``: the organism solves a maze while ``cos trace`` records it, then ``cos steps`` draws it.

Every stage is the real command a user would type, run in-process, so the demo is also a smoke
test of the command line. Outputs (the task folder, the trace, the step x frame grid of x0_hat,
an animation over steps, the generated video and its score) go to ``--out``.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="the organism solves a maze; trace it and draw the steps")
    parser.add_argument("--out", default="outputs/demo", help="output folder (default: outputs/demo)")
    parser.add_argument("--size", type=int, default=5, help="maze size in cells (default: 5)")
    parser.add_argument("--seed", type=int, default=900_001, help="maze generator seed (held out from training)")
    parser.add_argument("--num-steps", type=int, default=20, help="denoising steps (default: 20)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs already in --out that an earlier demo did not make")
    parser.set_defaults(func=run)


#: What the demo writes into --out; MARKER says an earlier demo made them, so a rerun may replace them.
OUTPUTS = ("tasks", "trace.h5", "trace.h5.d", "steps.png", "steps.gif", "video.gif", "score.json")
MARKER = ".cos-demo"


def check_args(args: argparse.Namespace):
    """Check every option and the output folder before anything is touched; return --out."""
    from interp.cli.options import check_num_steps, check_output_dir
    from interp.errors import InputError, check_range, check_seed
    from interp.tasks.maze import MAX_SIZE, MIN_SIZE

    check_range("--size", args.size, MIN_SIZE, MAX_SIZE)
    check_seed(args.seed, "--seed")
    check_num_steps(args.num_steps)
    out = check_output_dir(args.out)
    found = [name for name in OUTPUTS if (out / name).exists() or (out / name).is_symlink()]
    if found and not args.overwrite and not (out / MARKER).is_file():
        raise InputError(f"--out {str(out)!r} already holds {', '.join(found)}, not made by cos demo: "
                         "pass --overwrite to replace them, or choose another folder")
    return out


def run(args: argparse.Namespace) -> int:
    import json

    from interp.cli.main import dispatch as cos
    from interp.organism import MazeOrganism
    from interp.store import TraceStore
    from interp.store.layout import remove_store
    from interp.tasks import load_task, score_video
    from interp.tasks.video_io import write_video

    out = check_args(args)
    organism = MazeOrganism.from_pretrained()
    config = organism.config
    tasks = out / "tasks"
    trace = out / "trace.h5"
    stages = [
        ["tasks", "make", "--sizes", str(args.size), "--count", "1", "--seed", str(args.seed),
         "--frames", str(config.num_frames), "--px", str(config.px_per_unit), "--overwrite", "--out", str(tasks)],
        ["trace", "--model", "organism", "--task", str(tasks), "--out", str(trace), "--sites", "resid_post,x0",
         "--num-steps", str(args.num_steps), "--seeds", "0"],
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("outputs of cos demo; a rerun of cos demo replaces them\n")
    remove_store(trace)  # a rerun starts a fresh trace rather than appending to an old one
    for argv in stages:
        print("$ cos " + " ".join(argv), flush=True)
        if (code := cos(argv)) != 0:
            return code
    with TraceStore.open(trace) as store:
        sample_id = store.sample_ids()[0]
        video = store.video(sample_id)
    grid = out / "steps.png"
    argv = ["steps", str(trace), "--sample", sample_id, "--out", str(grid), "--gif", str(out / "steps.gif")]
    print("$ cos " + " ".join(argv), flush=True)
    if (code := cos(argv)) != 0:
        return code
    task = load_task(next(p for p in sorted(tasks.iterdir()) if p.is_dir()))
    score = score_video(video, task.maze)
    write_video(out / "video.gif", video)
    (out / "score.json").write_text(json.dumps(score.to_dict(), indent=2) + "\n")
    verdict = "solved exactly" if score.exact else ("a valid route" if score.valid_route else "not solved")
    print(f"\nmaze {task.folder.name}: {verdict} (VBVR maze score {score.vbvr_score:.3f})")
    print(f"outputs in {out}/:")
    for name, what in [("tasks/", "the task (VBVR-Bench layout)"), ("trace.h5", "the trace store"),
                       ("steps.png", "step x frame grid of x0_hat"), ("steps.gif", "x0_hat over the steps"),
                       ("video.gif", "the generated video"), ("score.json", "the scorer's report")]:
        print(f"  {out / name}  {what}")
    return 0
