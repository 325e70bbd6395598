"""Entry point of the ``cos`` command.

Each subcommand is a module ``interp.cli.<name>`` (hyphens in the command become underscores) that defines ``register(subparsers)``; the
module adds its parser and sets ``func`` to a callable taking the parsed arguments. Modules
import heavy libraries inside ``func`` so that ``cos --help`` stays fast.

A user's mistake (:class:`~interp.errors.InputError`) or an environment error (a full or
read-only disk, a missing permission) ends the command with one line on stderr and exit code 2;
Ctrl-C with one line and exit code 130. ``--debug`` (or ``COS_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys

from interp.errors import InputError, describe_os_error
from interp.paths import recorded_words

SUBCOMMANDS = ("demo", "tasks", "organism", "trace", "steps", "probe", "maps", "cos-metrics", "patch", "noise", "erase", "swap",
               "ensemble", "view")
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that ends each option's text with its default, unless the text already names one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or not action.option_strings
                or any(action.default is v for v in (None, False, True, argparse.SUPPRESS))):
            return text
        default = " ".join(map(str, action.default)) if isinstance(action.default, (list, tuple)) else action.default
        return f"{text} (default: {str(default).replace('%', '%%')})"


class CosParser(argparse.ArgumentParser):
    """Every ``cos`` parser, nested subcommands included, shows option defaults in ``--help``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = CosParser(
        prog="cos", description="Chain-of-Steps interpretability toolkit for video diffusion transformers."
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        path = f"interp.cli.{name.replace('-', '_')}"  # `cos cos-metrics` lives in interp/cli/cos_metrics.py
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as err:
            if err.name != path:
                raise
            continue
        module.register(subparsers)
    return parser


def dispatch(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; errors propagate (see :func:`main`)."""
    args = parse(argv)
    return int(args.func(args) or 0)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parsed arguments; ``command_line`` is the command as typed, for the records commands write."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(recorded_words(["cos", *argv]))   # no path of this machine
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("COS_DEBUG", "") not in ("", "0")
    args = parse(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        if debug:
            raise
        return _fail(str(err))
    except KeyboardInterrupt:
        if debug:
            raise
        print("cos: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`cos ... | head`): stop quietly, and keep the interpreter from
        # complaining while it flushes stdout at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE
    except (OSError, MemoryError) as err:
        if debug:
            raise
        message = describe_os_error(err)
        outputs = [str(v) for k in ("out", "json", "gif") if isinstance(v := getattr(args, k, None), str)]
        if isinstance(err, OSError) and not err.filename and outputs:
            message += f" (while writing {' or '.join(outputs)})"  # a failed write names no file
        return _fail(message)
    except RecursionError:
        if debug:
            raise
        return _fail("an input is nested too deeply to read")


def _fail(message: str) -> int:
    print(f"cos: error: {message}", file=sys.stderr)
    return EXIT_INPUT


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
