"""Measure the maze suite: generation speed, route statistics and scorer robustness.

Run ``python -m interp.tasks.bench`` (add ``--robustness`` for the decoding table). Every figure
quoted in docs/tasks.md comes from this script.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def time_per_call(fn, repeats: int) -> float:
    """Best of three mean wall times per call, in milliseconds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(repeats):
            fn(i)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best * 1e3


def speed_table(sizes=(4, 5, 7, 9, 12), frames: int = 6, px: int = 2, repeats: int = 300) -> list[dict]:
    """Milliseconds per maze for generation, ground-truth video and grid scoring, one core."""
    from PIL import Image, ImageFilter

    from interp.tasks import generate_maze, ground_truth_video
    from interp.tasks.score import score_video

    rows = []
    for size in sizes:
        mazes = [generate_maze(size, seed) for seed in range(repeats)]
        videos = [ground_truth_video(m, frames, px_per_unit=px) for m in mazes[:50]]
        blurred = [np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(1.0))) for f in v]) for v in videos]
        rows.append(
            {
                "size": size,
                "generate_ms": time_per_call(lambda i: generate_maze(size, i), repeats),
                "video_ms": time_per_call(lambda i: ground_truth_video(mazes[i], frames, px_per_unit=px), repeats),
                "score_ms": time_per_call(lambda i: score_video(videos[i % 50], mazes[i % 50]), 50),
                "score_blurred_ms": time_per_call(lambda i: score_video(blurred[i % 50], mazes[i % 50]), 50),
                "route_units_mean": float(np.mean([m.route_length for m in mazes])),
                "routes_mean": float(np.mean([len(m.routes) for m in mazes])),
                "several_routes": float(np.mean([len(m.routes) > 1 for m in mazes])),
            }
        )
    return rows


def robustness_table(sizes=(5, 9), pxs=(1, 2, 3, 4), seeds: int = 20) -> list[dict]:
    """Fraction of ground-truth videos still scored ``exact`` after blur, rescaling, drift."""
    from PIL import Image, ImageFilter

    from interp.tasks import generate_maze, ground_truth_video
    from interp.tasks.score import score_video

    def blur(v, sigma):
        return np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(sigma))) for f in v])

    def scale(v, factor):
        side = int(round(v.shape[1] * factor))
        return np.stack([np.asarray(Image.fromarray(f).resize((side, side), Image.BILINEAR)) for f in v])

    def exact_rate(change, size, px, seeds, deblur=True) -> float:
        ok = 0
        for seed in range(seeds):
            maze = generate_maze(size, seed, extra_openings=0.2)
            try:
                ok += score_video(change(ground_truth_video(maze, 6, px_per_unit=px)), maze, deblur=deblur).exact
            except ValueError:  # InputError: decoded first frame too far from the maze
                pass
        return ok / seeds

    changes = {
        "blur 0.5": lambda v: blur(v, 0.5),
        "blur 1.0": lambda v: blur(v, 1.0),
        "blur 1.5": lambda v: blur(v, 1.5),
        "scale 0.9": lambda v: scale(v, 0.9),
        "scale 1.1": lambda v: scale(v, 1.1),
        "drift": lambda v: np.clip(v * 0.7 + np.array([40, 25, 10]), 0, 255).astype(np.uint8),
        "fade": lambda v: (v * np.linspace(1.0, 0.5, len(v))[:, None, None, None]).astype(np.uint8),
    }
    rows = []
    for size in sizes:
        for px in pxs:
            row = {"size": size, "px": px}
            for name, change in changes.items():
                row[name] = exact_rate(change, size, px, seeds)
            row["blur 1.0, no deblur"] = exact_rate(changes["blur 1.0"], size, px, seeds, deblur=False)
            rows.append(row)
    return rows


def _print(rows: list[dict]) -> None:
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(f"{row[k]:.3f}" if isinstance(row[k], float) else str(row[k]) for k in keys))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robustness", action="store_true", help="also measure decoding robustness")
    args = parser.parse_args(argv)
    _print(speed_table())
    if args.robustness:
        print()
        _print(robustness_table())


if __name__ == "__main__":
    main()
