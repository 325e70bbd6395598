"""Token selections: which of a site's tokens are stored, and where each one sits.

Tokens are ordered frame-major, then h, then w (as Wan's patch embedding flattens them). A
selection maps ``[B, T, D]`` to ``[B, T', D]`` and names the ``(frame, h, w)`` of each kept
token, with ``-1`` on an axis that was averaged away.

=================  ============================================================  ==============
``all``            every token                                                   ``(f, h, w)``
``stride:N``       every N-th token along h and along w, every frame             ``(f, h, w)``
``frame_mean``     the mean over each frame's tokens (one token per frame)       ``(f, -1, -1)``
``pool:K``         the mean over K x K spatial cells (edge cells may be smaller) ``(f, h//K, w//K)``
=================  ============================================================  ==============
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from interp.errors import InputError

MODES = ("all", "stride:N", "frame_mean", "pool:K")


@dataclass(frozen=True)
class TokenSelection:
    """One way of keeping a site's tokens; build it with :func:`parse_tokens`.

    Example:
        >>> sel = parse_tokens("pool:2")
        >>> x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 32, 1)  # grid (2, 4, 4)
        >>> sel.apply(x, (2, 4, 4)).shape
        torch.Size([1, 8, 1])
        >>> sel.grid((2, 4, 4))[:3].tolist()
        [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
    """

    mode: str = "all"
    n: int = 1

    def __str__(self) -> str:
        return {"stride": f"stride:{self.n}", "pool": f"pool:{self.n}"}.get(self.mode, self.mode)

    def apply(self, x: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """Reduce ``x`` of shape ``[B, T, D]`` whose tokens lie on ``grid = (F, H, W)``."""
        f, h, w = grid
        b, t, d = x.shape
        if t != f * h * w:
            raise ValueError(f"{t} tokens do not fill a {f}x{h}x{w} grid")
        if self.mode == "all":
            return x
        cube = x.reshape(b, f, h, w, d)
        if self.mode == "stride":
            return cube[:, :, :: self.n, :: self.n].reshape(b, -1, d)
        if self.mode == "frame_mean":
            return cube.reshape(b, f, h * w, d).mean(dim=2, dtype=torch.float32)
        # pool: average K x K cells over (h, w); ceil_mode keeps the partial edge cells.
        planes = cube.permute(0, 1, 4, 2, 3).reshape(b * f, d, h, w).float()
        pooled = F.avg_pool2d(planes, self.n, stride=self.n, ceil_mode=True)
        ph, pw = pooled.shape[-2:]
        return pooled.reshape(b, f, d, ph, pw).permute(0, 1, 3, 4, 2).reshape(b, f * ph * pw, d)

    def grid(self, grid: tuple[int, int, int]) -> np.ndarray:
        """``[T', 3]`` int array of ``(frame, h, w)`` for each kept token."""
        f, h, w = grid
        if self.mode == "frame_mean":
            return np.stack([np.arange(f), np.full(f, -1), np.full(f, -1)], axis=1).astype(np.int32)
        step = self.n if self.mode in ("stride", "pool") else 1
        hs = np.arange(0, h, step) if self.mode != "pool" else np.arange(math.ceil(h / step))
        ws = np.arange(0, w, step) if self.mode != "pool" else np.arange(math.ceil(w / step))
        ff, hh, ww = np.meshgrid(np.arange(f), hs, ws, indexing="ij")
        return np.stack([ff.ravel(), hh.ravel(), ww.ravel()], axis=1).astype(np.int32)


def parse_tokens(text: str | TokenSelection) -> TokenSelection:
    """Parse ``all``, ``stride:N``, ``frame_mean`` or ``pool:K`` (N, K >= 1)."""
    if isinstance(text, TokenSelection):
        return text
    name, _, arg = str(text).partition(":")
    if name in ("all", "frame_mean") and not arg:
        return TokenSelection(name)
    if name in ("stride", "pool") and arg.isdigit() and int(arg) >= 1:
        return TokenSelection(name, int(arg))
    raise InputError(f"unknown token selection {text!r}: valid are {', '.join(MODES)} (N, K >= 1)")


def latent_tokens(latents: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """View latents ``[B, C, F, H, W]`` as tokens ``[B, F*H*W, C]`` (one token per voxel)."""
    b, c, f, h, w = latents.shape
    return latents.permute(0, 2, 3, 4, 1).reshape(b, f * h * w, c), (f, h, w)
