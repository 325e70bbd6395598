"""The viewer in a real browser (headless Chromium): the slider, the pickers and every view work,
the picture and the labels change as they should, and the page logs no error."""

import time

import pytest

from interp.viewer import build_viewer
from interp.viewer.browser import chromium, console_errors, missing

from tests.viewer.test_build import PATCH, PROBES

REASON = missing()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no headless browser: {REASON}")


@pytest.fixture(scope="module")
def page(tiny_trace, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "viewer"
    build_viewer(tiny_trace, out, patch=PATCH, probes=PROBES, probe_map="route", progress=False)
    driver = chromium()
    driver.get((out / "index.html").as_uri())  # from disk: no server
    wait_for(driver, lambda: driver.find_element("id", "step-label").text.startswith("step 0"))
    yield driver
    errors = console_errors(driver)
    driver.quit()
    assert errors == [], errors


def wait_for(driver, condition, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if condition():
                return
        except Exception:  # the element is being redrawn
            pass
        time.sleep(0.05)
    raise AssertionError("the page did not reach the expected state")


def tab(driver, view):
    driver.find_element("css selector", f'#tabs button[data-view="{view}"]').click()
    wait_for(driver, lambda: driver.find_element("id", f"view-{view}").is_displayed())


def title(driver, view):
    return driver.find_element("css selector", f"#view-{view} .view-title").text


def shown(driver, view):
    """A screenshot of the first strip of frames in a view: what the user sees."""
    return driver.find_element("css selector", f"#view-{view} .strip").screenshot_as_png


def pick(driver, select_id, value):
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", select_id)).select_by_value(value)


def test_step_slider_moves_the_picture_and_its_labels(page):
    from selenium.webdriver.common.keys import Keys

    tab(page, "x0")
    before, label = shown(page, "x0"), page.find_element("id", "step-label").text
    assert "1 of 3" in label and "\u03c3 = 1.000" in label and "sample maze5_s900010-seed0" in title(page, "x0")
    page.find_element("id", "step").send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # the keyboard moves the slider
    wait_for(page, lambda: "3 of 3" in page.find_element("id", "step-label").text)
    assert "denoising step 2" in title(page, "x0") and "\u03c3 = 1.000" not in title(page, "x0")
    assert shown(page, "x0") != before
    highlighted = page.find_elements("css selector", "#view-x0 .grid .now")
    assert {d.get_attribute("data-row") for d in highlighted} == {"2"}


def test_site_layer_and_map_pickers_switch_the_token_map(page):
    tab(page, "maps")
    assert "blocks.2.resid_post" in title(page, "maps")
    maps = lambda: page.find_elements("css selector", "#maps-body .strip")[1].screenshot_as_png  # noqa: E731
    first = maps()
    pick(page, "layer", "6")
    wait_for(page, lambda: "blocks.6.resid_post" in title(page, "maps"))
    assert maps() != first
    key = page.find_element("css selector", "#maps-body .key").text
    assert "token L2 norm" in key
    pick(page, "map-kind", "pca")
    wait_for(page, lambda: "PCA colours" in title(page, "maps"))
    assert "principal components" in page.find_element("css selector", "#maps-body .key").text
    pick(page, "map-kind", "probe")
    wait_for(page, lambda: "linear probe score for route" in title(page, "maps"))
    assert "Held-out accuracy on this sample at this step" in page.find_element("css selector", "#maps-body .units").text
    pick(page, "frame", "2")
    wait_for(page, lambda: "frame 2" in title(page, "maps"))
    assert len(page.find_elements("css selector", "#maps-body .strip")[1].find_elements("css selector", ".frame")) == 1
    pick(page, "frame", "all")
    pick(page, "map-kind", "norm")


def test_sample_picker_loads_the_other_sample(page):
    tab(page, "x0")
    before = shown(page, "x0")
    pick(page, "sample", "1")
    wait_for(page, lambda: "maze5_s900010-seed1" in title(page, "x0"))
    assert "noise seed 1" in page.find_element("id", "sample-info").text
    assert shown(page, "x0") != before
    pick(page, "sample", "0")
    wait_for(page, lambda: "seed0" in title(page, "x0"))


def test_patching_heatmap_cells_open_their_effects(page):
    tab(page, "patch")
    wait_for(page, lambda: "64 maze pairs" in title(page, "patch"))
    cells = page.find_elements("css selector", "#view-patch svg rect.cell-rect")
    assert len(cells) == 12 * 20
    cells[5].click()  # layer 0, step 5
    wait_for(page, lambda: "layer 0, step 5" in page.find_element("id", "patch-cell").text)
    bars = page.find_elements("css selector", "#patch-cell svg rect")
    assert len(bars) >= 60  # one per pair (pairs whose value is undefined draw none)
    pick(page, "patch-region", "1")
    wait_for(page, lambda: "region changed" in title(page, "patch"))


def test_probe_and_chain_of_steps_views_draw(page):
    tab(page, "probes")
    wait_for(page, lambda: "Linear probe of" in title(page, "probes"))
    panels = page.find_elements("css selector", "#view-probes .panel h3")
    assert [p.text for p in panels][:2] == ["score (balanced_accuracy)", "control: shuffled labels"]
    pick(page, "probe-target", "cond/route")
    wait_for(page, lambda: "probe of route" in title(page, "probes"))
    tab(page, "cos")
    assert "Chain-of-Steps metrics" in title(page, "cos") and "seed0" in title(page, "cos")
    assert page.find_elements("css selector", "#cos-chart polyline")
    assert "commitment step" in page.find_element("css selector", "#view-cos table").text
