"""The work of a patching sweep: each cell's patched step, then the steps after it, with less work.

:func:`~interp.interventions.patching.patch_sweep` arranges cells; this module runs them. Two
ways of doing less work, each exact in the arithmetic (the same operations on the same values;
only the batch a row shares a forward with differs):

* **Start at the patched block.** Blocks ``0..L-1`` of a cell patched at layer ``L`` see the
  corrupted run's own values at that step, so the cell starts at block ``L`` from the corrupted
  run's saved ``blocks.{L}.resid_pre`` (``reuse_layers``).
* **Share identical states.** A residual-stream site patched on every token hands the blocks
  after it the clean run's residual; when the pair's conditioning (prompt embeddings, guidance)
  is the clean input's, every later block computes what it computed in the clean run, so the
  step's velocity is the clean run's whatever the layer. Those cells (one per layer) share one
  state: no forward at the patched step, and one run of the remaining steps per pair
  (``share_states``). This holds for transformers whose latents reach the blocks only through
  the residual stream (the patch embedding), as in every Wan-family model here.

A sweep reading the final video runs the patched step of each cell, then the remaining steps of
all of one step's states together in batches (an unpatched run from ``s + 1``, as the loop
would have continued).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from interp.interventions.actions import Patch
from interp.interventions.intervention import Intervention
from interp.interventions.executor import observe, run
from interp.interventions.where import At, Tokens
from interp.rows import take_rows
from interp.sampling import host_schedule, schedule
from interp.sites import Site

RESIDUAL_KINDS = ("resid_pre", "resid_post")


def same_conditioning(clean, corrupt) -> list[bool]:
    """Per pair: whether the corrupted input's transformer conditioning (everything but the
    latents and the latent condition) is bitwise the clean input's."""
    def equal(a: dict | None, b: dict | None, p: int) -> bool:
        if a is None or b is None:
            return a is b
        return sorted(a) == sorted(b) and all(torch.equal(a[k][p], b[k][p]) for k in a)

    scales = (clean.guidance_scale, clean.guidance_scale_2) == (corrupt.guidance_scale, corrupt.guidance_scale_2)
    return [scales and equal(clean.cond, corrupt.cond, p) and equal(clean.uncond, corrupt.uncond, p)
            for p in range(clean.batch_size)]


