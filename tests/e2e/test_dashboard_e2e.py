"""The dashboard in a real browser against a real server: sign in, every page, resolve a group.

Screenshots of each page go to $DASHBOARD_SCREENSHOTS (scripts/screenshots sets docs/screenshots),
else to the test's temporary folder.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.browser import browser_available, full_page_screenshot, open_browser
from tests.support.api import Account, Api, unique_name
from tests.support.server import ROOT, ServerProcess
from tests.support.services import cli_create_user, data_dir_env

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not browser_available(), reason="needs /usr/bin/chromium and "
                                                  "/usr/bin/chromedriver (scripts/test installs them)")]
SECRET = "e2e-dashboard-secret-" + "z" * 32
PASSWORD = "support-e2e-pass"
MESSAGES = (("Network", "Error", "Upload failed with status 503 after {n} retries"),
            ("Network", "Warning", "Request to /api/feed took {n} ms"),
            ("Audio", "Critical", "Audio device {n} disappeared during playback"),
            ("Audio", "Error", "Buffer underrun in track {n}"),
            ("UI", "Info", "Layout recalculated {n} times"),
            ("UI", "Warning", "Slow render of panel 'mixer' ({n} ms)"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on a data folder seeded with rate-limit and collaboration rows."""
    data_dir = tmp_path_factory.mktemp("dashboard-e2e")
    env = {**os.environ, "SECRET_KEY": SECRET}
    seeded = subprocess.run([sys.executable, "-m", "tests.e2e.seed", str(data_dir)], cwd=ROOT, env=env,
                            timeout=180, capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    server = ServerProcess(data_dir, env={"SECRET_KEY": SECRET}).start()
    yield server
    server.stop()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    yield from open_browser()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path)


def report_errors(api: Api, reporter: Account) -> None:
    """A day of plugin errors, reported through the API like the plugin does."""
    rng, now = random.Random(3), int(time.time())
    items = []
    for i in range(150):
        source, severity, template = MESSAGES[min(int(rng.expovariate(0.6)), len(MESSAGES) - 1)]
        items.append({"source": source, "severity": severity, "message": template.format(n=rng.randint(1, 99)),
                      "timestamp": now - int(rng.expovariate(1 / 20000)) % 86000,
                      "occurrences": rng.randint(1, 4), "context": {"build": "1.4.2", "attempt": i % 5}})
    resp = api.post("/api/v1/errors/batch", reporter, json={"errors": items})
    assert resp.status_code == 200 and resp.json()["accepted"] == len(items), resp.text


def settled(driver: WebDriver, *selectors: str, timeout: float = 30) -> None:
    """Wait until the selectors are present and no panel still says "Loading…"."""
    def ready(d: WebDriver) -> bool:
        present = all(d.find_elements(By.CSS_SELECTOR, s) for s in selectors)
        loading = d.find_elements(By.XPATH, "//*[normalize-space(text())='Loading…']")
        return present and not loading

    WebDriverWait(driver, timeout).until(ready)
    time.sleep(0.7)  # plotly draws just after Dash hands it the figure


def sign_in(driver: WebDriver, base: str, username: str, target: str) -> None:
    driver.get(base + target)
    WebDriverWait(driver, 30).until(lambda d: "/dashboard/login" in d.current_url)
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(base + target.split("?", 1)[0]))


def visit(driver: WebDriver, nav_id: str, *selectors: str) -> None:
    driver.find_element(By.ID, nav_id).click()
    settled(driver, *selectors)


def test_support_walks_every_page_and_resolves_a_group(live: ServerProcess, browser: WebDriver,
                                                       shots: Path) -> None:
    api = Api(live.url)
    name = unique_name("support")
    cli_create_user(data_dir_env(live.data_dir), name, PASSWORD, "support")
    support = api.login(name, PASSWORD)
    report_errors(api, api.register("plugin"))
    browser.get(live.url + "/dashboard/login")
    full_page_screenshot(browser, shots / "login.png")

    sign_in(browser, live.url, name, "/dashboard/errors?range=24h")
    settled(browser, "#errors-groups table", "#errors-by-severity .js-plotly-plot")
    WebDriverWait(browser, 30).until(lambda d: "…" not in d.find_element(By.ID, "errors-groups").text)  # users
    assert "Last 24 hours" in browser.find_element(By.CSS_SELECTOR, ".range-picker").text
    full_page_screenshot(browser, shots / "errors.png")

    browser.find_element(By.CSS_SELECTOR, "a.group-link").click()
    settled(browser, "#group-status", "#group-events table")
    group_id = browser.current_url.split("/dashboard/errors/", 1)[1].split("?", 1)[0]
    assert browser.current_url.endswith("?range=24h")  # the range follows the link
    full_page_screenshot(browser, shots / "error-group.png")
    browser.find_element(By.ID, "group-resolve").click()
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.ID, "group-status").get_attribute("data-status") == "resolved")
    assert api.get(f"/api/v1/errors/{group_id}", support).json()["status"] == "resolved"

    visit(browser, "nav-rate-limits", "#limits-keys table", "#limits-by-limit .js-plotly-plot")
    full_page_screenshot(browser, shots / "rate-limits.png")
    visit(browser, "nav-collaboration", "#collab-kpis .kpi", "#collab-rate .js-plotly-plot")
    full_page_screenshot(browser, shots / "collaboration.png")
    visit(browser, "nav-overview", "#overview-routes table", "#overview-rate .js-plotly-plot")
    assert "healthy" in browser.find_element(By.ID, "overview-health").text
    browser.get(live.url + "/dashboard/?range=1h")  # this run's traffic is minutes old: a shorter range shows it
    settled(browser, "#overview-routes table", "#overview-latency .js-plotly-plot")
    assert "Last hour" in browser.find_element(By.CSS_SELECTOR, ".range-picker").text
    full_page_screenshot(browser, shots / "overview.png")

    browser.find_element(By.CSS_SELECTOR, ".refresh input[type=checkbox]").click()
    WebDriverWait(browser, 10).until(lambda d: "refresh=off" in d.current_url)
    browser.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, 30).until(lambda d: "signed_out=1" in d.current_url)
    browser.get(live.url + "/dashboard/")
    WebDriverWait(browser, 30).until(lambda d: "/dashboard/login" in d.current_url)


def test_a_shared_link_opens_the_same_view(live: ServerProcess, browser: WebDriver) -> None:
    name = unique_name("support")
    cli_create_user(data_dir_env(live.data_dir), name, PASSWORD, "support")
    api = Api(live.url)
    report_errors(api, api.register("plugin"))
    sign_in(browser, live.url, name, "/dashboard/errors?range=7d&severity=Critical&q=device")
    settled(browser, "#errors-groups")
    assert "Last 7 days" in browser.find_element(By.CSS_SELECTOR, ".range-picker").text
    rows: list[Any] = browser.find_elements(By.CSS_SELECTOR, "#errors-groups a.group-link")
    assert rows and all("device" in row.text for row in rows)
    assert browser.find_element(By.CSS_SELECTOR, "[id*='\"key\":\"q\"']").get_attribute("value") == "device"
