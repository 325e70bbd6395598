"""Build the docs' results page from the claims registry and every ``result.json`` under the results folder.

The page audits itself: the summary has one row per claim of the registry (in its order) and one
column per organism; every verdict cell states the rule that gave it (with the date it was
fixed), the n behind it against the n the registry asks for, dtype, device, preset, command and
time, and links the claim's verdict history, where every dated rule's verdict stands side by side.
Each claim's section says what the organism can and cannot test. Figures are copied beside the
page (``docs/results/<name>/``) so the site can show them.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from interp.results import write_result
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = write_result(root / "results" / "self_correction", name="self_correction", preset="gpu", seconds=12,
    ...                  figures={"share_self_correcting": {"value": 0.13, "ci95": [0.11, 0.16], "n": 600}},
    ...                  command="python -m interp.experiment self_correction --preset gpu", device="NVIDIA H200", dtype="float32")
    >>> text = build(root / "results", root / "docs" / "results.md").read_text()
    >>> "| share_self_correcting | 0.13 | 0.11 to 0.16 | 600 |" in text
    True
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from interp import registry
from interp.errors import InputError
from interp.results import RESULTS, ROOT

PAGE = ROOT / "docs" / "results.md"
TIMING = "reproduce.json"  # written by ``make reproduce`` beside the cpu records
VERDICT_MARK = {"holds": "holds", "partly": "partly holds", "does not hold": "does not hold",
                "not testable here": "not testable here", None: "cannot be read"}
MEANINGS = [
    "**holds**: the claim's rule in the registry is met on the organism, read from the recorded figures.",
    "**partly holds**: the rule's weaker condition is met, its full condition is not.",
    "**does not hold**: the test was run and its rule is not met: on this organism the claim fails.",
    "**not testable here**: the test cannot come out otherwise on this organism (the reason is given); "
    "the claim is not judged, whatever the numbers say.",
]


def load_results(results: str | Path = RESULTS) -> list[dict]:
    """Every claim record (``result.json`` with a ``name``) under ``results``, each with its ``folder``."""
    found = []
    for path in sorted(Path(results).rglob("result.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise InputError(f"{path} is not valid JSON: {error}") from None
        if "name" not in record:
            continue                      # not a claim's record (e.g. a cos patch grid its claim reads)
        for key in ("name", "claim", "verdict", "figures"):
            if key not in record:
                raise InputError(f"{path} lacks {key!r}: write it with interp.results.write_result")
        record["folder"] = path.parent
        record["where"] = path.parent.relative_to(results).as_posix()
        found.append(record)
    return found


def _n(n) -> str:
    """A verdict's n, short: ``n=600``, or that none stands behind it."""
    return "n: none behind the verdict" if n is None else f"n={_number(n)}"


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
        value = figure.get("value")
        value = "; ".join(f"{k}: {_number(v)}" for k, v in value.items()) if isinstance(value, dict) else _number(value)
        rows.append(f"| {label} | {value} | {interval} | {_number(figure.get('n'))} |")
    return rows


def _time(seconds) -> str:
    return "-" if seconds in (None, "") else f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.0f} min"


def _provenance(record: dict) -> str:
    return (f"{record.get('dtype') or 'dtype not recorded'}, {record.get('device') or '-'}, preset "
            f"`{record.get('preset')}`, `{record.get('command', '')}`, {_time(record.get('seconds'))}, "
            f"{record.get('date')}")


def _n_text(record: dict, needed: int | None) -> str:
    n = record.get("n_verdict")
    if record.get("verdict") == "not testable here":
        return "n: none judged"
    if n is None:  # e.g. "does not hold" because a figure the rule needs is absent (a control not run)
        return f"n: none behind the verdict, the rule's figures are absent ({_number(needed)} needed)"
    short = needed is not None and n is not None and n < needed
    return f"n={_number(n)} of {_number(needed)} needed" + (": a check, not evidence" if short else "")


def readings(path: str | Path | None = None) -> dict:
    """``{organism: {claim: sentence}}`` of ``experiments/readings.toml``: why an organism's verdict
    differs from the paper's or the other organism's, or what its record reads. Written after the
    data (they are readings, not rules); the page prints them as such."""
    import tomllib

    path = Path(path) if path else registry.REGISTRY.parent / "readings.toml"
    if not path.is_file():
        return {}
    return {k: v for k, v in tomllib.loads(path.read_text()).items() if isinstance(v, dict)}


