"""The experiment template for claims read off the shared Chain-of-Steps samples: no script of their own.

A registry entry with ``measure = "module:function"`` (and ``samples``: the route-colour
threshold it reads, or ``"all"``) is a whole experiment: preset -> the shared samples of the
organism (:func:`interp.reproduce.runner.samples_for`) -> the function's figures table and
figures -> the registry's verdict -> ``result.json`` (:func:`interp.reproduce.runner.finish`).
``--replot`` re-judges a written record by the registry without running anything.

    python -m interp.experiment working_memory --preset cpu
    python -m interp.experiment working_memory --preset gpu --replot

Example:
    >>> [name for name in runnable()][:2]
    ['working_memory', 'self_correction']
"""

from __future__ import annotations

import importlib
import sys
import time

from interp import registry
from interp.errors import InputError


def runnable(path=None) -> list[str]:
    """Claims of the registry that the template runs (their latest entry names a ``measure``)."""
    return [name for name in registry.names(path) if registry.latest(name, path).measure]


def measure_function(entry):
    """The function ``entry.measure`` names (``"module:function"``)."""
    module, _, function = entry.measure.partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as err:
        raise InputError(f"claim {entry.name}: measure {entry.measure!r} cannot be imported ({err})") from None


def run(name: str, argv=None) -> int:
    """Run claim ``name`` at a preset (``argv``: ``--preset``, ``--device``, ``--out``, ``--replot``)."""
    from interp.reproduce.runner import finish, parse, samples_for

    entry = registry.latest(name)
    if not entry.measure:
        raise InputError(f"claim {name} has no measure in the registry: run experiments/{name}.py")
    argv = list(argv or [])
    replot = "--replot" in argv
    started = time.perf_counter()
    # a re-judging run rewrites its own record, which is its purpose: no folder is refused
    args = parse(name, entry.statement, [a for a in argv if a != "--replot"], prog=f"python -m interp.experiment {name}",
                 **({"outputs": ()} if replot else {}))
    if replot:
        record = registry.rejudge(args.out)
        print(f"{name}: {record['verdict']} (n={record['n_verdict']}), re-judged from {args.out}/result.json")
        return 0
    fn = measure_function(entry)
    from interp.models import load_model

    model = load_model("organism", device=args.device)
    samples = samples_for(args, model)
    chosen = samples if entry.samples == "all" else samples[float(entry.samples or 0.5)]
    finish(name, args, started, fn(chosen, args.out),
           command=f"python -m interp.experiment {name} --preset {args.preset}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m interp.experiment NAME [--preset cpu|gpu] [--device D] [--out DIR] [--replot]\n"
              f"NAME: {', '.join(runnable())}", file=sys.stderr)
        return 2
    try:
        return run(argv[0], argv[1:])
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
