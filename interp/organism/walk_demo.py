"""The walker demo: one held-out maze walked to the goal and to the key, traced by expert and branch.

For each prompt the run is captured into a trace store (``resid_post`` of three blocks and ``x0``,
both guidance branches, every step; each step labelled with its expert), then the video, the
step x frame grid of x0_hat and the walk score are written. ``make demo-walk`` runs it.

    python -m interp.organism.walk_demo --out outputs/demo-walk
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TRACED_LAYERS = (2, 5, 8)


def run_demo(out: str | Path, *, size: int = 5, seed: int = 9, num_steps: int = 20) -> dict:
    """Write the demo's outputs into ``out``; returns the summary written as ``summary.json``."""
    from interp.capture import CaptureSpec, capture
    from interp.models import load_model
    from interp.organism.walk_eval import first_frames
    from interp.store import TraceStore
    from interp.tasks.video_io import write_video
    from interp.tasks.walk import generate_walk_maze
    from interp.tasks.walk_score import score_walk
    from interp.viz.steps_grid import decode_x0, step_frame_grid, x0_from_store

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model("maze-walk-tiny")
    walk = generate_walk_maze(size, seed)
    frame = first_frames([walk], model.organism.config.px_per_unit)
    spec = CaptureSpec.make(["resid_post", "x0"], layers=TRACED_LAYERS, branches=("cond", "uncond"), dtype="float32")
    summary = {"maze": {"size": size, "seed": seed}, "num_steps": num_steps,
               "guidance_scale": model.organism.config.guidance_scale, "runs": {}}
    for prompt in ("goal", "key"):
        inputs = model.prepare(first_frame=frame, seeds=[seed], prompt=prompt)
        trace = out / f"trace_{prompt}.h5"
        result = capture(model, inputs, spec, trace, num_steps=num_steps, progress=False)
        video = result.result.video[0]
        write_video(out / f"video_{prompt}.gif", video, fps=4)
        with TraceStore.open(trace) as store:
            sample_id = store.sample_ids()[0]
            frames, steps, sigmas = x0_from_store(store, sample_id)
            experts = store.meta(sample_id)["experts"]
        step_frame_grid(decode_x0(model, frames, progress=False), steps, out / f"steps_{prompt}.png", sigmas=sigmas)
        score = score_walk(video, walk, prompt)
        summary["runs"][prompt] = {"trace": trace.name, "experts_per_step": experts, "exact": score.exact,
                                   "exact_route": score.exact_route, "walk_ok": score.walk_ok, "failure": score.failure}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="the walker walks one maze to the goal and to the key, traced")
    parser.add_argument("--out", default="outputs/demo-walk")
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--seed", type=int, default=9, help="held-out maze seed (default 9: solved for both prompts)")
    parser.add_argument("--num-steps", type=int, default=20)
    args = parser.parse_args(argv)
    summary = run_demo(args.out, size=args.size, seed=args.seed, num_steps=args.num_steps)
    for prompt, run in summary["runs"].items():
        print(f"{prompt}: exact {run['exact']} (route {run['exact_route']}, walk {run['walk_ok']}); "
              f"experts {run['experts_per_step'].count('transformer')} high-noise + "
              f"{run['experts_per_step'].count('transformer_2')} low-noise steps")
    print(f"outputs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
