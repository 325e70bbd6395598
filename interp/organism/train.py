"""Flow-matching training of the maze organism, resumable across short device sessions.

Recipe: ``x_t = (1 - s) x0 + s eps`` with ``s`` logit-normal then shifted like the sampler
(``s -> shift s / (1 + (shift - 1) s)``), target ``v = eps - x0``, MSE; bf16 autocast, AdamW with
linear warmup and cosine decay, an exponential moving average (EMA) of the weights, which is
what ships. Batches hold one maze size each (token counts differ) and come from worker
processes (:class:`interp.organism.data.MazeStepDataset`), deterministic per step.

A run folder holds ``train_config.json``, ``state/`` (weights, EMA, AdamW moments, step; all
safetensors + JSON), ``log.jsonl`` (loss per logged step), ``loss.png`` and ``organism/``
(the EMA as a loadable organism, bf16).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from interp.errors import InputError, check_choice, check_known_keys, check_range
from interp.organism.config import OrganismConfig
from interp.organism.model import MazeOrganism, build_organism, default_transformer_config
from interp.viz.figure import finish, pyplot


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as ``train_config.json``.

    Example:
        >>> TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()
        True
    """

    seed: int = 0
    total_steps: int = 12_000
    sizes: list[int] = field(default_factory=lambda: [5, 7, 9])
    size_weights: list[float] = field(default_factory=lambda: [0.3, 0.45, 0.25])
    tokens_per_batch: int = 131_072
    lr: float = 5e-4
    min_lr_ratio: float = 0.05
    warmup_steps: int = 300
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    logit_mean: float = 0.0
    logit_std: float = 1.0
    num_frames: int = 4
    px_per_unit: int = 2
    palette: str = "default"
    extra_openings: float = 0.1
    shift: float = 3.0
    text_tokens: int = 4
    transformer: dict = field(default_factory=default_transformer_config)
    compile: str = "blocks"
    workers: int = 8
    log_every: int = 50
    save_every_s: float = 120.0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        d["transformer"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.transformer.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        check_known_keys("training config", d, cls)
        d = dict(d)
        if "betas" in d:
            d["betas"] = tuple(d["betas"])
        if "transformer" in d:
            d["transformer"] = {k: (tuple(v) if k == "patch_size" else v) for k, v in d["transformer"].items()}
        return cls(**d)

    def validate(self) -> None:
        check_range("total_steps", self.total_steps, 1, 10**7)
        if len(self.sizes) != len(self.size_weights) or not self.sizes:
            raise InputError(f"sizes {self.sizes} and size_weights {self.size_weights} must have one weight per size")
        for s in self.sizes:
            check_range("maze size", s, 4, 12)
        check_range("num_frames", self.num_frames, 2, 64)
        check_range("px_per_unit", self.px_per_unit, 1, 64)
        check_range("ema_decay", self.ema_decay, 0.0, 1.0)
        check_choice("compile mode", self.compile, COMPILE_MODES)

    def organism_config(self) -> OrganismConfig:
        from interp.tasks import PALETTES

        return OrganismConfig(
            px_per_unit=self.px_per_unit,
            num_frames=self.num_frames,
            palette=self.palette,
            palette_colors={k: list(v) for k, v in PALETTES[self.palette].items()},
            text_tokens=self.text_tokens,
            shift=self.shift,
            sizes_trained=list(self.sizes),
            extra_openings=self.extra_openings,
        )


COMPILE_MODES = ("blocks", "full", "none")


def compiled(transformer, mode: str):
    """``torch.compile`` the transformer: ``"blocks"`` compiles the one repeated block class once
    (diffusers' regional compilation, far shorter compile time), ``"full"`` the whole model."""
    check_choice("compile mode", mode, COMPILE_MODES)
    if mode == "blocks":
        transformer.compile_repeated_blocks(dynamic=False)
        return transformer
    if mode == "full":
        return torch.compile(transformer, dynamic=False)
    return transformer


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to 1, then cosine decay to ``min_lr_ratio`` at ``total_steps``."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.total_steps - cfg.warmup_steps))
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def shift_sigma(sigma: torch.Tensor, shift: float) -> torch.Tensor:
    """The flow shift of diffusers' FlowMatchEulerDiscreteScheduler."""
    return shift * sigma / (1 + (shift - 1) * sigma)


def sample_sigmas(batch: int, cfg: TrainConfig, generator: torch.Generator, device) -> torch.Tensor:
    """Logit-normal noise levels, shifted like the sampler's schedule."""
    u = torch.randn(batch, generator=generator, device=device) * cfg.logit_std + cfg.logit_mean
    return shift_sigma(torch.sigmoid(u), cfg.shift)


def flow_matching_loss(call, organism: MazeOrganism, x0: torch.Tensor, sigma: torch.Tensor,
                       eps: torch.Tensor) -> torch.Tensor:
    """MSE between ``call``'s velocity and ``eps - x0`` at noise level ``sigma`` (one per video).

    ``call(hidden_states, timestep, encoder_hidden_states)`` runs the transformer (possibly
    compiled); inputs are laid out as :meth:`MazeOrganism.velocity` lays them out.
    """
    s = sigma.view(-1, 1, 1, 1, 1)
    x_t = (1 - s) * x0 + s * eps
    cond = organism.condition(x0[:, :, 0], x0.shape[2])
    prompt = organism.prompt_embeds(x0.shape[0])
    v = call(torch.cat([x_t, cond], dim=1), sigma * 1000, prompt)
    return torch.nn.functional.mse_loss(v.float(), (eps - x0).float())


# -- state on disk (safetensors + JSON, never pickle) -----------------------------------------------
def _save_state(run_dir: Path, organism, ema: list[torch.Tensor], optimizer, step: int, wall: float) -> None:
    from safetensors.torch import save_file

    tmp = run_dir / "state.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    names = [n for n, _ in organism.named_parameters()]
    params = [p for _, p in organism.named_parameters()]
    save_file({n: p.detach().float().cpu().contiguous() for n, p in zip(names, params)}, str(tmp / "weights.safetensors"))
    save_file({n: e.float().cpu().contiguous() for n, e in zip(names, ema)}, str(tmp / "ema.safetensors"))
    moments = {}
    for n, p in zip(names, params):
        st = optimizer.state.get(p, {})
        if "exp_avg" in st:
            moments[f"{n}.exp_avg"] = st["exp_avg"].float().cpu().contiguous()
            moments[f"{n}.exp_avg_sq"] = st["exp_avg_sq"].float().cpu().contiguous()
    save_file(moments, str(tmp / "adamw.safetensors"))
    (tmp / "state.json").write_text(json.dumps({"step": step, "wall_s": wall}))
    final = run_dir / "state"
    if final.exists():
        old = run_dir / "state.old"
        final.rename(old)
        tmp.rename(final)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        tmp.rename(final)


def _load_state(state_dir: Path, organism, ema: list[torch.Tensor], optimizer) -> tuple[int, float, bool]:
    """Restore what ``state_dir`` holds; returns (step, wall seconds, whether moments were restored)."""
    from safetensors.torch import load_file

    info = json.loads((state_dir / "state.json").read_text())
    named = dict(organism.named_parameters())
    ema_t = load_file(str(state_dir / "ema.safetensors"))
    weights_file = state_dir / "weights.safetensors"
    weights = load_file(str(weights_file)) if weights_file.exists() else ema_t
    with torch.no_grad():
        for i, (n, p) in enumerate(named.items()):
            p.copy_(weights[n].to(p.device, p.dtype))
            ema[i].copy_(ema_t[n].to(ema[i].device))
    moments_file = state_dir / "adamw.safetensors"
    restored = False
    if moments_file.exists() and weights_file.exists():
        m = load_file(str(moments_file))
        for n, p in named.items():
            if f"{n}.exp_avg" in m:
                optimizer.state[p] = {
                    "step": torch.tensor(float(info["step"])),
                    "exp_avg": m[f"{n}.exp_avg"].to(p.device, p.dtype),
                    "exp_avg_sq": m[f"{n}.exp_avg_sq"].to(p.device, p.dtype),
                }
                restored = True
    return int(info["step"]), float(info.get("wall_s", 0.0)), restored


def export_ema(run_dir: Path, organism: MazeOrganism, ema: list[torch.Tensor]) -> Path:
    """Save the EMA weights as a loadable organism folder ``run_dir/organism`` (bf16)."""
    import copy

    shipped = copy.deepcopy(organism).cpu()
    with torch.no_grad():
        for p, e in zip(shipped.parameters(), ema):
            p.copy_(e.cpu())
    out = run_dir / "organism"
    shipped.save_pretrained(out)
    return out


def plot_loss(run_dir: Path) -> Path | None:
    """``loss.png`` from ``log.jsonl`` (loss per size, log scale)."""
    log = run_dir / "log.jsonl"
    if not log.exists():
        return None
    plt = pyplot()
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for size in sorted({r["size"] for r in rows}):
        pts = [(r["step"], r["loss"]) for r in rows if r["size"] == size]
        ax.plot(*zip(*pts), label=f"{size}x{size}", lw=1)
    ax.set_yscale("log")
    return finish(fig, run_dir / "loss.png", xlabel="training step", ylabel="flow-matching loss (MSE)", legend=True,
                  grid=True, title="Training loss per maze size, one point per logged step", n=len(rows), dpi=120)


# -- the loop ---------------------------------------------------------------------------------------
def train(cfg: TrainConfig, run_dir: str | Path, *, time_limit_s: float | None = None, stop_step: int | None = None,
          resume_from: str | Path | None = None, device: str | None = None, progress: bool = True) -> dict:
    """Train (or continue training) into ``run_dir``.

    Stops at ``total_steps``, after ``time_limit_s`` seconds, or after step ``stop_step`` (which
    leaves the learning-rate schedule of ``total_steps`` unchanged), whichever comes first.

    Resuming: the run folder's own ``state/`` if present, else ``resume_from`` (a ``state/``
    folder; one holding only ``ema.safetensors`` restarts from the EMA with fresh AdamW moments
    and a new warmup of ``warmup_steps`` steps).

    Returns a summary dict (step reached, steps per second, last losses).
    """
    from tqdm.auto import tqdm

    from interp.organism.data import MazeStepDataset

    cfg.validate()
    start_time = time.time()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg_file = run_dir / "train_config.json"
    if cfg_file.exists() and TrainConfig.from_dict(json.loads(cfg_file.read_text())) != cfg:
        raise InputError(f"{run_dir} holds a run with another training config: use a new folder")
    cfg_file.write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    organism = build_organism(cfg.organism_config(), cfg.transformer, seed=cfg.seed).to(device)
    organism.train()
    decay, no_decay = [], []
    for n, p in organism.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in n or n == "prompt_table" else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=cfg.betas, fused=device.type == "cuda",
    )
    ema = [p.detach().clone().float() for p in organism.parameters()]

    step, wall_before, rewarm_from = 0, 0.0, None
    state_dir = run_dir / "state" if (run_dir / "state").exists() else (Path(resume_from) if resume_from else None)
    if state_dir is not None:
        step, wall_before, restored = _load_state(state_dir, organism, ema, optimizer)
        if not restored:
            rewarm_from = step
        print(f"resumed at step {step} from {state_dir} (AdamW moments {'restored' if restored else 'fresh'})",
              flush=True)

    call_module = compiled(organism.transformer, cfg.compile if device.type == "cuda" else "none")

    def call(hidden, timestep, prompt):
        return call_module(hidden_states=hidden, timestep=timestep, encoder_hidden_states=prompt,
                           return_dict=False)[0]

    dataset = MazeStepDataset(
        run_seed=cfg.seed, sizes=cfg.sizes, weights=cfg.size_weights, tokens_per_batch=cfg.tokens_per_batch,
        num_frames=cfg.num_frames, px_per_unit=cfg.px_per_unit, palette=cfg.palette,
        extra_openings=cfg.extra_openings,
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, sampler=range(step, cfg.total_steps), num_workers=cfg.workers,
        pin_memory=device.type == "cuda", prefetch_factor=4 if cfg.workers else None,
        persistent_workers=False,
    )
    log_file = run_dir / "log.jsonl"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    last_save = time.time()
    recent: dict[int, list[float]] = {}
    t_first, first_step = None, step
    bar = tqdm(total=cfg.total_steps, initial=step, desc="training", disable=not progress,
               mininterval=30 if not os.isatty(2) else 0.5)
    stopped_early = False
    for size, video in loader:
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + step)
        x0 = MazeOrganism.frames_to_model(video).to(device, non_blocking=True)
        sigma = sample_sigmas(x0.shape[0], cfg, gen, device)
        eps = torch.randn(x0.shape, generator=gen, device=device)
        factor = lr_factor(step, cfg)
        if rewarm_from is not None:
            factor *= min(1.0, (step - rewarm_from + 1) / cfg.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * factor
        with autocast:
            loss = flow_matching_loss(call, organism, x0, sigma, eps)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(organism.parameters(), cfg.grad_clip)
        optimizer.step()
        d = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(ema, [p.detach().float() for p in organism.parameters()], 1 - d)
        step += 1
        bar.update(1)
        if step % cfg.log_every == 0 or step == cfg.total_steps:
            value = float(loss.detach())
            recent.setdefault(int(size), []).append(value)
            if t_first is None:
                t_first, first_step = time.time(), step
            with log_file.open("a") as f:
                f.write(json.dumps({"step": step, "size": int(size), "loss": value, "lr": cfg.lr * factor,
                                    "wall_s": round(wall_before + time.time() - start_time, 1)}) + "\n")
        if time.time() - last_save > cfg.save_every_s:
            _save_state(run_dir, organism, ema, optimizer, step, wall_before + time.time() - start_time)
            last_save = time.time()
        if (time_limit_s is not None and time.time() - start_time > time_limit_s) or step == stop_step:
            stopped_early = step < cfg.total_steps
            break
    bar.close()
    wall = wall_before + time.time() - start_time
    _save_state(run_dir, organism, ema, optimizer, step, wall)
    export_ema(run_dir, organism, ema)
    plot_loss(run_dir)
    rate = (step - first_step) / (time.time() - t_first) if t_first and step > first_step else float("nan")
    summary = {"step": step, "total_steps": cfg.total_steps, "finished": not stopped_early and step >= cfg.total_steps,
               "wall_s": round(wall, 1), "steps_per_s": round(rate, 3),
               "last_loss": {k: v[-1] for k, v in sorted(recent.items())}}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
