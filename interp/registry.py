"""The claims registry (``experiments/claims.toml``): each claim's rule, fixed before its data.

An :class:`Entry` is one rule for one claim, dated; a changed rule is a later entry with the same
``name`` (fields it leaves out are those of the entry before). :func:`verdicts` judges a
``result.json`` record by every entry of its claim, the latest leading; :func:`provenance` says
which registry (its commit, when the file is committed unchanged, and its SHA-256) judged it.

Example:
    >>> entries = load()
    >>> latest("working_memory").rule
    'not_testable'
    >>> [e.fixed[:10] for e in history("noise_step_vs_frame")][:2]
    ['2026-11-30', '2026-11-30']
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from interp.errors import InputError
from interp.paths import RESULTS, ROOT

REGISTRY = Path(os.environ.get("COS_CLAIMS", ROOT / "experiments" / "claims.toml"))
REQUIRED = ("name", "fixed", "statement", "models", "metric", "control", "negative_control", "n", "rule")
INHERITED = ("label", "statement", "models", "metric", "control", "negative_control", "n", "can_test", "measure",
             "samples")


@dataclass(frozen=True)
class Entry:
    """One dated rule of one claim (see the header of ``experiments/claims.toml`` for the fields)."""

    name: str
    fixed: str
    label: str
    statement: str
    models: tuple
    metric: str
    control: str
    negative_control: str
    n: int
    rule: str
    params: dict = field(default_factory=dict, hash=False)
    text: str = ""
    can_test: str = ""
    measure: str = ""          # "module:function" for a claim run by the template, no script of its own
    samples: str = ""          # which of the shared Chain-of-Steps samples it reads: a threshold, or "all"

    @property
    def rule_text(self) -> str:
        """The rule in words: the entry's ``text``, else the conditions of an expression rule."""
        if self.text:
            return self.text
        if self.rule == "expression":
            return (f"holds if {self.params['holds']}"
                    + (f"; partly if {self.params['partly']}" if self.params.get("partly") else "")
                    + "; otherwise does not hold")
        if self.rule == "not_testable":
            return f"not testable here: {self.params.get('reason', '')}"
        return f"{self.rule}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"

    def as_record(self) -> dict:
        """What ``result.json`` stores of the rule that judged it."""
        return {"claim": self.name, "fixed": self.fixed, "rule": self.rule, "params": dict(self.params),
                "text": self.rule_text, "n_needed": self.n}


def _read(path: Path) -> dict:
    import tomllib

    if not path.is_file():
        raise InputError(f"claims registry {path} not found: run from a checkout of the repository or set COS_CLAIMS")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"claims registry {path} is not valid TOML: {err}") from None


def parse(data: dict, source: str = "registry") -> list[Entry]:
    """Entries of a parsed registry, checked: fields present, rules known, expressions valid, dates rising."""
    from interp.rules import RULES, check_expression

    entries, last = [], {}
    for i, raw in enumerate(data.get("claim", [])):
        raw = dict(raw)
        raw["fixed"] = raw["fixed"].isoformat() if hasattr(raw.get("fixed"), "isoformat") else raw.get("fixed")
        before = last.get(raw.get("name"))
        for key in INHERITED:
            if key not in raw and before is not None:
                raw[key] = getattr(before, key)
        missing = [k for k in REQUIRED if raw.get(k) in (None, "")]
        if missing:
            raise InputError(f"{source}: claim entry {i} ({raw.get('name', '?')}) lacks {', '.join(missing)}")
        if raw["rule"] not in RULES:
            raise InputError(f"{source}: claim {raw['name']} names rule {raw['rule']!r}: valid are {', '.join(RULES)}")
        params = raw.get("params", {})
        if raw["rule"] == "expression":
            if "holds" not in params:
                raise InputError(f"{source}: expression rule of {raw['name']} needs params.holds")
            for key in ("holds", "partly"):
                if key in params:
                    check_expression(params[key])
        if raw["rule"] == "not_testable" and not params.get("reason"):
            raise InputError(f"{source}: claim {raw['name']} is not testable without params.reason")
        if before is not None and raw["fixed"] <= before.fixed:
            raise InputError(f"{source}: entry {raw['name']} fixed {raw['fixed']} is not later than the one before "
                             f"({before.fixed}): a changed rule is a new, later entry")
        unknown = set(raw) - set(Entry.__dataclass_fields__)
        if unknown:
            raise InputError(f"{source}: claim {raw['name']} has unknown fields {sorted(unknown)}")
        models = tuple(raw["models"])
        organisms = data.get("organisms", {})
        if organisms and set(models) - set(organisms):
            raise InputError(f"{source}: claim {raw['name']} names models {sorted(set(models) - set(organisms))} "
                             f"not in [organisms]: {', '.join(organisms)}")
        entry = Entry(**{**raw, "models": models, "label": raw.get("label", raw["name"]), "params": params})
        entries.append(entry)
        last[entry.name] = entry
    return entries


