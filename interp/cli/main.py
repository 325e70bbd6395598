"""Entry point of the ``cos`` command.

Each subcommand is a module ``interp.cli.<name>`` that defines ``register(subparsers)``; the
module adds its parser and sets ``func`` to a callable taking the parsed arguments. Modules
import heavy libraries inside ``func`` so that ``cos --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from interp.errors import InputError

SUBCOMMANDS = ("demo", "tasks", "organism", "trace", "steps", "probe", "maps")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cos", description="Chain-of-Steps interpretability toolkit for video diffusion transformers."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"interp.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"interp.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except InputError as err:
        print(f"cos: error: {err}", file=sys.stderr)
        return 2
    return int(result or 0)



def help_texts(parser: argparse.ArgumentParser | None = None, prefix: str = "cos"):
    """Yield ``(command, help text)`` for ``cos`` and every subcommand, depth first (for the docs)."""
    parser = parser or build_parser()
    yield prefix, parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from help_texts(sub, f"{prefix} {name}")


if __name__ == "__main__":
    sys.exit(main())
