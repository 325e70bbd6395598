"""Train the walking organism and evaluate it on held-out mazes, in one GPU run.

1. :func:`interp.organism.walk_train.train` for ``--time-limit`` seconds (trunk, then two experts).
2. Guidance scale chosen on validation mazes (seeds 500,000 + i, ``--val-count`` per size and
   prompt): the scale with the highest mean exact rate over sizes and prompts; it becomes the
   shipped default.
3. Test: held-out seeds 0 .. ``--count`` - 1 per size, both prompts, both experts together and each
   alone, at the chosen scale; then every other scale with both experts while time remains.

Run::

    python experiments/train_walker.py --out RUN --seed 0 --time-limit 450 --count 300
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import torch

from interp.paths import recorded_command


def ship(folder: Path, dest: Path, part_bytes: int = 15_000_000) -> None:
    """Tar ``folder`` and write it as ``organism.tar.partN`` files of at most ``part_bytes`` each."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname=folder.name)
    data = buffer.getvalue()
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(0, len(data), part_bytes):
        (dest / f"organism.tar.part{i // part_bytes}").write_bytes(data[i:i + part_bytes])


def main(argv=None) -> int:
    from interp.organism import walk_eval
    from interp.organism.walk_model import CONFIG_FILE, WalkOrganism
    from interp.organism.walk_train import WalkTrainConfig, train, walk_transformer_config

    parser = argparse.ArgumentParser(description="train and evaluate the walker")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=450.0)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--val-count", type=int, default=64)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--deadline", type=float, default=560.0, help="seconds from start after which eval stops")
    parser.add_argument("--tiny", action="store_true", help="tiny model, to check the script on CPU")
    parser.add_argument("--max-steps", type=int, default=10**7)
    parser.add_argument("--ship", default=None,
                        help="folder that receives organism.tar.partN (15 MB parts) as soon as training ends")
    args = parser.parse_args(argv)
    start = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "command.txt").write_text(recorded_command(["python", "experiments/train_walker.py", *sys.argv[1:]]) + "\n")

    # the scoring pool is forked before CUDA starts
    pool = multiprocessing.get_context("fork").Pool(min(14, max(1, multiprocessing.cpu_count() - 1)))
    cfg = WalkTrainConfig(seed=args.seed, time_limit_s=args.time_limit, workers=args.workers, max_steps=args.max_steps)
    if args.tiny:
        cfg.transformer = walk_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=16,
                                                  ffn_dim=32, freq_dim=16)
        cfg.tokens_per_batch, cfg.log_every, cfg.warmup_steps = 4096, 1, 2
    summary = train(cfg, out, progress=not args.tiny)
    print(json.dumps(summary), flush=True)
    if args.ship:
        ship(out / "organism", Path(args.ship))

    device = "cuda" if torch.cuda.is_available() else "cpu"
    walker = WalkOrganism.from_pretrained(out / "organism", device=device)
    deadline = start + args.deadline
    with pool, torch.no_grad():
        val = walk_eval.evaluate(walker, count=args.val_count, first_seed=500_000, scales=args.scales,
                                 experts=("both",), out=out / "eval_validation.json", pool=pool, deadline=deadline)
        means = {}
        for r in val["rows"]:
            means.setdefault(r["guidance_scale"], []).append(r["exact"]["rate"])
        best = max(means, key=lambda s: (sum(means[s]) / len(means[s]), -abs(s - 2.0))) if means else 2.0
        print(f"validation exact by scale: { {s: round(sum(v) / len(v), 3) for s, v in means.items()} } -> {best}",
              flush=True)
        config_file = out / "organism" / CONFIG_FILE
        config = json.loads(config_file.read_text())
        config["guidance_scale"] = best
        config_file.write_text(json.dumps(config, indent=2) + "\n")
        walker.config.guidance_scale = best
        walk_eval.evaluate(walker, count=args.count, scales=(best,), out=out / "eval.json", pool=pool,
                           deadline=deadline)
        others = tuple(s for s in args.scales if s != best)
        walk_eval.evaluate(walker, count=args.count, scales=others, experts=("both",), out=out / "eval_scales.json",
                           pool=pool, deadline=deadline)
    print(f"done in {time.time() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