@lru_cache(maxsize=4)
def _load(path: str, stamp: float) -> tuple[list[Entry], dict]:
    data = _read(Path(path))
    return parse(data, path), data.get("organisms", {})


def load(path: str | Path | None = None) -> list[Entry]:
    """Every entry of the registry, in file order."""
    path = Path(path or REGISTRY)
    return _load(str(path), path.stat().st_mtime if path.exists() else 0.0)[0]


def organisms(path: str | Path | None = None) -> dict:
    """The registry's ``[organisms]``: ``{key: {"title", "about"}}``."""
    path = Path(path or REGISTRY)
    return _load(str(path), path.stat().st_mtime if path.exists() else 0.0)[1]


def names(path=None) -> list[str]:
    """Claim names in the registry's order (the order of the results page)."""
    return list(dict.fromkeys(e.name for e in load(path)))


def history(name: str, path=None) -> list[Entry]:
    """Every entry of claim ``name``, oldest first."""
    found = [e for e in load(path) if e.name == name]
    if not found:
        raise InputError(f"claim {name!r} is not in the registry {path or REGISTRY}: known are {', '.join(names(path))}")
    return found


def latest(name: str, path=None) -> Entry:
    """The entry that judges claim ``name`` now."""
    return history(name, path)[-1]


def verdicts(record: dict, path=None) -> list[dict]:
    """``record`` judged by every entry of its claim, oldest first: ``{"fixed", "text", "verdict", "why", "n"}``.

    A rule that cannot read the record (a figure it needs was not measured by that run) gives no
    verdict but says what is missing.
    """
    from interp.rules import judge

    out = []
    for entry in history(record["name"], path):
        try:
            v = judge(record, entry.rule, entry.params)
            out.append({"fixed": entry.fixed, "rule": entry.rule, "text": entry.rule_text, "verdict": v.verdict,
                        "why": v.why, "n": v.n})
        except (InputError, KeyError) as err:
            out.append({"fixed": entry.fixed, "rule": entry.rule, "text": entry.rule_text, "verdict": None,
                        "why": f"cannot be read from this record: {err}", "n": None})
    return out


def provenance(path=None) -> dict:
    """Which registry judged: its path, SHA-256, and the commit that last changed it (None when the
    file differs from that commit or no git history is at hand)."""
    path = Path(path or REGISTRY)
    text = path.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    commit = None
    try:
        rel = path.resolve().relative_to(ROOT)
        run = dict(cwd=ROOT, capture_output=True, text=True, timeout=10)
        last = subprocess.run(["git", "log", "-1", "--format=%H", "--", str(rel)], **run).stdout.strip()
        blob = subprocess.run(["git", "show", f"{last}:{rel.as_posix()}"], cwd=ROOT, capture_output=True,
                              timeout=10).stdout if last else None
        commit = last if blob == text else None
    except (ValueError, OSError, subprocess.SubprocessError):
        pass
    return {"path": "experiments/claims.toml" if path == REGISTRY else str(path), "sha256": digest, "commit": commit}


def judge_record(record: dict, path=None) -> dict:
    """Judge ``record`` (a ``result.json`` dict) by the registry, in place, and return it.

    Sets ``claim`` (the statement), ``verdict``, ``why`` and ``n_verdict`` from the latest entry;
    ``verdicts`` from every entry (oldest first); ``rule`` (what judged it) and ``registry``
    (:func:`provenance`). A record that holds its negative control's measurements (``negative``:
    ``{"what", "figures", "settings"}``, where the property is absent by construction) also gets
    ``negative_verdict``: the same rule on those, which must say ``does not hold`` for the test to
    be one that can fail. Raises :class:`InputError` when the latest rule cannot read the record.
    """
    entry = latest(record["name"], path)
    judged = verdicts(record, path)
    if judged[-1]["verdict"] is None:
        raise InputError(f"{record['name']}: the registry's rule of {entry.fixed} {judged[-1]['why']}")
    record.update(claim=entry.statement, verdict=judged[-1]["verdict"], why=judged[-1]["why"],
                  n_verdict=judged[-1]["n"], rule=entry.as_record(), registry=provenance(path), verdicts=judged)
    if record.get("negative"):
        record["negative_verdict"] = negative_verdict(record, path)
    return record


def negative_verdict(record: dict, path=None) -> dict:
    """The latest rule of ``record``'s claim applied to its negative control's measurements."""
    from interp.rules import judge

    entry = latest(record["name"], path)
    v = judge({"name": record["name"], **record["negative"]}, entry.rule, entry.params)
    return {"what": record["negative"].get("what", ""), "verdict": v.verdict, "why": v.why, "n": v.n,
            "fails": v.verdict == "does not hold"}


