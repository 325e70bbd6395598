"""The step x frame grid of x0_hat (rows: denoising steps, columns: frames) and its animation.

The grid is the paper's main picture of Chain-of-Steps: reading down a column shows how the
model's estimate of one frame changes over the denoising steps. The GIF plays the same
estimates over steps, one whole video (frames side by side) per animation frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from interp.errors import InputError
from interp.outputs import save_image

_PAD = 2
_LABEL_W = 64
_LABEL_H = 14
_BG = (255, 255, 255)
_INK = (0, 0, 0)


def decode_x0(model, x0: torch.Tensor | np.ndarray, *, progress: bool = True) -> np.ndarray:
    """Decode x0_hat latents ``[S, C, F, H, W]`` one step at a time -> uint8 ``[S, F', H', W', 3]``."""
    x0 = torch.as_tensor(np.asarray(x0) if not isinstance(x0, torch.Tensor) else x0)
    videos = []
    for latent in tqdm(x0, desc="decoding x0_hat", disable=not progress or len(x0) < 2, leave=False):
        videos.append(model.decode(latent[None].to(model.device, torch.float32))[0])
    return np.stack(videos)


def _upscale(frames: np.ndarray, min_size: int) -> np.ndarray:
    """Nearest-neighbour upscale so small videos (the organism's 22 px mazes) stay readable."""
    factor = max(1, int(np.ceil(min_size / max(1, min(frames.shape[-3:-1])))))
    return frames.repeat(factor, axis=-3).repeat(factor, axis=-2) if factor > 1 else frames


def step_frame_grid(
    frames: np.ndarray,
    steps: Sequence[int],
    out: str | Path,
    *,
    sigmas: Sequence[float] | None = None,
    min_cell: int = 96,
) -> Path:
    """Save the grid of ``frames`` (uint8 ``[S, F, H, W, 3]``, one row per step) as a PNG.

    Example:
        >>> import tempfile
        >>> frames = np.zeros((3, 4, 8, 8, 3), np.uint8)
        >>> path = step_frame_grid(frames, [0, 5, 9], tempfile.mkdtemp() + "/grid.png")
        >>> Image.open(path).size
        (458, 310)
    """
    frames = _check(frames, steps)
    frames = _upscale(frames, min_cell)
    s, f, h, w, _ = frames.shape
    width = _LABEL_W + f * (w + _PAD) + _PAD
    height = _LABEL_H + s * (h + _PAD) + _PAD
    canvas = Image.new("RGB", (width, height), _BG)
    draw = ImageDraw.Draw(canvas)
    for j in range(f):
        draw.text((_LABEL_W + j * (w + _PAD) + _PAD, 1), f"frame {j}", fill=_INK)
    for i, step in enumerate(steps):
        y = _LABEL_H + i * (h + _PAD) + _PAD
        label = f"step {step}" + (f"\ns={sigmas[i]:.3f}" if sigmas is not None else "")
        draw.multiline_text((2, y + 2), label, fill=_INK)
        for j in range(f):
            canvas.paste(Image.fromarray(frames[i, j]), (_LABEL_W + j * (w + _PAD) + _PAD, y))
    return save_image(canvas, out, format="PNG")


def steps_gif(
    frames: np.ndarray,
    steps: Sequence[int],
    out: str | Path,
    *,
    min_cell: int = 96,
    duration_ms: int = 400,
) -> Path:
    """Save an animation over steps: each animation frame shows the whole video at one step."""
    frames = _upscale(_check(frames, steps), min_cell)
    s, f, h, w, _ = frames.shape
    images = []
    for i, step in enumerate(steps):
        canvas = Image.new("RGB", (f * (w + _PAD) + _PAD, _LABEL_H + h + _PAD), _BG)
        ImageDraw.Draw(canvas).text((2, 1), f"x0_hat at step {step}", fill=_INK)
        for j in range(f):
            canvas.paste(Image.fromarray(frames[i, j]), (j * (w + _PAD) + _PAD, _LABEL_H))
        images.append(canvas)
    return save_image(images[0], out, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms,
                      loop=0)


def _check(frames: np.ndarray, steps: Sequence[int]) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 5 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InputError(f"frames must be uint8 [step, frame, H, W, 3]; got {frames.dtype} {frames.shape}")
    if len(steps) != len(frames):
        raise InputError(f"{len(steps)} step labels for {len(frames)} rows of frames")
    return frames


def x0_from_store(store, sample_id: str, steps: Sequence[int] | None = None) -> tuple[np.ndarray, list[int], list[float]]:
    """Read x0_hat latents ``[S, C, F, H, W]`` of one sample from a trace store.

    Needs the ``x0`` site captured with ``tokens=all``. Returns the latents, their steps and sigmas.
    """
    if "x0" not in store.sites():
        raise InputError(f"{store.path} has no x0 site: capture with --sites ...,x0 to draw the step grid")
    if store.site_info("x0")["tokens"] != "all":
        raise InputError(f"x0 in {store.path} was stored with tokens={store.site_info('x0')['tokens']}: the grid needs tokens=all")
    captured = [int(s) for s in store.steps()]
    steps = captured if steps is None else [int(s) for s in steps]
    tokens = store.read(sample_id, "x0", branch="guided", steps=steps)  # [S, T, C]
    grid = store.token_grid("x0")
    f, h, w = (int(grid[:, i].max()) + 1 for i in range(3))
    latents = tokens.reshape(len(steps), f, h, w, -1).transpose(0, 4, 1, 2, 3)
    sigmas_all = store.meta(sample_id).get("sigmas", [])
    sigmas = [float(sigmas_all[captured.index(s)]) for s in steps] if sigmas_all else None
    return np.ascontiguousarray(latents), steps, sigmas
