"""Benchmark: opening a large trace in the viewer (precompute time and memory, sizes, time to first picture).

Traces ``--mazes`` held-out 5x5 mazes with the shipped organism, every block's ``resid_post`` and
``x0`` in full over every denoising step (the heaviest store the organism makes), builds the
viewer with ``cos view`` in a child process (its peak memory measured alone), then opens the page
from disk in headless Chromium and measures, from the browser's own timing entries:

* time to first picture: navigation start to the load of the first sample's x0_hat sprite (the page
  marks each sprite's load on its performance timeline);
* first contentful paint;
* picking the last sample, and switching to the last layer's token map: click to picture loaded;
* the page's JavaScript heap and the resident memory of every Chromium process.

Usage::

    python experiments/bench_viewer.py --mazes 64 --workdir /tmp/bench_viewer --out outputs/bench_viewer

Writes ``results.json`` into ``--out`` and prints a Markdown summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def trace(workdir: Path, mazes: int, batch: int, num_steps: int) -> dict:
    from interp.capture import CaptureSpec, capture
    from interp.models import load_model
    from interp.organism.evaluate import first_frames
    from interp.paths import recorded_path
    from interp.tasks import generate_maze

    store = workdir / "trace.h5"
    model = load_model("organism")
    spec = CaptureSpec.make(["resid_post", "x0"], dtype="float16")
    started = time.perf_counter()
    for first in range(0, mazes, batch):
        chunk = [generate_maze(5, seed=900_000 + i) for i in range(first, min(mazes, first + batch))]
        inputs = model.prepare(first_frame=first_frames(chunk, model.organism), seeds=[0] * len(chunk))
        capture(model, inputs, spec, store, num_steps=num_steps, sample_ids=[f"maze5_s{m.seed}-seed0" for m in chunk],
                tasks=[{"maze": m.to_dict(), "palette": model.organism.config.palette} for m in chunk], progress=True)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in [store, *store.with_name(store.name + ".d").glob("*.h5")])
    return {"store": recorded_path(store), "trace_seconds": round(seconds, 1),  # seconds: this run's share
            "store_bytes": size,
            "layers": model.num_layers, "num_steps": num_steps}


def cos_script() -> str:
    """``cos`` as a user runs it: the console script installed beside this Python (``pip install -e .``)."""
    script = Path(sys.executable).with_name("cos")
    if not script.is_file():
        raise SystemExit(f"bench_viewer: no `cos` beside {sys.executable}: install the package (make setup) first")
    return str(script)


def precompute(store: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    started = time.perf_counter()
    subprocess.run([cos_script(), "view", str(store), "--out", str(out)], check=True, env=env)
    seconds = time.perf_counter() - started
    files = [p for p in out.rglob("*") if p.is_file()]
    data = [p for p in files if "data" in p.parts]
    per_sample = sum(p.stat().st_size for p in (out / "data/s0").iterdir())
    return {"precompute_seconds": round(seconds, 1),
            "precompute_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "viewer_bytes": sum(p.stat().st_size for p in files), "viewer_files": len(files),
            "manifest_bytes": (out / "data/manifest.js").stat().st_size, "bytes_per_sample": per_sample,
            "largest_file_bytes": max(p.stat().st_size for p in data)}


def browse(out: Path, samples: int, last_layer: int) -> dict:
    import psutil
    from selenium.webdriver.support.ui import Select

    from interp.viewer.browser import chromium, console_errors

    driver = chromium()
    try:
        def entry(name):
            return driver.execute_script(  # marked by the page when a sprite has loaded
                "const e = performance.getEntriesByName('picture ' + arguments[0]);"
                "return e.length ? e[e.length - 1].startTime : null;", name)

        def wait(name, timeout=60):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if (value := entry(name)) is not None:
                    return value
                time.sleep(0.01)
            raise RuntimeError(f"{name} never loaded")

        started = time.perf_counter()
        driver.get((out / "index.html").as_uri())
        first_picture = wait("data/s0/x0.png")
        fcp = driver.execute_script("const p = performance.getEntriesByName('first-contentful-paint');"
                                    "return p.length ? p[0].startTime : null;")
        wall_first = time.perf_counter() - started
        last = samples - 1
        now = driver.execute_script("return performance.now();")
        Select(driver.find_element("id", "sample")).select_by_value(str(last))
        pick_sample = wait(f"data/s{last}/x0.png") - now
        driver.find_element("css selector", '#tabs button[data-view="maps"]').click()
        now = driver.execute_script("return performance.now();")
        Select(driver.find_element("id", "layer")).select_by_value(str(last_layer))
        switch_layer = wait(f"data/s{last}/blocks.{last_layer}.resid_post.norm.png") - now
        heap = driver.execute_script("return performance.memory ? performance.memory.usedJSHeapSize : null;")
        service = psutil.Process(driver.service.process.pid)
        # unique memory of each process, so that pages shared between Chromium's processes count once
        rss = sum(p.memory_full_info().uss for p in service.children(recursive=True) if "chrom" in p.name())
        errors = console_errors(driver)
    finally:
        driver.quit()
    return {"first_picture_ms": round(first_picture), "first_contentful_paint_ms": round(fcp) if fcp else None,
            "first_picture_wall_s": round(wall_first, 2), "pick_last_sample_ms": round(pick_sample),
            "switch_to_last_layer_ms": round(switch_layer), "js_heap_mb": round(heap / 1e6, 1) if heap else None,
            "browser_uss_mb": round(rss / 1e6), "console_errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mazes", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16, help="mazes per capture batch")
    parser.add_argument("--num-steps", type=int, default=20)
    parser.add_argument("--workdir", default="/tmp/bench_viewer", help="where the (large) trace goes")
    parser.add_argument("--reuse", action="store_true", help="keep the samples already traced into --workdir")
    parser.add_argument("--out", default="outputs/bench_viewer")
    args = parser.parse_args()
    workdir, out = Path(args.workdir), Path(args.out)
    workdir.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    store = workdir / "trace.h5"
    if not args.reuse:
        from interp.store.layout import remove_store

        remove_store(store)
    info = trace(workdir, args.mazes, args.batch, args.num_steps)  # complete samples are kept, not redone
    result = {"date": dt.date.today().isoformat(), "machine": f"{platform.node()}, {os.cpu_count()} cores "
              f"({platform.processor() or platform.machine()})", "mazes": args.mazes,
              "load_average_1min": round(os.getloadavg()[0], 2), **info}  # the machine is shared: say how busy
    result |= precompute(store, workdir / "viewer")
    result |= browse(workdir / "viewer", args.mazes, info["layers"] - 1)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    mb = lambda b: f"{b / 1e6:,.1f} MB"  # noqa: E731
    print(f"| {args.mazes} mazes x {info['layers']} blocks in full x {info['num_steps']} steps | |\n|---|---|\n"
          f"| store on disk | {mb(info['store_bytes'])} |\n| precompute (cos view) | {result['precompute_seconds']} s, "
          f"peak {result['precompute_peak_rss_mb']} MB |\n| viewer folder | {mb(result['viewer_bytes'])} in "
          f"{result['viewer_files']} files ({mb(result['bytes_per_sample'])} per sample) |\n"
          f"| time to first picture | {result['first_picture_ms']} ms (first paint {result['first_contentful_paint_ms']} ms) |\n"
          f"| pick the last sample / switch to the last layer | {result['pick_last_sample_ms']} ms / "
          f"{result['switch_to_last_layer_ms']} ms |\n| browser memory | JS heap {result['js_heap_mb']} MB, all Chromium "
          f"processes {result['browser_uss_mb']} MB |")


if __name__ == "__main__":
    main()
