"""The docs site typesets its formulas offline: KaTeX ships with the site and every formula parses."""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FORMULA = re.compile(r'<(?:span|div) class="arithmatex">(.*?)</(?:span|div)>', re.S)
SCRIPT = re.compile(r'<script src="([^"]+)"')
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def _pages_with_maths(site: Path) -> dict[Path, list[str]]:
    pages = {}
    for page in site.rglob("*.html"):
        found = [html.unescape(m) for m in FORMULA.findall(page.read_text())]
        if found:
            pages[page] = found
    return pages


def test_pages_with_formulas_load_local_katex(built_site):
    pages = _pages_with_maths(built_site)
    assert any(p.parent.name == "chain-of-steps" for p in pages), "the x0_hat formula should be typeset"
    for page, _ in pages.items():
        text = page.read_text()
        assets = SCRIPT.findall(text) + STYLESHEET.findall(text)
        assert not [a for a in assets if a.startswith(("http:", "https:", "//"))], f"{page} loads from the network"
        needed = [a for a in assets if "katex" in a]
        names = {Path(a).name for a in needed}
        assert {"katex.min.js", "auto-render.min.js", "katex-init.js", "katex.min.css"} <= names, (page, names)
        for asset in needed:
            assert (page.parent / asset).resolve().is_file(), f"{page} links {asset}, which the site lacks"


def test_katex_fonts_referenced_by_the_stylesheet_are_shipped(built_site):
    css = built_site / "assets" / "katex" / "katex.min.css"
    fonts = re.findall(r"url\(([^)]+)\)", css.read_text())
    assert fonts
    missing = [f for f in fonts if not (css.parent / f).is_file()]
    assert not missing, f"katex.min.css names fonts the site does not ship: {missing[:5]}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run KaTeX outside a browser")
def test_every_formula_renders_with_the_shipped_katex(built_site, tmp_path):
    formulas = sorted({f for found in _pages_with_maths(built_site).values() for f in found})
    assert formulas
    (tmp_path / "formulas.json").write_text(json.dumps(formulas))
    katex = built_site / "assets" / "katex" / "katex.min.js"
    script = f"""
const katex = require({json.dumps(str(katex))});
const formulas = require({json.dumps(str(tmp_path / 'formulas.json'))});
const bad = [];
for (const f of formulas) {{
  const m = f.match(/^\\\\([\\(\\[])([\\s\\S]*)\\\\[\\)\\]]$/);
  if (!m) {{ bad.push(["not delimited", f]); continue; }}
  try {{ katex.renderToString(m[2], {{displayMode: m[1] === "[", throwOnError: true}}); }}
  catch (e) {{ bad.push([String(e.message), f]); }}
}}
console.log(JSON.stringify(bad));
"""
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], done.stdout