@dataclass
class CellRunner:
    """Everything a sweep's cells need: the model, inputs, saved states and the options."""

    model: object
    corrupt: object
    metric: object
    names: list
    masks: dict          # region name -> per pair, a host boolean array [1, T]
    layers: list
    steps: list
    site: str
    num_steps: int
    shift: float | None
    source: object
    batch_size: int
    read_at: str
    on_latents: bool     # the metric reads latents, not decoded videos
    saved: dict          # step -> corrupted x_s [pairs, ...]
    residuals: object    # ActivationCache of blocks.{L}.resid_pre at the steps (None: start at block 0)
    clean_velocity: dict  # step -> the clean run's guided velocity [pairs, ...]
    shareable: list       # pair -> whether its full-residual cells share one state

    def start_of(self, layer: int) -> int:
        return layer if self.residuals is not None and layer > 0 else 0

    def shared(self, cell) -> bool:
        r, _, p = cell
        return self.site in RESIDUAL_KINDS and self.shareable[p] and bool(self.masks[self.names[r]][p].all())

    def cost(self, si: int, pairs: list[int]) -> float:
        """Forward-rows of work (one row through every block = 1), to deal units evenly."""
        cells = [(r, l, p) for r in range(len(self.names)) for l in range(len(self.layers)) for p in pairs]
        computed = [c for c in cells if not self.shared(c)]
        states = len(computed) + len({p for c in cells if self.shared(c) for p in [c[2]]})
        depth = self.model.num_layers
        first = sum((depth - self.start_of(self.layers[l])) / depth for _, l, _ in computed)
        after = states * (self.num_steps - self.steps[si] - 1) if self.read_at == "final" else 0
        return first + after

    def step(self, si: int, pairs: list[int]) -> list:
        """Score every cell of step ``steps[si]`` for ``pairs``: ``[(r, l, si, p, scores)]``."""
        step = self.steps[si]
        cells = [(r, l, p) for r in range(len(self.names)) for l in range(len(self.layers)) for p in pairs]
        computed = [c for c in cells if not self.shared(c)]
        by_pair = {}
        for cell in cells:
            if self.shared(cell):
                by_pair.setdefault(cell[2], []).append(cell)
        states, owners = [], []  # x after the patched step (or its x0_hat), with the cells it stands for
        groups = {}
        for cell in computed:
            groups.setdefault(self.start_of(self.layers[cell[1]]), []).append(cell)
        for start in sorted(groups):
            group = groups[start]
            for i in range(0, len(group), self.batch_size):
                chunk = group[i:i + self.batch_size]
                states.append(self._patched_step(step, start, chunk))
                owners.extend([[cell] for cell in chunk])
        if by_pair:
            states.append(self._clean_velocity_step(step, list(by_pair)))
            owners.extend(by_pair.values())
        rows = [cells_[0][2] for cells_ in owners]
        scores = self._score(step, torch.cat(states), rows)
        return [(r, l, si, p, {k: float(v[i]) for k, v in scores.items()})
                for i, cells_ in enumerate(owners) for r, l, p in cells_]

    def _patched_step(self, step: int, start: int, chunk: list) -> torch.Tensor:
        rows = [p for _, _, p in chunk]
        items = []
        for (r, l), members in cell_groups(chunk).items():
            mask = np.concatenate([self.masks[self.names[r]][chunk[i][2]] for i in members])
            tokens = Tokens.all() if mask.all() else Tokens.from_mask(mask)
            items.append(Intervention(At(Site(self.site, self.layers[l]), steps=[step], samples=members, tokens=tokens),
                                      Patch("clean", take=[chunk[i][2] for i in members])))
        residual = None
        if start:
            branches = ("cond", "uncond") if self.corrupt.do_guidance else ("cond",)
            residual = {b: self.residuals.get(f"blocks.{start}.resid_pre", step, b, take=rows) for b in branches}
        if self.read_at == "patched":
            items += observe("x0", steps=[step])
        out = run(self.model, self.corrupt.take(rows, latents=take_rows(self.saved[step], rows)), items, num_steps=self.num_steps,
                  shift=self.shift, start_step=step, end_step=step + 1, sources={"clean": self.source},
                  progress=False, decode=False, start_layer=start, start_residual=residual)
        return out.at("x0", step) if self.read_at == "patched" else out.latents

    def _clean_velocity_step(self, step: int, pairs: list[int]) -> torch.Tensor:
        """The loop's own arithmetic for one step from x_s with the clean run's velocity."""
        # The runs' own schedule (made before the cells), its noise levels read on the host.
        scheduler, timesteps, _ = schedule(self.model, self.num_steps, self.shift, self.corrupt)
        scheduler.set_begin_index(step)
        latents, velocity = take_rows(self.saved[step], pairs), take_rows(self.clean_velocity[step], pairs)
        if self.read_at == "patched":
            sigma = float(host_schedule(self.model, self.num_steps, self.shift, self.corrupt)[1][step])
            return latents - sigma * velocity.to(latents.dtype)
        return scheduler.step(velocity, timesteps[step], latents, return_dict=False)[0]

    def _score(self, step: int, states: torch.Tensor, rows: list[int]) -> dict:
        """Metric values per state: its x0_hat decoded, or the video after the remaining steps."""
        parts = []
        for i in range(0, len(rows), self.batch_size):
            chunk, x = rows[i:i + self.batch_size], states[i:i + self.batch_size]
            if self.read_at == "final" and step + 1 < self.num_steps:
                out = run(self.model, self.corrupt.take(chunk, latents=x), num_steps=self.num_steps,
                          shift=self.shift, start_step=step + 1, progress=False, decode=not self.on_latents)
                shown = out.latents if self.on_latents else out.video
            else:
                shown = x if self.on_latents else self.model.decode(x)
            parts.append(self.metric(shown, chunk))
        return {k: np.concatenate([np.asarray(part[k]) for part in parts]) for k in parts[0]}


def cell_groups(batch) -> dict[tuple[int, int], list[int]]:
    """Batch rows grouped by (region, layer): one intervention per group."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (r, l, _) in enumerate(batch):
        groups.setdefault((r, l), []).append(i)
    return groups