def _absent(entry, model: str) -> str:
    """What the page says of an organism without a record of the claim: whether it was meant to run."""
    if model not in entry.models:
        return f"not tested on this organism (the claim is tested on {', '.join(entry.models)})"
    if entry.rule == "not_testable":
        return f"not testable here: {entry.params.get('reason', '')}"
    return "not run"


def _cell(record: dict | None, needed: int | None, anchor: str, absent: str = "not run", entry=None) -> str:
    if record is None:
        return absent
    judged = _judged_figures(record, entry)
    return (f"**{VERDICT_MARK.get(record['verdict'], record['verdict'])}** ({_n_text(record, needed)}; "
            f"{_provenance(record)}; {_negative_text(record)}" + (f"; judged on {judged}" if judged else "")
            + f") [history](#{anchor}-history)")


def _judged_figures(record: dict, entry=None, most: int = 2) -> str:
    """The figures the rule's expression reads, with value and 95% interval (at most ``most``)."""
    import re

    if entry is None or entry.rule != "expression":
        return ""
    text = " ".join(str(entry.params.get(k, "")) for k in ("holds", "partly"))
    names = list(dict.fromkeys(re.findall(r"\b(?:value|low|high|p)\((\w+)\)", text)))
    shown = []
    for name in names:
        f = record.get("figures", {}).get(name)
        if isinstance(f, dict) and "value" in f:
            ci = f.get("ci95")
            shown.append(f"{name} {_number(f['value'])}" + (f" ({_number(ci[0])} to {_number(ci[1])})" if ci else ""))
    return ", ".join(shown[:most])


def _negative_text(record: dict) -> str:
    """Whether the record shows that its rule can fail: the same rule on a negative control."""
    if record.get("verdict") == "not testable here":
        return "no test"
    negative = record.get("negative_verdict")
    if not negative and record.get("verdict") == "does not hold":
        return "no negative control run; the rule says does not hold on this record itself, so it can fail"
    if not negative:
        return "no negative control run: the rule is not shown to fail"
    return (f"negative control ({negative['what']}): {VERDICT_MARK.get(negative['verdict'], negative['verdict'])}"
            + ("" if negative["fails"] else ": the rule does not fail where it must"))


def _copy_images(record: dict, assets: Path, page_dir: Path, prefix: str) -> list[str]:
    lines = []
    for image in record.get("images", []):
        source = Path(record["folder"]) / image
        if not source.exists():
            continue
        target = assets / prefix / image
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        link = target.relative_to(page_dir).as_posix()
        lines += [f"[![{prefix}: {image}]({link}){{ width=\"360\" }}]({link})", ""]
    return lines


def _history(name: str, records: list[dict]) -> list[str]:
    """Every dated rule of the claim and the verdict each gives on each record, side by side."""
    entries = registry.history(name)
    shown = [r for r in records if r.get("verdicts")]
    head = "| rule fixed | rule | " + " | ".join(f"`{r['where']}`" for r in shown) + " |"
    lines = [head, "| --- | --- | " + " | ".join("---" for _ in shown) + " |"]
    for i, entry in enumerate(entries):
        cells = []
        for r in shown:
            v = next((v for v in r["verdicts"] if v["fixed"] == entry.fixed), None)
            cells.append("-" if v is None else f"{VERDICT_MARK.get(v['verdict'], v['verdict'])} ({_n(v['n'])})")
        mark = " (current)" if i == len(entries) - 1 else ""
        lines.append(f"| {entry.fixed[:16].replace('T', ' ')}{mark} | {entry.rule_text} | " + " | ".join(cells) + " |")
    earlier = [(r, h) for r in records for h in r.get("verdict_history", [])]
    if earlier:
        lines += ["", "Verdicts recorded before the registry (rules then written in the scripts):", ""]
        lines += [f"- `{r['where']}`: {h['verdict']}: {h['why']}" for r, h in earlier]
    return lines


