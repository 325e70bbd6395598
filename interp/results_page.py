"""Build the docs' results page from every ``experiments/results/*/result.json``.

One section per experiment, in the order of :mod:`interp.reproduce.registry` (unregistered
results follow by name): the paper's statement, the verdict and why, the measured figures
(value, 95% interval, n), thumbnails of the figures and the command that made them. Figures are
copied beside the page (``docs/results/<name>/``) so the site can show them.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from interp.results import write_result
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = write_result(root / "results" / "demo", name="demo", claim="A claim.", verdict="partly", why="Because.",
    ...                  figures={"share": {"value": 0.5, "ci95": [0.3, 0.7], "n": 20}}, preset="cpu", command="python x.py")
    >>> page = build(root / "results", root / "docs" / "results.md")
    >>> "| share | 0.5 | 0.3 to 0.7 | 20 |" in page.read_text()
    True
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from interp.errors import InputError
from interp.results import RESULTS

PAGE = Path("docs/results.md")
TIMING = "reproduce.json"  # written by ``make reproduce`` beside the cpu records
VERDICT_MARK = {"holds": "holds", "partly": "partly holds", "does not hold": "does not hold"}


def load_results(results: str | Path = RESULTS) -> list[dict]:
    """Every ``result.json`` under ``results``, in registry order, each with its ``folder``."""
    from interp.reproduce.registry import EXPERIMENTS

    labels = {e.name: e.label for e in EXPERIMENTS}
    found = []
    for path in sorted(Path(results).glob("*/result.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise InputError(f"{path} is not valid JSON: {error}") from None
        for key in ("name", "claim", "verdict", "figures"):
            if key not in record:
                raise InputError(f"{path} lacks {key!r}: write it with interp.results.write_result")
        record["folder"] = path.parent
        record.setdefault("label", labels.get(record["name"], record["name"]))
        found.append(record)
    return in_registry_order(found)


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _figure_rows(figures: dict) -> list[str]:
    rows = ["| figure | value | 95% interval | n |", "| --- | --- | --- | --- |"]
    for key, figure in figures.items():
        ci = figure.get("ci95")
        interval = f"{_number(ci[0])} to {_number(ci[1])}" if ci else "-"
        where = [f"{k} {figure[k]}" for k in ("layer", "step", "region") if k in figure]
        label = key + (f" ({', '.join(where)})" if where else "")
        rows.append(f"| {label} | {_number(figure.get('value'))} | {interval} | {_number(figure.get('n'))} |")
    return rows


def section(record: dict, assets: Path, page_dir: Path) -> str:
    """The markdown section of one result; copies its images into ``assets/<name>/``."""
    name = record["name"]
    lines = [f"## {record['label']}", "", f"**Paper:** {record['claim']}", "",
             f"**Verdict on the organism: {VERDICT_MARK.get(record['verdict'], record['verdict'])}.** "
             f"{record.get('why', '')}", ""]
    lines += _figure_rows(record["figures"]) + [""]
    for image in record.get("images", []):
        source = Path(record["folder"]) / image
        if not source.exists():
            continue
        target = assets / name / image
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        link = target.relative_to(page_dir).as_posix()
        lines += [f"[![{name}: {image}]({link}){{ width=\"360\" }}]({link})", ""]
    device = record.get("device", "")
    seconds = record.get("seconds")
    lines += [f"Command: `{record.get('command', '')}` (preset `{record.get('preset')}`, {record.get('date')}, "
              f"{device}{f', {seconds:.0f} s' if seconds else ''}).", ""]
    return "\n".join(lines)


def _n(record: dict):
    ns = [f.get("n") for f in record["figures"].values() if isinstance(f.get("n"), int)]
    return max(ns) if ns else "-"


def _rerun_cell(record: dict | None) -> str:
    if record is None:
        return "not run"
    seconds = record.get("seconds")
    return (f"{VERDICT_MARK.get(record['verdict'], record['verdict'])} (n={_n(record)}"
            f"{f', {seconds:.0f} s' if seconds else ''})")


def _timing_line(results: Path) -> list[str]:
    path = results / "cpu" / TIMING
    if not path.is_file():
        return []
    timing = json.loads(path.read_text())
    return [f"The last `make reproduce` ran {len(timing['seconds'])} scripts in {timing['total_seconds'] / 60:.1f} min "
            f"on {timing['machine']} ({timing['cores']} cores, {timing['date']})"
            + (f"; failed: {', '.join(timing['failed'])}" if timing.get("failed") else "") + ".", ""]


def build(results: str | Path = RESULTS, page: str | Path = PAGE) -> Path:
    """Write the results page (and its images) from the result files; returns the page's path.

    Sections show the published records (``results/<name>``, the gpu preset); the summary table
    adds the cpu re-run of ``make reproduce`` (``results/cpu/<name>``) beside each. A claim with
    only a cpu record is shown from that record.
    """
    results, page = Path(results), Path(page)
    reruns = {r["name"]: r for r in load_results(results / "cpu")} if (results / "cpu").is_dir() else {}
    records = load_results(results)
    published = {r["name"] for r in records}
    records += [r for name, r in reruns.items() if name not in published]
    records = in_registry_order(records)
    assets = page.parent / "results"
    if results.resolve().is_relative_to(assets.resolve()):
        raise InputError(f"the page's image folder {assets} would replace the results in {results}: "
                         "write the page elsewhere")
    if assets.exists():
        shutil.rmtree(assets)
    lines = ["# Results", "",
             "Each of the paper's claims (see [Chain-of-Steps](chain-of-steps.md)) next to our measurement on the "
             "bundled maze organism. Verdicts follow a rule stated with each result; intervals are 95% (Wilson for "
             "shares, bootstrap for means). This page is generated by `make reproduce` from "
             "`experiments/results/*/result.json`; do not edit it by hand. Each script has a `gpu` preset (the "
             "published n, in `experiments/results/<name>/`) and a `cpu` preset (small n, minutes on 2 cores, in "
             "`experiments/results/cpu/<name>/`): `make reproduce` runs every cpu preset, and its verdicts stand in "
             "the last column as a check that the scripts run, not as evidence (n is small).", ""]
    lines += _timing_line(results)
    if not records:
        lines += ["No results yet: run `make reproduce`.", ""]
    else:
        lines += ["| claim | verdict | preset | n | `make reproduce` (cpu preset) |", "| --- | --- | --- | --- | --- |"]
        for r in records:
            rerun = reruns.get(r["name"]) if r.get("preset") != "cpu" else r
            lines.append(f"| [{r['label']}](#{_anchor(r['label'])}) | {VERDICT_MARK.get(r['verdict'], r['verdict'])} | "
                         f"{r.get('preset', '-')} | {_n(r)} | {_rerun_cell(rerun)} |")
        lines.append("")
        lines += [section(r, assets, page.parent) for r in records]
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines))
    return page


def in_registry_order(records: list[dict]) -> list[dict]:
    """``records`` in registry order (unregistered names last, by name)."""
    from interp.reproduce.registry import EXPERIMENTS

    order = {e.name: i for i, e in enumerate(EXPERIMENTS)}
    return sorted(records, key=lambda r: (order.get(r["name"], len(order)), r["name"]))


def _anchor(title: str) -> str:
    """The id mkdocs' toc extension gives a heading (lower case, punctuation dropped, spaces to '-')."""
    import re

    text = re.sub(r"[^\w\s-]", "", title.lower()).strip()
    return re.sub(r"[-\s]+", "-", text)
