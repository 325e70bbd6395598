"""Checks of command-line values shared by the subcommands, run before anything is read or written.

Each raises :class:`~interp.errors.InputError` naming the option, the bad value and what is valid.
"""

from __future__ import annotations

from interp.errors import MAX_SEED, InputError, check_finite, check_range
from interp.validate import MAX_LIST, parse_ints  # noqa: F401  (the one parser of "0,2,5-7" lists)


def check_num_steps(value, name: str = "--num-steps") -> int | None:
    """``None`` (the model's default) or a step count in 1..1000."""
    if value is not None:
        check_range(name, value, 1, 1000)
    return value


def check_shift(value) -> float | None:
    """``None`` (the model's default) or a finite flow shift above 0 (noise levels stay in 0..1)."""
    if value is not None:
        check_finite("--shift", value, 0, 1000, low_open=True)
    return value


def check_device(name: str, *, allow_auto: bool = False) -> str:
    """A torch device this machine has: ``cpu``, ``cuda``, ``cuda:N`` (with a CUDA build and GPU), ``mps``."""
    import torch

    if allow_auto and name == "auto":
        return name
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        valid = "cpu, cuda, cuda:N, mps" + (", auto" if allow_auto else "")
        raise InputError(f"unknown --device {name!r}: valid are {valid}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"--device {name!r}: this torch has no usable CUDA GPU; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(f"--device {name!r}: there are {torch.cuda.device_count()} CUDA devices")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise InputError(f"--device {name!r}: MPS is not available here; use --device cpu")
    elif device.type != "cpu":
        raise InputError(f"--device {name!r} is not supported: valid are cpu, cuda, cuda:N, mps")
    return name
