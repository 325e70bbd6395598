"""Headless Chromium for the viewer's browser tests and its documentation screenshots.

Uses Debian's ``chromium`` and ``chromium-driver`` packages through selenium, offline: the
driver path is given, so selenium never looks for a browser to download, and Chromium starts
with its background network features off and a fresh profile.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")


def missing() -> str | None:
    """Why a headless browser cannot run here, or None when it can."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            return f"{path} is absent: install Debian's {package} (make browser, as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is absent: pip install -e '.[dev]'"
    return None


def chromium(width: int = 1200, height: int = 900):
    """A selenium driver of headless Chromium with a fresh profile; ``driver.quit()`` removes it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    reason = missing()
    if reason:
        raise RuntimeError(reason)
    profile = tempfile.mkdtemp(prefix="cos-viewer-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    quit_ = driver.quit

    def quit_and_clean():
        try:
            quit_()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver


def console_errors(driver) -> list[str]:
    """Console messages of level SEVERE since the last call (page errors, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
