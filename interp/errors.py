"""The one error type users see for bad input.

Every function that validates user input raises :class:`InputError` with a message that names
the bad value and what would be valid. The CLI prints that message on one line and exits with
code 2; nothing already written is damaged because validation happens before any write.
"""


class InputError(ValueError):
    """A bad input: an unknown name, a value out of range, an unreadable file.

    Example:
        >>> raise InputError("maze size 3 is out of range: choose 4..12")
        Traceback (most recent call last):
        ...
        interp.errors.InputError: maze size 3 is out of range: choose 4..12
    """


def check_choice(name: str, value, choices) -> None:
    """Raise :class:`InputError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        valid = ", ".join(map(str, choices))
        raise InputError(f"unknown {name} {value!r}: valid are {valid}")


def check_range(name: str, value, low, high) -> None:
    """Raise :class:`InputError` unless ``low <= value <= high``."""
    if not (low <= value <= high):
        raise InputError(f"{name} {value} is out of range: choose {low}..{high}")


def check_known_keys(kind: str, data: dict, dataclass_type) -> None:
    """Raise :class:`InputError` if ``data`` has keys that are not fields of ``dataclass_type``."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(dataclass_type)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InputError(f"unknown {kind} keys {unknown}: valid are {sorted(names)}")


#: Seeds are 64-bit generator states; the largest one every generator here accepts.
MAX_SEED = 2**63 - 1


def check_seed(value, name: str = "seed") -> int:
    """Raise :class:`InputError` unless ``value`` is an integer seed in ``0..MAX_SEED``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise InputError(f"{name} {value} is not valid: use an integer in 0..{MAX_SEED}")
    return value


def check_finite(name: str, value, low=None, high=None, *, low_open: bool = False) -> float:
    """Raise :class:`InputError` unless ``value`` is a finite number within ``low..high``.

    ``low_open`` excludes ``low`` itself (for quantities that must be positive).
    """
    import math

    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} {value} is not a finite number")
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        if low is None:
            valid = f"at most {high}"
        elif high is None:
            valid = f"above {low}" if low_open else f"at least {low}"
        else:
            valid = f"above {low} and at most {high}" if low_open else f"{low}..{high}"
        raise InputError(f"{name} {value} is out of range: choose {valid}")
    return float(value)


def describe_os_error(err: OSError | MemoryError) -> str:
    """One line for an environment error: what failed, and the path it failed on."""
    if isinstance(err, MemoryError):
        return "out of memory: the input is too large for this machine"
    import errno

    reason = err.strerror or str(err) or type(err).__name__
    hint = {errno.ENOSPC: " (the disk is full)", errno.EROFS: " (the file system is read-only)",
            errno.EACCES: " (permission denied)", errno.EDQUOT: " (disk quota exceeded)"}.get(err.errno, "")
    paths = [p for p in (err.filename, getattr(err, "filename2", None)) if p]
    where = " -> ".join(map(str, paths))
    return f"{where}: {reason}{hint if hint.strip(' ()') not in reason.lower() else ''}" if where else f"{reason}{hint}"
