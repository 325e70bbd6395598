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
