"""Every ```python block of README.md and docs/*.md runs as written.

Blocks of one file run in order in one fresh namespace, in a temporary working folder that holds a
link to the repository's ``data/`` (as a reader in a fresh clone would have). A block that needs
what no test machine has (real Wan weights, a GPU) is preceded by ``<!-- not run: REASON -->``;
it must still parse.
"""

import ast
import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent> {0,3})```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>[^>]*?)\s*-->\s*$")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(path: Path) -> list[tuple[int, str, str | None]]:
    """``(line, code, reason-not-run or None)`` of every ```python block of ``path``."""
    text = path.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        if match.group("lang") not in ("python", "py"):
            continue
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = NOT_RUN.search(before)
        line = text.count("\n", 0, match.start()) + 1
        blocks.append((line, match.group("body"), None if skip is None else skip.group("reason")))
    return blocks


def test_fence_parser_finds_blocks_and_markers():
    text = "intro\n\n```python\nx = 1\n```\n\n<!-- not run: needs a GPU -->\n```python\ncuda()\n```\n```bash\nls\n```\n"
    fake = Path(os.environ.get("TMPDIR", "/tmp")) / "fence_probe.md"
    fake.write_text(text)
    try:
        assert python_blocks(fake) == [(3, "x = 1\n", None), (8, "cuda()\n", "needs a GPU")]
    finally:
        fake.unlink()


# pages whose blocks are known not to run yet; strict, so a page that starts to run must leave this list
KNOWN_BROKEN = {
}


def _case(path: Path):
    name = str(path.relative_to(ROOT))
    marks = [pytest.mark.xfail(reason=KNOWN_BROKEN[name], strict=True)] if name in KNOWN_BROKEN else []
    return pytest.param(path, id=name, marks=marks)


FILES_WITH_PYTHON = [_case(p) for p in markdown_files() if python_blocks(p)]


@pytest.mark.parametrize("path", FILES_WITH_PYTHON)
def test_python_blocks_run_as_written(path, tmp_path, monkeypatch, one_torch_thread):
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for line, code, reason in python_blocks(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        tree = compile(code, where, "exec", ast.PyCF_ONLY_AST)  # a syntax error fails here, run or not
        if reason is not None:
            assert reason, f"{where}: say why the block is not run"
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(compile(tree, where, "exec"), namespace)
            except Exception as err:
                raise AssertionError(f"{where}: the block fails as written: {type(err).__name__}: {err}") from err
