"""Headless Chromium for the page tests: the system's browser and driver, never a download."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Debian's packages (apt-get install chromium chromium-driver); other names on PATH too.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)

ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    # The tests start the video from script, without a click.
    "--autoplay-policy=no-user-gesture-required",
)


def _find(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env] if Path(os.environ[env]).is_file() else None
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
        )
        if found:
            return found
    return None


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    if _find("STREAMSPEC_CHROMIUM", CHROMIUM_NAMES) is None:
        return "no Chromium (apt-get install chromium, or set STREAMSPEC_CHROMIUM)"
    if _find("STREAMSPEC_CHROMEDRIVER", DRIVER_NAMES) is None:
        return "no chromedriver (apt-get install chromium-driver, or set STREAMSPEC_CHROMEDRIVER)"
    return None


def start(width: int = 1280, height: int = 900) -> tuple[Any, str]:
    """A headless Chromium driven by selenium, with a fresh profile; returns the driver
    and the profile directory (remove it after ``driver.quit()``).

    The driver path is given explicitly, so Selenium Manager never runs (it would
    download a driver).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="streamspec-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _find("STREAMSPEC_CHROMIUM", CHROMIUM_NAMES) or ""
    for arg in (*ARGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(_find("STREAMSPEC_CHROMEDRIVER", DRIVER_NAMES) or "")
    return webdriver.Chrome(service=service, options=options), profile