def audit(record: dict, path=None) -> list[str]:
    """What is wrong with a judged record: an empty list when its rule is the registry's latest and
    every stored verdict follows from the registry's rules applied to its own figures."""
    problems = []
    entry = latest(record["name"], path)
    if record.get("rule") != entry.as_record():
        problems.append(f"its rule ({(record.get('rule') or {}).get('fixed')}: {(record.get('rule') or {}).get('text')!r}) "
                        f"differs from the registry's ({entry.fixed}: {entry.rule_text!r}): re-run it or "
                        "`python -m interp.registry rejudge` its folder")
    derived = verdicts(record, path)
    if record.get("verdicts") != derived:
        problems.append("its stored verdicts differ from those the registry's rules give on its figures")
    if record.get("negative") and record.get("negative_verdict") != negative_verdict(record, path):
        problems.append("its negative control's verdict differs from the registry's rule on its measurements")
    if (record.get("verdict"), record.get("n_verdict")) != (derived[-1]["verdict"], derived[-1]["n"]):
        problems.append(f"its verdict {record.get('verdict')!r} is not the registry's {derived[-1]['verdict']!r}")
    for key in ("preset", "device", "dtype", "command", "seconds", "model"):
        if record.get(key) in (None, ""):
            problems.append(f"it does not state its {key}")
    return problems


def registered(name: str, path=None) -> bool:
    """Whether the registry has a claim ``name``."""
    return name in names(path)


def rejudge(folder, path=None) -> dict:
    """Re-judge ``folder/result.json`` by the registry and rewrite it (measurements untouched)."""
    import json

    file = Path(folder) / "result.json"
    if not file.is_file():
        raise InputError(f"{file} does not exist: run the experiment first")
    from interp.outputs import write_json

    record = judge_record(json.loads(file.read_text()), path)
    write_json(file, record, default=float)
    return record


def attach_negative(folder, negative_folder, what: str, path=None) -> dict:
    """Embed the record in ``negative_folder`` (the same experiment run where the claim's property is
    absent by construction) as ``folder``'s negative control, re-judge ``folder`` and rewrite it.

    The two records must be of the same claim, so the same rule reads both."""
    import json

    files = [Path(f) / "result.json" for f in (folder, negative_folder)]
    for file in files:
        if not file.is_file():
            raise InputError(f"{file} does not exist: run the experiment first")
    record, negative = (json.loads(f.read_text()) for f in files)
    if record.get("name") != negative.get("name"):
        raise InputError(f"{files[1]} is a record of {negative.get('name')!r}, not of {record.get('name')!r}: "
                         "a negative control runs the same experiment")
    where = Path(negative_folder).resolve()
    try:
        where = where.relative_to(ROOT)
    except ValueError:
        pass
    record["negative"] = {"what": f"{what}: {negative.get('command', '')} (record in {where})",
                          "figures": negative["figures"], "settings": negative.get("settings", {})}
    from interp.outputs import write_json

    record = judge_record(record, path)
    write_json(files[0], record, default=float)
    return record


def main(argv=None) -> int:
    """``python -m interp.registry rejudge FOLDER...``: re-judge records; ``check``: validate the registry;
    ``negative FOLDER NEGATIVE_FOLDER --what TEXT``: embed a negative control's record and re-judge."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m interp.registry", description=main.__doc__)
    parser.add_argument("command", choices=("check", "rejudge", "negative"))
    parser.add_argument("folders", nargs="*", help="folders holding result.json (rejudge; default: every claim's "
                        "record under the results folder; negative: the claim's folder, then its negative control's)")
    parser.add_argument("--what", default="", help="negative: what the control is and why the property is absent there")
    args = parser.parse_args(argv)
    if args.command == "negative":
        if len(args.folders) != 2 or not args.what:
            parser.error("negative takes FOLDER NEGATIVE_FOLDER and --what TEXT")
        try:
            record = attach_negative(*args.folders, what=args.what)
        except InputError as err:
            print(f"error: {err}")
            return 2
        print(f"{args.folders[0]}: negative control says {record['negative_verdict']['verdict']}")
        return 0
    if args.command == "rejudge" and not args.folders:
        import json

        args.folders = [str(p.parent) for p in sorted(RESULTS.rglob("result.json"))
                        if registered(json.loads(p.read_text()).get("name", ""))]
    try:
        if args.command == "check":
            print(f"{REGISTRY}: {len(load())} entries, {len(names())} claims")
        for folder in args.folders:
            record = rejudge(folder)
            print(f"{folder}: {record['verdict']} (n={record['n_verdict']}; rule of {record['rule']['fixed']})")
    except InputError as err:
        print(f"error: {err}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
