"""``cos demo``: the organism solves a maze while ``cos trace`` records it, then ``cos steps`` draws it.

The default maze is the held-out 5x5 maze picked by the rule of :mod:`interp.organism.showcase`:
its early x0_hat paints two routes and the answer is fixed only at step 8 of 20, so the figure
shows candidates first and commitment later. Every stage is the real command a user would type,
run in-process, so the demo is also a smoke test of the command line. Outputs (the task folder,
a small trace, the Chain-of-Steps figure and its numbers, the step x frame grid of x0_hat, an
animation over steps, the generated video and its score) go to ``--out``.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="the organism solves a maze; trace it and draw the steps")
    parser.add_argument("--out", default="outputs/demo", help="output folder (default: outputs/demo)")
    parser.add_argument("--size", type=int, default=5, help="maze size in cells (default: 5)")
    parser.add_argument("--seed", type=int, default=900_010,
                        help="maze generator seed, held out from training (default: 900010, the maze the "
                             "showcase rule picks: two routes early, answer fixed late)")
    parser.add_argument("--num-steps", type=int, default=20, help="denoising steps (default: 20)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs already in --out that an earlier demo did not make")
    parser.set_defaults(func=run)


#: What the demo writes into --out; MARKER says an earlier demo made them, so a rerun may replace them.
OUTPUTS = ("tasks", "trace.h5", "trace.h5.d", "chain_of_steps.png", "chain_of_steps.json", "steps.png", "steps.gif",
           "video.gif", "score.json")
#: blocks stored in full: early, middle and late of the organism's 12 (all 12 would be 60 MB per maze)
TRACED_LAYERS = "2,6,10"
MARKER = ".cos-demo"


def check_args(args: argparse.Namespace):
    """Check every option and the output folder before anything is touched; return --out."""
    from interp.cli.options import check_num_steps
    from interp.outputs import check_output_dir
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
    from interp.tasks import load_task
    from interp.tasks.score import score_output
    from interp.organism.showcase import trajectory
    from interp.tasks.video_io import write_video
    from interp.viz.chain_of_steps import pick_rows
    from interp.viz.steps_grid import x0_from_store

    out = check_args(args)
    organism = MazeOrganism.from_pretrained()
    config = organism.config
    tasks = out / "tasks"
    trace = out / "trace.h5"
    stages = [
        ["tasks", "make", "--sizes", str(args.size), "--count", "1", "--seed", str(args.seed),
         "--frames", str(config.num_frames), "--px", str(config.px_per_unit), "--overwrite", "--out", str(tasks)],
        ["trace", "--model", "organism", "--task", str(tasks), "--out", str(trace), "--sites", "resid_post,x0",
         "--layers", TRACED_LAYERS, "--num-steps", str(args.num_steps), "--seeds", "0"],
    ]
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("outputs of cos demo; a rerun of cos demo replaces them\n")
    remove_store(trace)  # a rerun starts a fresh trace rather than appending to an old one
    for argv in stages:
        print("$ cos " + " ".join(argv), flush=True)
        if (code := cos(argv)) != 0:
            return code
    task = load_task(next(p for p in sorted(tasks.iterdir()) if p.is_dir()))
    with TraceStore.open(trace) as store:
        sample_id = store.sample_ids()[0]
        video = store.video(sample_id)
        x0, steps, sigmas = x0_from_store(store, sample_id)
    curve = trajectory(task.maze, x0, video, config)
    rows = pick_rows(len(steps), curve.commit_step)
    argv = ["steps", str(trace), "--sample", sample_id, "--steps", ",".join(map(str, rows)),
            "--out", str(out / "steps.png"), "--gif", str(out / "steps.gif"), "--overwrite"]
    print("$ cos " + " ".join(argv), flush=True)
    if (code := cos(argv)) != 0:
        return code
    _chain_of_steps_figure(out, task, curve, x0, steps, sigmas, rows, config)
    score = score_output(video, task.maze)
    write_video(out / "video.gif", video)
    (out / "score.json").write_text(json.dumps(score.to_dict(), indent=2) + "\n")
    verdict = "solved exactly" if score.exact else ("a valid route" if score.valid_route else "not solved")
    print(f"\nmaze {task.folder.name}: {verdict} (VBVR maze score {score.vbvr_score:.3f}); "
          f"{curve.routes} shortest routes, answer fixed from step {curve.commit_step} of {len(steps)}")
    print(f"outputs in {out}/:")
    for name, what in [("chain_of_steps.png", "the figure: x0_hat per step beside the maze's Chain-of-Steps curve"),
                       ("chain_of_steps.json", "the curve's numbers"), ("tasks/", "the task (VBVR-Bench layout)"),
                       ("trace.h5", f"the trace store (x0 and blocks {TRACED_LAYERS} in full)"),
                       ("steps.png", "step x frame grid of x0_hat"), ("steps.gif", "x0_hat over the steps"),
                       ("video.gif", "the generated video"), ("score.json", "the scorer's report")]:
        print(f"  {out / name}  {what}")
    return 0


def _chain_of_steps_figure(out, task, curve, x0, steps, sigmas, rows, config) -> None:
    """``chain_of_steps.png`` (grid of the drawn rows beside the curve) and ``chain_of_steps.json``."""
    import json

    import numpy as np
    import torch

    from interp.organism.showcase import MIN_ALTERNATIVE, MIN_COMMIT
    from interp.organism.showcase import to_pixels
    from interp.viz.chain_of_steps import plot_chain_of_steps

    index = [steps.index(s) for s in rows]
    frames = np.stack([to_pixels(torch.as_tensor(x0[i])) for i in index])
    maze = task.maze
    title = (f"The organism solving held-out maze {maze.size}x{maze.size} (seed {maze.seed}, "
             f"{curve.routes} shortest routes): x0_hat per denoising step")
    note = (f"n = 1 maze, noise seed 0, {len(steps)} steps; the answer decoded from x0_hat's last frame "
            f"is fixed from step {curve.commit_step}.")
    plot_chain_of_steps(frames, rows, None if sigmas is None else [sigmas[i] for i in index],
                        curve.to_dict(), out / "chain_of_steps.png", palette=config.palette_colors,
                        title=title, note=note)
    record = {**curve.to_dict(), "steps": list(steps), "sigmas": sigmas, "rows_drawn": rows,
              "rule": {"min_alternative_at_step0": MIN_ALTERNATIVE, "min_commit_step": MIN_COMMIT},
              "passes_rule": curve.accepted()}
    (out / "chain_of_steps.json").write_text(json.dumps(record, indent=2) + "\n")
