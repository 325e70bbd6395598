"""What every action shares: the :class:`Action` base and the :class:`Context` it may read."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch

from interp.errors import InputError


def as_value(value) -> torch.Tensor | float:
    if isinstance(value, (int, float)):
        return float(value)
    return torch.as_tensor(value, dtype=torch.float32)


def _jsonable(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class Context:
    """What an action may read besides its values: where the run is, and the whole batch."""

    site: Any
    step: int
    branch: str | None
    expert: str
    rows: torch.Tensor
    batch: torch.Tensor
    sources: dict
    grid: tuple[int, int, int]
    mask: torch.Tensor
    #: at loop sites, the whole batch's state entering the step (token layout); ``None`` at blocks
    x_t: torch.Tensor | None = None


class Action:
    """Base class; subclasses set ``kind`` and implement :meth:`__call__`."""

    kind: ClassVar[str]
    #: Whether the action changes values (``collect`` does not).
    edits: ClassVar[bool] = True

    def __call__(self, x: torch.Tensor, ctx: Context) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, *, width: int, num_rows: int, batch: int, sources: dict, site, grid, steps, branch) -> None:
        """Raise :class:`InputError` for parameters that cannot work at this site and schedule."""

    def to_dict(self) -> dict:
        return {"kind": self.kind, **{f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}}


def check_width(name: str, value, width: int, site) -> None:
    if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[-1] not in (1, width):
        raise InputError(f"{name} has {value.shape[-1]} channels; site {site} has {width}")
