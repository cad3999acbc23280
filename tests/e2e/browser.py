"""Headless Chromium through Selenium, with Debian's chromium and chromium-driver."""
from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1")
LAPTOP = (1366, 768)


def browser_available() -> bool:
    """Both binaries are installed (scripts/test installs them)."""
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def chromium(profile: Path) -> webdriver.Chrome:
    """A headless Chromium with its own throw-away profile, sized like a laptop screen."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={LAPTOP[0]},{LAPTOP[1]}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    return driver


def open_browser() -> Iterator[webdriver.Chrome]:
    """Yield a browser; quit it and delete its profile afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    driver = chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def full_page_screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page at the window's width, however tall (Chromium's capture beyond the viewport)."""
    width, height = driver.execute_script(
        "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 5000), "scale": 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
