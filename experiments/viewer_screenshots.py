"""Screenshots of every view of the trace viewer, for docs/viewer.md (headless Chromium).

Builds the viewer of ``--store`` (the demo's trace) with the published patching grid and probe
sweep, opens it from disk and saves one PNG per view into ``--out``::

    cos demo --out outputs/demo
    python experiments/viewer_screenshots.py --store outputs/demo/trace.h5 --out docs/viewer \
        --probe-store /tmp/bv/trace.h5      # a store of several mazes (bench_viewer.py's) for the probe map
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# relative to the repository, so that the pages name them as a reader's checkout does
PATCH = Path(os.path.relpath(ROOT / "experiments/results/organism_patching_64/direct"))
PROBES = Path(os.path.relpath(ROOT / "experiments/results/probe_localisation"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="trace store, e.g. outputs/demo/trace.h5")
    parser.add_argument("--out", default="docs/viewer", help="folder for the PNGs")
    parser.add_argument("--step", type=int, default=4, help="denoising step shown (index)")
    parser.add_argument("--layer", type=int, default=6, help="layer of the token map shown")
    parser.add_argument("--probe-store", help="a store of several samples for the probe-score map (probes are "
                                              "fitted on the other samples, so one sample is not enough)")
    parser.add_argument("--probe-map", default="route", help="maze target of the probe-score map")
    args = parser.parse_args()

    from selenium.webdriver.support.ui import Select

    from interp.viewer import build_viewer
    from interp.viewer.browser import chromium, console_errors

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="cos-viewer-shots-")) / "viewer"
    build_viewer(args.store, folder, patch=PATCH, probes=PROBES, progress=False)
    driver = chromium(1200, 900)
    try:
        driver.get((folder / "index.html").as_uri())
        time.sleep(1.0)
        driver.execute_script("const s = document.getElementById('step'); s.value = arguments[0];"
                              "s.dispatchEvent(new Event('input'));", args.step)

        def shot(view, name, prepare=None, height=None):
            driver.find_element("css selector", f'#tabs button[data-view="{view}"]').click()
            time.sleep(0.3)
            if prepare:
                prepare()
                time.sleep(0.4)
            for _ in range(2):  # the page reflows once it is taller
                full = driver.execute_script("return document.documentElement.scrollHeight;")
                driver.set_window_size(1200, min(height or full + 140, 2400))
                time.sleep(0.4)
            driver.save_screenshot(str(out / name))
            driver.set_window_size(1200, 900)
            print(out / name)

        shot("x0", "x0_steps.png")
        shot("maps", "token_maps.png", lambda: Select(driver.find_element("id", "layer")).select_by_value(str(args.layer)))
        shot("maps", "token_maps_pca.png", lambda: Select(driver.find_element("id", "map-kind")).select_by_value("pca"))

        def strongest_cell():
            Select(driver.find_element("id", "patch-region")).select_by_value("1")
            time.sleep(0.3)
            driver.execute_script(  # click the cell with the largest effect, as a reader would
                "const cells = [...document.querySelectorAll('#view-patch rect.cell-rect')];"
                "const value = (c) => parseFloat(c.querySelector('title').textContent.split(': ').pop()) || -9;"
                "cells.sort((a, b) => value(b) - value(a))[0].dispatchEvent(new MouseEvent('click'));")

        shot("patch", "patching.png", strongest_cell)
        shot("probes", "probes.png", lambda: Select(driver.find_element("id", "probe-target")).select_by_value("cond/route"))
        shot("cos", "chain_of_steps.png")
        errors = console_errors(driver)
        if args.probe_store:
            probe_folder = folder.parent / "probe-viewer"
            build_viewer(args.probe_store, probe_folder, probe_map=args.probe_map, progress=True)
            driver.get((probe_folder / "index.html").as_uri())
            time.sleep(1.0)
            driver.execute_script("const s = document.getElementById('step'); s.value = arguments[0];"
                                  "s.dispatchEvent(new Event('input'));", args.step)

            def probe_view():
                Select(driver.find_element("id", "layer")).select_by_value(str(args.layer))
                Select(driver.find_element("id", "map-kind")).select_by_value("probe")

            shot("maps", "token_maps_probe.png", probe_view)
            errors += console_errors(driver)
        if errors:
            raise SystemExit(f"the page logged errors: {errors}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
