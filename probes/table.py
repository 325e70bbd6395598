"""The probe table a sweep writes: ``probes.csv`` and ``probes.json`` (one row per branch, layer, step and target)."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from interp.errors import InputError
from interp.outputs import replacing, write_json

#: The files :func:`save_table` writes, for the output check before a run.
OUTPUTS = ("probes.csv", "probes.json")


def save_table(rows: list[dict], out_dir: str | Path, *, settings=None,
               meta: dict | None = None) -> tuple[Path, Path]:
    """Write ``probes.csv`` and ``probes.json`` (rows plus settings, a :class:`probes.sweep.SweepSettings`, and
    provenance) to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]   # replicates stay in memory
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    csv_path, json_path = out / "probes.csv", out / "probes.json"
    with replacing(csv_path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    payload = {"settings": asdict(settings) if settings else None, "meta": meta or {}, "rows": rows}
    write_json(json_path, payload, indent=1, default=_json_default, allow_nan=True)
    return csv_path, json_path


def load_table(path: str | Path) -> list[dict]:
    """Rows of a ``probes.json`` written by :func:`save_table`."""
    path = Path(path)
    if path.is_dir():
        path = path / "probes.json"
    if not path.is_file():
        raise InputError(f"no probe table at {path}: run `cos probe` first")
    return json.loads(path.read_text())["rows"]


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
