"""The dashboard under its Content-Security-Policy in a real Chromium: Dash renders, Plotly draws,
and the browser reports no policy violation (a blocked script, style, eval or connection)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.browser import CHROMEDRIVER, CHROMIUM, FLAGS, browser_available
from tests.support.api import Account
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and "
                                                  "/usr/bin/chromedriver (scripts/test installs them)")]
VIOLATION_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium that keeps the page's console messages."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-csp-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1366,768"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _violations(driver: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if any(marker in entry["message"] for marker in VIOLATION_MARKERS)]


def test_dash_works_under_its_policy(browser: webdriver.Chrome, own_server: ServerProcess,
                                     own_staff: Callable[[str], Account]) -> None:
    support = own_staff("support")
    browser.get(own_server.url + "/dashboard/login")
    browser.find_element(By.ID, "username").send_keys(support.username)
    browser.find_element(By.ID, "password").send_keys(support.password)
    browser.find_element(By.ID, "login-submit").click()
    rendered = "return document.querySelectorAll('#react-entry-point *').length > 20 && " \
               "document.querySelectorAll('.js-plotly-plot').length > 0"
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(rendered))
    assert browser.execute_script("return typeof window.Plotly") == "object"
    assert _violations(browser) == []
    browser.get(own_server.url + "/dashboard/login?next=/dashboard/")  # the plain login page, signed in
    assert _violations(browser) == []
