"""The console of the whole local stack (``live_stack``: real Kafka, Prometheus, Route 53 emulator,
gateways, consumers, control plane, console and demo traffic) in a real headless Chromium.

What the console shows is checked against the CLI (`ecomctl lag --json`, `ecomctl audit --json`).
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from controlplane.settings import Settings
from tests.browser.conftest import login, open_page, screenshot, wait_for
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ECOMCTL = str(REPO / ".venv" / "bin" / "ecomctl")


def ecomctl_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([ECOMCTL, *args, "--json"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@pytest.fixture()
def live_console(chrome: WebDriver, live_stack: Settings) -> WebDriver:
    user, password = next(iter(live_stack.console_credentials.items()))
    login(chrome, live_stack.console_url, user, password)
    wait_for(chrome, "#whoami", timeout=20)
    return chrome


def test_lag_shown_matches_ecomctl_lag(live_console: WebDriver, live_stack: Settings,
                                       live_env: dict[str, str]) -> None:
    # The page and the CLI must show the same lag round; rounds change every loop interval.
    deadline = time.monotonic() + 60
    while True:
        open_page(live_console, live_stack.console_url, "/lag", "#lag-at[data-at]:not([data-at=''])", 30)
        shown_at = live_console.find_element(By.ID, "lag-at").get_attribute("data-at")
        cli = ecomctl_json(live_env, "lag")
        if cli["at"] == shown_at or time.monotonic() > deadline:
            break
    assert cli["at"] == shown_at, "no lag round seen by both the console and the CLI within 60 s"
    assert cli["groups"], "the live stack has consumer groups"
    for group in cli["groups"]:
        row = live_console.find_element(By.CSS_SELECTOR, f'tr.group-row[data-group="{group["group"]}"]')
        assert row.find_element(By.CSS_SELECTOR, "td.lag").text == f'{group["lag"]:,}'
        assert row.find_element(By.CSS_SELECTOR, ".badge").text == group["status"]
        for p in group["partitions"]:
            cells = live_console.find_element(By.CSS_SELECTOR, f'tr[data-group="{group["group"]}"]'
                                              f'[data-topic="{p["topic"]}"][data-partition="{p["partition"]}"]')
            assert cells.find_element(By.CSS_SELECTOR, "td.lag").text == f'{p["lag"]:,}'
            assert cells.find_element(By.CSS_SELECTOR, ".badge").text == p["status"]
    screenshot(live_console, "live-lag")


def test_pause_from_the_console_is_in_ecomctl_audit(live_console: WebDriver, live_stack: Settings,
                                                    live_env: dict[str, str]) -> None:
    user = next(iter(live_stack.console_credentials))
    open_page(live_console, live_stack.console_url, "/policies", ".policy-card", 30)
    card = live_console.find_elements(By.CSS_SELECTOR, ".policy-card")[0]
    policy = card.get_attribute("data-policy")
    button = card.find_element(By.CSS_SELECTOR, "button")
    assert button.text == "Pause", f"{policy} should start unpaused"
    button.click()
    try:
        WebDriverWait(live_console, 10).until(lambda d: d.find_elements(By.ID, "action-result"))
        entries = ecomctl_json(live_env, "audit", "--limit", "20")["entries"]
        mine = [e for e in entries if e["actor"] == f"user:{user}" and e["action"] == "pause"
                and e["target"] == policy]
        assert mine and mine[0]["result"] == "applied", entries[:5]
        screenshot(live_console, "live-policies")
    finally:
        ecomctl_json(live_env, "policy", "resume", str(policy))


@pytest.mark.parametrize("path", ["/", "/audit", "/_dash-layout", "/_dash-dependencies",
                                  "/_dash-update-component"])
def test_live_console_refuses_requests_without_a_session(live_stack: Settings, path: str) -> None:
    response = httpx.post(f"{live_stack.console_url}{path}", json={}) if path.endswith("component") \
        else httpx.get(f"{live_stack.console_url}{path}", headers={"Accept": "text/html"})
    assert response.status_code in (302, 401)
    assert response.status_code == 401 or response.headers["location"].startswith("/login")


LIVE_PAGES = [("/", "live-overview", "#overview-cards .card"), ("/traffic", "live-traffic", "#weights-apply"),
              ("/consumers", "live-consumers", "#consumers-table table"),
              ("/audit", "live-audit", "#audit-rows")]


@pytest.mark.parametrize(("path", "name", "ready"), LIVE_PAGES)
def test_live_pages_load_in_budget(live_console: WebDriver, live_stack: Settings, path: str, name: str,
                                   ready: str) -> None:
    seconds = open_page(live_console, live_stack.console_url, path, ready, 30)
    screenshot(live_console, name)
    assert seconds < 2.0, f"{path} loaded in {seconds:.2f}s > 2 s"
