"""The ``cos`` entry point: every subcommand registers, bad input is one line and exit code 2."""

import subprocess
import sys

from interp.cli.main import SUBCOMMANDS, build_parser, help_texts, main


def test_every_subcommand_registers():
    parser = build_parser()
    registered = next(a for a in parser._actions if a.dest == "command").choices
    assert set(registered) == set(SUBCOMMANDS)


def test_help_texts_cover_nested_commands():
    commands = [c for c, _ in help_texts()]
    assert "cos tasks make" in commands and "cos trace" in commands


def test_input_error_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "mazes"
    assert main(["tasks", "make", "--sizes", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cos: error:") and "2" in err[0]
    assert not out.exists()


def test_console_script_runs():
    done = subprocess.run([sys.executable, "-m", "interp.cli.main", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "trace" in done.stdout
