"""Oracles of the reliability suite: what a user sees after a command, and what is on disk."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "data" / "tasks" / "maze5_s0"


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """Exit 2 and one ``cos: error:`` line on stderr (progress bars aside) that names ``needles``."""
    lines = [line for line in err.splitlines() if line.strip() and "\r" not in line]
    assert code == 2, err
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith("cos: error:")]
    assert len(errors) == 1, err
    for needle in needles:
        assert needle in errors[0], errors[0]


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its bytes, to show that nothing changed."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
