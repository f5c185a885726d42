"""Browser fixtures: a real headless Chromium (Debian's chromium + chromedriver) driven by selenium, and
the console served in-process by waitress against the in-memory control plane and Prometheus fakes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from waitress.server import create_server

from controlplane.console.app import create_app
from controlplane.console.client import InMemoryControlPlane
from controlplane.console.metrics import InMemoryRangeSource
from tests.browser.fakes import REPLICAS, WEIGHTS, hour_matrices, lag_document, state_document
from tests.conftest import REPO, free_ports

SCREENSHOTS = REPO / "artifacts" / "screenshots"
USER, PASSWORD = "sre", "fake-console-pw"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1600,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def fake_plane() -> InMemoryControlPlane:
    return InMemoryControlPlane(state_document(), lag_document(datetime.now(UTC)), WEIGHTS, REPLICAS)


@pytest.fixture(scope="session")
def fake_console(fake_plane: InMemoryControlPlane) -> Iterator[str]:
    """The console on a free loopback port, against the fakes; stopped at the end of the session."""
    app = create_app(fake_plane, InMemoryRangeSource(hour_matrices(datetime.now(UTC))), {USER: PASSWORD},
                     refresh_ms=2000)
    port = free_ports(1)[0]
    server = create_server(app.server, host="127.0.0.1", port=port, threads=8)
    thread = threading.Thread(target=server.run, name="fake-console", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(timeout=10)


def wait_for(driver: WebDriver, css: str, timeout: float = 10.0) -> None:
    WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def login(driver: WebDriver, base_url: str, user: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base_url}/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-button").click()


def open_page(driver: WebDriver, base_url: str, path: str, ready_css: str, timeout: float = 10.0) -> float:
    """Seconds from navigation until ``ready_css`` is on the page and every figure has drawn."""
    started = time.perf_counter()
    driver.get(f"{base_url}{path}")
    wait_for(driver, ready_css, timeout)
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('.dash-graph')].every(g => g.querySelector('.main-svg'))"
        " && !document.querySelector('._dash-loading')"))
    return time.perf_counter() - started


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1600, max(1000, min(int(height) + 40, 3000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1600, 1000)
    return path
