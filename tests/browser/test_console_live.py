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

from controlplane.commands.lag import fetch_from_controlplane
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


READ_LAG_TABLE = """
const at = document.getElementById('lag-at');
return {at: at && at.dataset.at, rows: [...document.querySelectorAll('#lag-table-rows tbody tr')].map(r => [
  r.dataset.group, r.dataset.topic || null, r.dataset.partition || null,
  r.querySelector('td.lag').textContent, r.querySelector('.badge').textContent])};
"""


def cli_rows(document: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for g in document["groups"]:
        rows.append([g["group"], None, None, f'{g["lag"]:,}', g["status"]])
        rows += [[g["group"], p["topic"], str(p["partition"]), f'{p["lag"]:,}', p["status"]]
                 for p in g["partitions"]]
    return rows


def test_lag_shown_matches_ecomctl_lag(live_console: WebDriver, live_stack: Settings,
                                       live_env: dict[str, str]) -> None:
    # `ecomctl lag --json` prints the control plane's latest round (fetch_from_controlplane). Rounds
    # change every loop interval and a CLI process takes longer than that to start under load, so
    # the page is compared with the round fetched by the CLI's own function right after reading it,
    # and the CLI process is checked to print a round of that same document.
    open_page(live_console, live_stack.console_url, "/lag", "#lag-at[data-at]:not([data-at=''])", 30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = live_console.execute_script(READ_LAG_TABLE)
        fetched = fetch_from_controlplane(live_stack)
        if fetched is not None and fetched["at"] == shown["at"] and fetched["groups"]:
            break
        time.sleep(0.3)
    assert fetched is not None and fetched["at"] == shown["at"], "no lag round seen by both within 60 s"
    assert fetched["groups"], "the live stack has consumer groups"
    assert shown["rows"] == cli_rows(fetched)
    cli = ecomctl_json(live_env, "lag")
    assert cli["at"] >= fetched["at"], "ecomctl lag reports the control plane's rounds"
    assert [row[:3] for row in cli_rows(cli)] == [row[:3] for row in shown["rows"]]
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
    open_page(live_console, live_stack.console_url, path, ready, 30)  # warm cache, as an SRE's browser has
    seconds = open_page(live_console, live_stack.console_url, path, ready, 30)
    screenshot(live_console, name)
    assert seconds < 2.0, f"{path} loaded in {seconds:.2f}s > 2 s"
