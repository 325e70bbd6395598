"""Every published verdict follows from its result.json and the claims registry, and says how it was made."""

import copy
import json

import pytest

from interp import registry
from interp.results import RESULTS

RECORDS = sorted(p for p in RESULTS.rglob("result.json")
                 if registry.registered(json.loads(p.read_text()).get("name", "")))


def test_published_records_exist_for_every_claim_of_the_first_organism():
    # a claim is registered before its data: one tested on the walker alone may not have run yet
    # (the results page says "not run"); every claim of the first organism has its record
    of_organism = {n for n in registry.names() if "organism" in registry.latest(n).models}
    published = {json.loads(p.read_text())["name"] for p in RECORDS}
    assert of_organism <= published <= set(registry.names())


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: str(p.relative_to(RESULTS)))
def test_published_verdict_is_rederived_from_the_record_and_the_registry(path):
    assert registry.audit(json.loads(path.read_text())) == []


def test_a_record_judged_by_another_rule_is_caught():
    record = json.loads((RESULTS / "self_correction" / "result.json").read_text())
    moved = copy.deepcopy(record)
    moved["rule"]["text"] = "holds if low(share_self_correcting) > 0.05"
    assert any("differs from the registry's" in p for p in registry.audit(moved))
    flipped = copy.deepcopy(record)
    flipped["verdict"] = "does not hold"
    assert any("is not the registry's" in p for p in registry.audit(flipped))
    edited = copy.deepcopy(record)
    edited["figures"]["share_self_correcting"]["ci95"] = [0.01, 0.2]      # the data no longer support the verdict
    assert registry.audit(edited)
    bare = {k: v for k, v in record.items() if k != "dtype"}
    assert "it does not state its dtype" in registry.audit(bare)


def test_seed_ensemble_summary_rebuilds_from_its_raw_record():
    from interp import rawjson
    from interp.ensemble.study import report_from_raw

    folder = RESULTS / "seed_ensemble"
    published = json.loads((folder / "result.json").read_text())
    report = json.loads(json.dumps(report_from_raw(rawjson.load(folder / "raw.json.gz")), default=float))
    for key in ("figures", "rows", "adaptive", "best"):
        assert report[key] == published[key], key
    assert report["verdict"] == published["verdict"]


# (record folder, script, files compared): one record judged from its figures, one rebuilt from its raw
# measurements on another machine (its device, model, command and date must survive the rebuild)
REPLOTTED = [r for r in [("layer_swap", "layer_swap", ("result.json", "layer_swap.png")),
                         ("walker/seed_ensemble", "seed_ensemble", ("result.json",))]
             if (RESULTS / r[0] / "result.json").is_file()]


@pytest.mark.parametrize("folder, script, files", REPLOTTED, ids=[r[0] for r in REPLOTTED])
def test_a_published_record_rebuilds_byte_identically_with_replot(tmp_path, monkeypatch, folder, script, files):
    import runpy
    import shutil
    import sys

    source = RESULTS / folder
    out = tmp_path / "record"
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("every_step_cpu"))
    monkeypatch.setattr(sys, "argv", [f"{script}.py", "--replot", "--out", str(out)])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(RESULTS.parents[1] / "experiments" / f"{script}.py"), run_name="__main__")
    assert done.value.code in (0, None)
    for name in files:
        assert (out / name).read_bytes() == (source / name).read_bytes(), name


def _null(figures: dict) -> dict:
    """The record's figures with every effect gone: values and intervals 0, paired tests p = 1."""
    out = {}
    for key, figure in figures.items():
        figure = dict(figure)
        if isinstance(figure.get("value"), (int, float)):
            figure["value"] = 0
        if figure.get("ci95"):
            figure["ci95"] = [0.0, 0.0]
        if "p_mcnemar" in figure:
            figure["p_mcnemar"] = 1.0
        out[key] = figure
    return out


def _published(name: str) -> dict | None:
    """A published (non-cpu) record of claim ``name``, the first organism's folder first (``<name>/``, then ``walker/<name>/``)."""
    for path in (RESULTS / name / "result.json", RESULTS / "walker" / name / "result.json"):
        if path.is_file():
            return json.loads(path.read_text())
    return None


@pytest.mark.parametrize("name", [n for n in registry.names()
                                  if registry.latest(n).rule != "not_testable" and _published(n) is not None])
def test_every_current_rule_can_say_does_not_hold(name):
    record = _published(name)
    null = {**record, "figures": _null(record["figures"]),
            "cells": [{**c, "preference": 0.0, "ci95": [0.0, 0.0]} for c in record.get("cells", [])]}
    assert registry.verdicts(null)[-1]["verdict"] == "does not hold"
