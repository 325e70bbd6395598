"""Training the walker in one timed run: a shared trunk, then two experts on disjoint noise levels.

Flow matching as for the maze organism (``x_t = (1 - s) x0 + s eps``, target ``eps - x0``,
``s`` logit-normal then shifted). Until ``split`` of the time budget one transformer learns every
noise level; then it is copied into the low-noise expert (weights, AdamW moments and EMA) and
each step trains the high-noise expert on half the batch at ``s >= boundary`` and the low-noise
expert on the other half at ``s < boundary`` (each half drawn from the same logit-normal,
truncated to its range). The prompt row is replaced by the empty prompt with probability
``p_uncond`` so that classifier-free guidance has an unconditional branch. The learning rate warms
up over ``warmup_steps`` and then follows a cosine in *elapsed time* over the budget, so the run
fits a fixed device time; the step reached and the split step are logged.

Run (one GPU; writes ``RUN/organism`` (bf16, loadable), ``log.jsonl``, ``summary.json``)::

    python -m interp.organism.walk_train --out RUN --seed 0 --time-limit 450
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from interp.organism.walk_model import EXPERTS, WalkConfig, build_walker, walk_transformer_config
from interp.paths import recorded_command


@dataclass
class WalkTrainConfig:
    """Everything that defines a walker run; saved as ``train_config.json``."""

    seed: int = 0
    time_limit_s: float = 450.0
    split: float = 0.65
    sizes: list[int] = field(default_factory=lambda: [5, 7, 9])
    size_weights: list[float] = field(default_factory=lambda: [0.25, 0.40, 0.35])
    tokens_per_batch: int = 131_072
    lr: float = 7e-4
    min_lr_ratio: float = 0.05
    warmup_steps: int = 200
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0
    ema_decay: float = 0.998
    p_uncond: float = 0.1
    logit_mean: float = 0.0
    logit_std: float = 1.0
    walk: dict = field(default_factory=lambda: WalkConfig().to_dict())
    transformer: dict = field(default_factory=walk_transformer_config)
    compile: str = "blocks"
    workers: int = 12
    log_every: int = 50
    max_steps: int = 10**7

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["transformer"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.transformer.items()}
        return d


def truncated_sigmas(n: int, lo: float, hi: float, cfg: WalkTrainConfig, shift: float, gen, device) -> torch.Tensor:
    """``n`` shifted logit-normal noise levels restricted to ``[lo, hi)`` (inverse-CDF sampling)."""
    def quantile(sigma):  # sigma -> quantile of the underlying normal, inverting the shift and the sigmoid
        s = sigma / (shift - (shift - 1) * sigma)
        s = min(max(s, 1e-6), 1 - 1e-6)
        z = (math.log(s / (1 - s)) - cfg.logit_mean) / cfg.logit_std
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    q_lo, q_hi = quantile(lo), quantile(hi)
    q = q_lo + (q_hi - q_lo) * torch.rand(n, generator=gen, device=device)
    u = torch.special.ndtri(q.clamp(1e-7, 1 - 1e-7)) * cfg.logit_std + cfg.logit_mean
    s = torch.sigmoid(u)
    return shift * s / (1 + (shift - 1) * s)


def lr_factor(step: int, progress: float, cfg: WalkTrainConfig) -> float:
    warm = min(1.0, (step + 1) / cfg.warmup_steps)
    return warm * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(cfg: WalkTrainConfig, out: str | Path, device: str | None = None, progress: bool = True) -> dict:
    """Train into ``out``; returns the summary (steps, split step, rate, last losses)."""
    from tqdm.auto import tqdm

    from interp.organism.train import compiled
    from interp.organism.walk_data import WalkStepDataset, labels_to_model

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.backends.cuda.matmul.allow_tf32 = True
    wcfg = WalkConfig.from_dict(dict(cfg.walk, sizes_trained=list(cfg.sizes)))
    walker = build_walker(wcfg, cfg.transformer, seed=cfg.seed).to(device).train()
    decay, no_decay = [], []
    for n, p in walker.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in n or n == "prompt_table" else decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=cfg.lr, betas=tuple(cfg.betas), fused=device.type == "cuda")
    names = [n for n, _ in walker.named_parameters()]
    params = [p for _, p in walker.named_parameters()]
    ema = [p.detach().clone().float() for p in params]
    mode = cfg.compile if device.type == "cuda" else "none"
    calls = {name: compiled(walker.expert(name), mode) for name in EXPERTS}

    patch_frames = cfg.transformer["patch_size"][0] * cfg.transformer["patch_size"][1] * cfg.transformer["patch_size"][2]
    dataset = WalkStepDataset(run_seed=cfg.seed, sizes=cfg.sizes, weights=cfg.size_weights,
                              tokens_per_batch=cfg.tokens_per_batch, tokens_per_frame_unit=4 / patch_frames,
                              num_frames=wcfg.num_frames, hold=wcfg.hold, units_per_frame=wcfg.units_per_frame,
                              extra_openings=wcfg.extra_openings)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, sampler=range(0, cfg.max_steps),
                                         num_workers=cfg.workers, pin_memory=device.type == "cuda",
                                         prefetch_factor=4 if cfg.workers else None)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    log = (out / "log.jsonl").open("w")
    start = time.time()
    split_step, step, last = None, 0, {}
    bar = tqdm(desc="training", disable=not progress, mininterval=20)
    t_rate = None
    for size, labels, targets in loader:
        elapsed = time.time() - start
        if elapsed > cfg.time_limit_s or step >= cfg.max_steps:
            break
        if split_step is None and elapsed > cfg.split * cfg.time_limit_s:
            split_step = step
            _split(walker, optimizer, params, names, ema)
        labels, targets = labels.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + step)
        x0 = labels_to_model(labels, wcfg.px_per_unit)
        b = x0.shape[0]
        rows = torch.where(torch.rand(b, generator=gen, device=device) < cfg.p_uncond, 0, targets + 1)
        eps = torch.randn(x0.shape, generator=gen, device=device)
        if split_step is None:
            parts = [(EXPERTS[0], slice(0, b), truncated_sigmas(b, 0.0, 1.0, cfg, wcfg.shift, gen, device))]
        else:
            h = b // 2
            parts = [(EXPERTS[0], slice(0, h), truncated_sigmas(h, wcfg.boundary, 1.0, cfg, wcfg.shift, gen, device)),
                     (EXPERTS[1], slice(h, b), truncated_sigmas(b - h, 0.0, wcfg.boundary, cfg, wcfg.shift, gen, device))]
        factor = lr_factor(step, elapsed / cfg.time_limit_s, cfg)
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * factor
        losses = {}
        with autocast:
            total = 0.0
            for name, rows_slice, sigma in parts:
                x, e = x0[rows_slice], eps[rows_slice]
                s = sigma.view(-1, 1, 1, 1, 1)
                x_t = (1 - s) * x + s * e
                hidden = torch.cat([x_t, walker.condition(x[:, :, 0], x.shape[2])], dim=1)
                v = calls[name](hidden_states=hidden, timestep=sigma * 1000,
                                encoder_hidden_states=walker.prompt_rows(rows[rows_slice]), return_dict=False)[0]
                loss = torch.nn.functional.mse_loss(v.float(), (e - x).float())
                losses[name] = loss
                total = total + loss * (x.shape[0] / b)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        d = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(ema, [p.detach().float() for p in params], 1 - d)
        step += 1
        bar.update(1)
        if step == 20:
            t_rate = (time.time(), step)
        if step % cfg.log_every == 0:
            last = {k: float(v.detach()) for k, v in losses.items()}
            log.write(json.dumps({"step": step, "size": int(size), "lr": cfg.lr * factor,
                                  "wall_s": round(time.time() - start, 1), "phase": "trunk" if split_step is None else "experts",
                                  **{f"loss_{k}": v for k, v in last.items()}}) + "\n")
            log.flush()
    bar.close()
    log.close()
    wall = time.time() - start
    with torch.no_grad():
        for p, e in zip(params, ema):
            p.copy_(e.to(p.dtype))
    walker.eval().save_pretrained(out / "organism")
    rate = (step - t_rate[1]) / (time.time() - t_rate[0]) if t_rate and step > t_rate[1] else None
    summary = {"steps": step, "split_step": split_step, "wall_s": round(wall, 1), "steps_per_s": None if rate is None else round(rate, 2),
               "last_loss": last, "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
               "torch": torch.__version__}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _split(walker, optimizer, params, names, ema) -> None:
    """Copy the trunk (``transformer``) into ``transformer_2``: weights, AdamW moments and EMA."""
    index = {n: i for i, n in enumerate(names)}
    with torch.no_grad():
        for n, p in zip(names, params):
            if n.startswith("transformer_2."):
                src = index["transformer." + n.removeprefix("transformer_2.")]
                p.copy_(params[src])
                ema[index[n]].copy_(ema[src])
                state = optimizer.state.get(params[src])
                if state:
                    optimizer.state[p] = {k: v.clone() for k, v in state.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=450.0)
    parser.add_argument("--max-steps", type=int, default=10**7)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--tiny", action="store_true", help="a tiny model and batch, to check the script on CPU")
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    cfg = WalkTrainConfig(seed=args.seed, time_limit_s=args.time_limit, workers=args.workers, max_steps=args.max_steps)
    if args.tiny:
        cfg.transformer = walk_transformer_config(num_layers=2, num_attention_heads=2, attention_head_dim=16,
                                                  ffn_dim=32, freq_dim=16)
        cfg.tokens_per_batch, cfg.log_every, cfg.warmup_steps = 2048, 1, 2
    summary = train(cfg, args.out, device=args.device)
    (Path(args.out) / "command.txt").write_text(
        recorded_command(["python", "-m", "interp.organism.walk_train", *sys.argv[1:]]) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
