"""Where the repository's files live, from configuration and never the working folder.

``ROOT`` is the checkout this package was imported from; ``RESULTS`` is its
``experiments/results`` unless ``COS_RESULTS`` names another folder. A record never states the
absolute paths of the machine it ran on: :func:`recorded_path` and :func:`recorded_command` give
a path relative to the repository root (or to the record's own folder).

Example:
    >>> (ROOT / "interp" / "paths.py").is_file()
    True
    >>> recorded_path(ROOT / "outputs" / "trace.h5"), recorded_path("/elsewhere/run/trace.h5", "/elsewhere")
    ('outputs/trace.h5', 'run/trace.h5')
    >>> recorded_command(["python", "experiments/layer_swap.py", "--out", str(RESULTS / "layer_swap")])
    'python experiments/layer_swap.py --out experiments/results/layer_swap'
    >>> recorded_text('File "/tmp/site/diffusers/transformer_wan.py", line 502 (and/or 1/2)')
    'File "transformer_wan.py", line 502 (and/or 1/2)'
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a checkout's experiments/results, or COS_RESULTS
RESULTS = Path(os.environ.get("COS_RESULTS", ROOT / "experiments" / "results"))

__all__ = ["ROOT", "RESULTS", "recorded_command", "recorded_path", "recorded_text", "recorded_words", "stated_path"]


def recorded_path(path, folder=None) -> str:
    """``path`` as a record states it (``/`` separated): relative to the repository root when it lies
    inside it, else relative to ``folder`` (the record's own folder) when inside that, else its
    name alone (a file elsewhere on the machine, e.g. a temporary trace); never absolute. A
    relative ``path`` is taken from the working folder."""
    path = Path(os.path.abspath(path))
    for base in (ROOT, *([Path(os.path.abspath(folder))] if folder is not None else [])):
        for candidate, anchor in ((path, base), (path.resolve(), base.resolve())):
            if candidate == anchor or anchor in candidate.parents:
                return candidate.relative_to(anchor).as_posix() or "."
    return path.name


def stated_path(value, folder=None) -> str:
    """A value that may be a path (a model folder, a trace) as a record states it: an absolute path
    through :func:`recorded_path`, anything else (a name, a relative path) as given."""
    value = str(value)
    return recorded_path(value, folder) if os.path.isabs(value) else value


def recorded_text(text: str, folder=None) -> str:
    """Free text (an error message, a stack trace) with every absolute path in it through
    :func:`recorded_path`: a record never states where the machine keeps its files."""
    return re.sub(r"(?<![\w.~])/(?:[\w.+-]+/)*[\w.+-]+", lambda m: recorded_path(m.group(0), folder), str(text))


def recorded_words(argv, folder=None) -> list[str]:
    """The words of a command line as a record states them: every absolute path (also ``--opt=/path``)
    through :func:`recorded_path`."""
    words = []
    for word in map(str, argv):
        option, eq, value = word.partition("=") if word.startswith("-") else ("", "", word)
        words.append(f"{option}{eq}{stated_path(value, folder)}")
    return words


def recorded_command(argv, folder=None) -> str:
    """:func:`recorded_words`, joined by spaces."""
    return " ".join(recorded_words(argv, folder))
