"""Checks of command-line values shared by the subcommands, run before anything is read or written.

Each raises :class:`~interp.errors.InputError` naming the option, the bad value and what is valid.
"""

from __future__ import annotations

from interp.errors import MAX_SEED, InputError, check_finite, check_range

MAX_LIST = 1_000_000  # longest list a range such as 0-999999 may expand to


def parse_ints(text: str, what: str, low: int = 0, high: int = MAX_SEED) -> tuple[int, ...]:
    """Parse ``"0,2,5-7"`` into ``(0, 2, 5, 6, 7)``; every value must lie in ``low..high``.

    Example:
        >>> parse_ints("0,2,5-7", "seed")
        (0, 2, 5, 6, 7)
    """
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        if not (first.isascii() and first.isdigit() and (not dash or (last.isascii() and last.isdigit()))):
            raise InputError(f"cannot read {what} {part!r} in {text!r}: use numbers and ranges like 0,2,5-7")
        a, b = int(first), int(last) if dash else int(first)
        if b < a:
            raise InputError(f"{what} range {part!r} is empty: write the smaller number first, e.g. {b}-{a}")
        for value in (a, b):
            if not low <= value <= high:
                raise InputError(f"{what} {value} is out of range: choose {low}..{high}")
        if len(out) + (b - a + 1) > MAX_LIST:
            raise InputError(f"{what} list {text!r} is too long: at most {MAX_LIST} values")
        out.extend(range(a, b + 1))
    return tuple(out)


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