def section(name: str, records: list[dict], assets: Path, page_dir: Path, orgs: dict) -> str:
    """The markdown section of one claim: what the organism can test, every organism's verdict with
    its rule and provenance, the verdict history, the figures and images of the published record."""
    entry, first = registry.latest(name), registry.history(name)[0]
    anchor = _anchor(first.label)
    lines = [f"## {first.label}", "", f"**Paper:** {entry.statement}", "",
             f"**What the organism can and cannot test.** {' '.join(entry.can_test.split())}", "",
             f"**Metric:** {entry.metric}. **Matched control:** {entry.control}. "
             f"**Negative control:** {entry.negative_control}.", ""]
    for key, org in orgs.items():
        record = _primary(records, key)
        if record is None:
            lines += [f"**On {org.get('title', key)}: {_absent(entry, key)}.**", ""]
            continue
        if record["verdict"] == "not testable here":
            lines += [f"**On {org.get('title', key)}: not testable here** (rule fixed {record['rule']['fixed'][:10]}): "
                      f"{record['why']}.", ""]
        else:
            lines += [f"**On {org.get('title', key)}: {VERDICT_MARK.get(record['verdict'], record['verdict'])}** "
                      f"by the rule fixed {record['rule']['fixed'][:10]}: *{record['rule']['text']}*. "
                      f"{record['why']} ({_n_text(record, entry.n)}"
                      + (f"; {_judged_figures(record, entry, most=6)}" if _judged_figures(record, entry) else "") + ".)", ""]
        lines += [f"Can the rule fail? {_negative_text(record)}"
                  + (f" ({record['negative_verdict']['why']})" if record.get("negative_verdict") else "") + ".", ""]
        if record.get("reading"):
            lines += [f"Reading: {record['reading']}", ""]
        note = readings().get(key, {}).get(name)
        if note:
            lines += [f"Reading of this organism's verdict (written after the data, `experiments/readings.toml`): "
                      f"{note}", ""]
    lines += [f"### {first.label}: history {{ #{anchor}-history }}", ""] + _history(name, records) + [""]
    primaries = [id(r) for r in (_primary(records, key) for key in orgs) if r is not None]
    published = [r for r in records if r.get("preset") != "cpu" or id(r) in primaries] or records
    for record in published:
        lines += [f"Record `{record['where']}`: {_provenance(record)}; registry "
                  f"{(record.get('registry') or {}).get('commit') or 'uncommitted'}.", ""]
        lines += _figure_rows(record["figures"]) + [""]
        lines += _copy_images(record, assets, page_dir, record["where"])
    return "\n".join(lines)


def _primary(records: list[dict], model: str) -> dict | None:
    """The published record of ``model``: a non-cpu preset, the claim's own folder first. A model other
    than the maze organism without one shows its cpu-preset check (its n says it is a check, not
    evidence); the organism's cpu checks have a column of their own."""
    mine = [r for r in records if r.get("model", "organism") == model]
    shown = [r for r in mine if r.get("preset") != "cpu"] or ([] if model == "organism" else mine)
    shown.sort(key=lambda r: (r["where"].count("/"), r["where"]))
    return shown[0] if shown else None


def _timing_line(results: Path) -> list[str]:
    path = results / "cpu" / TIMING
    if not path.is_file():
        return []
    timing = json.loads(path.read_text())
    return [f"The last `make reproduce` ran {len(timing['seconds'])} scripts in {timing['total_seconds'] / 60:.1f} min "
            f"on {timing['machine']} ({timing['cores']} cores, {timing['date']})"
            + (f"; failed: {', '.join(timing['failed'])}" if timing.get("failed") else "") + ".", ""]


