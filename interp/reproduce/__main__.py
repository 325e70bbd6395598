"""``python -m interp.reproduce --preset cpu``: run every claim's experiment of the registry, then rebuild the results page.

Each script runs in its own process (so one failure does not stop the others) from the
repository root; a script whose file does not exist yet is skipped with a note. The results
page is rebuilt from every ``experiments/results/*/result.json`` at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from interp import registry
from interp.reproduce.shared_samples import CACHE
from interp.results import ROOT, result_folder
from interp.results_page import TIMING, build


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--only", default=None, help="comma-separated experiment names (default: all)")
    parser.add_argument("--page-only", action="store_true", help="only rebuild docs/results.md")
    args = parser.parse_args(argv)
    names = registry.names()
    chosen = names if not args.only else [n for n in names if n in args.only.split(",")]
    if not args.page_only:
        # the claim scripts share one set of trajectories per run (see runner.samples_for): start afresh
        for stale in CACHE.glob(f"cos_samples_{args.preset}_*.json"):
            stale.unlink()
    failed, times = [], {}
    begun = time.perf_counter()
    for name in [] if args.page_only else chosen:
        script = ROOT / "experiments" / f"{name}.py"
        if registry.latest(name).measure:        # a claim the experiment template runs from the registry
            command = [sys.executable, "-m", "interp.experiment", name]
        elif script.exists():
            command = [sys.executable, str(script)]
        else:
            print(f"note: {script} does not exist yet: skipped", flush=True)
            continue
        print(f"== {name} ({registry.history(name)[0].label})", flush=True)
        started = time.perf_counter()
        # a run of the suite redoes its preset's records: replacing them is its purpose
        code = subprocess.call(command + ["--preset", args.preset, "--overwrite"], cwd=ROOT)
        times[name] = round(time.perf_counter() - started)
        if code:
            failed.append(name)
    if times and not args.only:
        write_timing(args.preset, times, failed, time.perf_counter() - begun)
    page = build()
    for name, seconds in times.items():
        print(f"{name}: {seconds} s")
    print(f"wrote {page}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def write_timing(preset: str, times: dict, failed: list, total: float) -> None:
    """Record how long a whole run took (shown on the results page) beside its records."""
    import datetime
    import json
    import os
    import platform

    folder = result_folder("", preset)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"preset": preset, "seconds": times, "failed": failed, "total_seconds": round(total),
              "date": datetime.date.today().isoformat(), "machine": platform.node(),
              "cores": len(os.sched_getaffinity(0)), "threads": os.environ.get("OMP_NUM_THREADS")}
    (folder / TIMING).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
