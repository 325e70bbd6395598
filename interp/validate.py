"""Reading and checking the files users hand to the toolkit, in one place.

Task metadata, organism configs and diffusers model indexes are all read through
:func:`read_json` and checked against a small schema (:func:`check_schema`), so a truncated,
non-UTF-8, absurdly nested or mistyped file is an :class:`~interp.errors.InputError` that names
the file and the bad field, never a traceback from deep inside a parser.

Example:
    >>> check_schema({"px_per_unit": 2}, {"px_per_unit": Field(int, low=1, high=64)}, "metadata.json")
    {'px_per_unit': 2}
    >>> check_schema({"px_per_unit": "abc"}, {"px_per_unit": Field(int, low=1, high=64)}, "metadata.json")
    Traceback (most recent call last):
    ...
    interp.errors.InputError: metadata.json: 'px_per_unit' is 'abc' (str); it must be an integer in 1..64
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interp.errors import MAX_SEED, InputError

MAX_JSON_BYTES = 64 << 20
MAX_TEXT_BYTES = 1 << 20
MAX_IMAGE_SIDE = 16384
MAX_IMAGE_PIXELS = 64 << 20


def read_text(path: str | os.PathLike, what: str = "text file", limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of ``path``."""
    path = Path(path)
    try:
        if path.stat().st_size > limit:
            raise InputError(f"{what} {str(path)!r} is larger than {limit} bytes")
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {what} {str(path)!r}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} {str(path)!r} is not UTF-8 text (byte {err.start}): save it as UTF-8") from None


def read_json(path: str | os.PathLike, what: str = "JSON file", *, require_dict: bool = True) -> Any:
    """Parse ``path`` as JSON; with ``require_dict``, its top level must be an object."""
    text = read_text(path, what, MAX_JSON_BYTES)
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError(f"{what} {str(path)!r} is nested too deeply to read") from None
    except ValueError as err:
        raise InputError(f"{what} {str(path)!r} is not valid JSON: {err}") from None
    if require_dict and not isinstance(value, dict):
        raise InputError(f"{what} {str(path)!r} must hold a JSON object, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class Field:
    """One key of a schema: its type(s), whether it must be present, and bounds or choices."""

    types: type | tuple[type, ...]
    required: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    low_open: bool = False

    def describe(self) -> str:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        names = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object",
                 bool: "true or false"}
        text = " or ".join(names.get(t, t.__name__) for t in types)
        if self.choices is not None:
            text += " among " + ", ".join(map(repr, self.choices))
        if self.low is not None or self.high is not None:
            low = "" if self.low is None else (f">{self.low}" if self.low_open else f"{self.low}")
            text += f" in {low}..{'' if self.high is None else self.high}"
        return text

    def accepts(self, value: Any) -> bool:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        if float in types and int not in types:
            types = types + (int,)
        if isinstance(value, bool) and bool not in types:
            return False
        if not isinstance(value, types):
            return False
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                return False
            if self.low is not None and (value <= self.low if self.low_open else value < self.low):
                return False
            if self.high is not None and value > self.high:
                return False
        return self.choices is None or value in self.choices


def check_schema(data: dict, schema: dict[str, Field], where: str, *, allow_unknown: bool = True) -> dict:
    """Raise :class:`InputError` naming ``where`` and the first key of ``data`` that breaks ``schema``."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, not {type(data).__name__}")
    for key, field in schema.items():
        if key not in data:
            if field.required:
                raise InputError(f"{where}: the key {key!r} is missing; it must be {field.describe()}")
            continue
        value = data[key]
        if not field.accepts(value):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise InputError(f"{where}: {key!r} is {shown} ({type(value).__name__}); it must be {field.describe()}")
    if not allow_unknown:
        unknown = sorted(set(data) - set(schema))
        if unknown:
            raise InputError(f"{where}: unknown keys {unknown}: valid are {sorted(schema)}")
    return data


def organism_config_schema() -> dict[str, Field]:
    """What an organism folder's ``organism.json`` must hold (every key optional, none unknown)."""
    return {
        "px_per_unit": Field(int, low=1, high=64),
        "num_frames": Field(int, low=2, high=1000),
        "palette": Field(str),
        "palette_colors": Field(dict),
        "text_tokens": Field(int, low=1, high=4096),
        "task_names": Field(list),
        "shift": Field(float, low=0, high=1000, low_open=True),
        "num_inference_steps": Field(int, low=1, high=1000),
        "condition_layout": Field(str),
        "sizes_trained": Field(list),
        "extra_openings": Field(float, low=0, high=1),
        "name": Field(str),
    }


def check_model_index(path: str | os.PathLike) -> dict:
    """A diffusers ``model_index.json``: a ``_class_name`` and at least one ``[library, class]`` component."""
    path = Path(path)
    index = read_json(path, "model index")
    check_schema(index, {"_class_name": Field(str, required=True)}, str(path))
    # Lists are components; scalars are the pipeline's own settings (Wan2.2's boundary_ratio).
    components = {k: v for k, v in index.items() if not k.startswith("_") and isinstance(v, (list, dict))}
    malformed = [k for k, v in components.items()
                 if not (isinstance(v, list) and len(v) == 2 and all(x is None or isinstance(x, str) for x in v))]
    if malformed:
        raise InputError(f"{path}: components {malformed[:3]} must each be a [library, class] pair")
    if not any(v[0] is not None for v in components.values()):
        raise InputError(f"{path} lists no pipeline components (such as 'transformer': ['diffusers', ...])")
    return index


def check_image_file(path: str | os.PathLike, what: str = "image") -> None:
    """The image header of ``path`` is readable and no larger than :data:`MAX_IMAGE_SIDE` a side."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            width, height = im.size
    except Image.DecompressionBombError as err:
        raise InputError(f"{what} {str(path)!r} is too large to read: {err}") from None
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise InputError(f"cannot read {what} {str(path)!r}: {err}") from None
    if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        raise InputError(f"{what} {str(path)!r} is too large to read ({width}x{height}): at most "
                         f"{MAX_IMAGE_SIDE} px a side and {MAX_IMAGE_PIXELS} pixels")


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