def build(results: str | Path = RESULTS, page: str | Path = PAGE) -> Path:
    """Write the results page (and its images) from the registry and the records; returns the page's path.

    Records of claims the registry does not hold are refused: every verdict on the page is a rule's.
    """
    results, page = Path(results), Path(page)
    assets = page.parent / "results"
    if results.resolve().is_relative_to(assets.resolve()):
        raise InputError(f"the page's image folder {assets} would replace the results in {results}: "
                         "write the page elsewhere")
    records = load_results(results) if results.is_dir() else []
    unknown = sorted({r["name"] for r in records} - set(registry.names()))
    if unknown:
        raise InputError(f"records of claims not in the registry {registry.REGISTRY}: {', '.join(unknown)}")
    if assets.exists():
        shutil.rmtree(assets)
    orgs = registry.organisms() or {"organism": {"title": "organism"}}
    by_name = {name: [r for r in records if r["name"] == name] for name in registry.names()}
    lines = ["# Results", "",
             "Each of the paper's claims (see [Chain-of-Steps](chain-of-steps.md)) next to our measurement on the "
             "model organisms. Every verdict follows from a rule in the claims registry "
             "(`experiments/claims.toml`), fixed before the data it judges and applied to the figures in "
             "`experiments/results/*/result.json`; a test re-derives each verdict from those two files. A rule "
             "changed after data is a new dated entry, and each claim's history shows the verdicts of all its rules "
             "side by side. Intervals are 95% (Wilson for shares, bootstrap over mazes for means). This page is "
             "generated by `make reproduce`; do not edit it by hand.", "",
             "What a verdict means:", ""] + [f"- {m}" for m in MEANINGS] + [
             "", "The `gpu` preset gives the published n (in `experiments/results/<name>/`); the `cpu` preset of "
             "`make reproduce` (in `experiments/results/cpu/<name>/`) checks that the scripts run: its n is below "
             "what the registry asks for, so its verdicts are not evidence.", ""]
    lines += _timing_line(results)
    if not records:
        lines += ["No results yet: run `make reproduce`.", ""]
    head = ["claim", "rule (current)"] + [o.get("title", k) for k, o in orgs.items()] + ["`make reproduce` (cpu)"]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, found in by_name.items():
        entry, first = registry.latest(name), registry.history(name)[0]
        anchor = _anchor(first.label)
        cpu = next((r for r in found if r.get("preset") == "cpu" and r["where"] == f"cpu/{name}"), None)
        cells = [f"[{first.label}](#{anchor})", f"{entry.rule_text} (fixed {entry.fixed[:10]})"]
        notes = readings()
        cells += [_cell(_primary(found, key), entry.n, anchor, _absent(entry, key), entry)
                  + (f" Reading (after the data): {notes[key][name]}" if name in notes.get(key, {}) else "")
                  for key in orgs]
        cells.append("not run" if cpu is None else f"{VERDICT_MARK.get(cpu['verdict'], cpu['verdict'])} "
                                                   f"({_n(cpu.get('n_verdict'))}, {_time(cpu.get('seconds'))})")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    lines += [section(name, found, assets, page.parent, orgs) for name, found in by_name.items()]
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines))
    return page


def model_verdicts(model: str, results: str | Path = RESULTS) -> str:
    """A markdown table of ``model``'s published verdicts, from its records alone: every claim of the registry
    with a record of ``model`` at a preset other than ``cpu`` (its folder below ``results``; negative controls
    aside), in the registry's order, with the verdict, its n against the registry's, what the rule read (the
    figures its expression reads, with their 95% intervals; otherwise the rule's own words on the record),
    the negative control, the command and the record. A docs hook puts it on the walker's page.

    Example:
        >>> import tempfile
        >>> from interp.results import write_result
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = write_result(root / "walker" / "self_correction", name="self_correction", preset="gpu", seconds=9,
        ...                  figures={"share_self_correcting": {"value": 0.16, "ci95": [0.13, 0.19], "n": 600}},
        ...                  command="python -m interp.experiment self_correction --preset gpu --model walker",
        ...                  device="NVIDIA H200", dtype="float32", model="walker")
        >>> print(model_verdicts("walker", root).splitlines()[2])  # doctest: +ELLIPSIS
        | Observation 4: self-correction | **holds** | n=600 of 600 needed | share_self_correcting 0.16 (0.13 to 0.19) | ...
    """
    results = Path(results)
    records = [r for r in (load_results(results) if results.is_dir() else [])
               if r.get("model", "organism") == model and r.get("preset") != "cpu"
               and not r["where"].startswith(("negative/", "cpu/"))]
    lines = ["| claim | verdict | n | what the rule read | negative control | command | record |",
             "|" + " --- |" * 7]
    for name in registry.names():
        record = _primary([r for r in records if r["name"] == name], model)
        if record is None:
            continue
        entry = registry.latest(name)
        path = record["folder"] / "result.json"
        shown = path.relative_to(ROOT).as_posix() if path.resolve().is_relative_to(ROOT) else record["where"]
        cells = [registry.history(name)[0].label, f"**{VERDICT_MARK.get(record['verdict'], record['verdict'])}**",
                 _n_text(record, entry.n), _judged_figures(record, entry, most=4) or record.get("why", ""),
                 _negative_text(record), f"`{record.get('command', '')}`", f"`{shown}`"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n" if len(lines) > 2 else f"No published record of {model} yet.\n"


def _anchor(title: str) -> str:
    """The id mkdocs' toc extension gives a heading (lower case, punctuation dropped, spaces to '-')."""
    import re

    text = re.sub(r"[^\w\s-]", "", title.lower()).strip()
    return re.sub(r"[-\s]+", "-", text)
