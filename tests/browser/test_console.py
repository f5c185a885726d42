"""The console in a real headless Chromium, against the in-memory control plane and Prometheus."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from controlplane.console.client import InMemoryControlPlane
from tests.browser.conftest import PASSWORD, USER, login, open_page, screenshot, wait_for

pytestmark = pytest.mark.browser

PAGE_BUDGET_S = 2.0
PAGES = [
    ("/", "overview", "#overview-cards .card"),
    ("/lag", "lag", "#lag-table-rows"),
    ("/traffic", "traffic", "#weights-apply"),
    ("/consumers", "consumers", "#consumers-table table"),
    ("/policies", "policies", ".policy-card"),
    ("/audit", "audit", "#audit-rows"),
]


@pytest.fixture()
def signed_in(chrome: WebDriver, fake_console: str) -> WebDriver:
    login(chrome, fake_console, USER, PASSWORD)
    wait_for(chrome, "#whoami")
    return chrome


@pytest.mark.parametrize(("user", "password"), [(USER, "not-the-pw-7"), ("nobody", PASSWORD), (USER, "")])
def test_bad_credentials_stay_on_the_login(chrome: WebDriver, fake_console: str, user: str,
                                           password: str) -> None:
    login(chrome, fake_console, user, password)
    assert chrome.current_url.startswith(f"{fake_console}/login")
    assert not chrome.find_elements(By.ID, "whoami")
    assert password == "" or password not in chrome.page_source


def test_login_shows_the_user(signed_in: WebDriver) -> None:
    assert signed_in.find_element(By.ID, "whoami").text == USER


@pytest.mark.parametrize(("path", "name", "ready"), PAGES)
def test_page_loads_in_budget_and_is_captured(signed_in: WebDriver, fake_console: str, path: str, name: str,
                                              ready: str) -> None:
    # Timed on a warm browser cache (the JS bundles are fingerprinted and cached), as an SRE sees it.
    open_page(signed_in, fake_console, path, ready)
    seconds = open_page(signed_in, fake_console, path, ready)
    assert seconds < PAGE_BUDGET_S, f"{name} loaded in {seconds:.2f}s > budget {PAGE_BUDGET_S}s"
    assert screenshot(signed_in, name).stat().st_size > 10_000


def test_lag_table_shows_every_partition_of_the_round(signed_in: WebDriver, fake_console: str,
                                                      fake_plane: InMemoryControlPlane) -> None:
    open_page(signed_in, fake_console, "/lag", "#lag-table-rows")
    document = fake_plane.lag()
    for group in document["groups"]:
        for p in group["partitions"]:
            row = signed_in.find_element(By.CSS_SELECTOR, f'tr[data-group="{group["group"]}"]'
                                         f'[data-partition="{p["partition"]}"]')
            assert row.find_element(By.CSS_SELECTOR, "td.lag").text == f'{p["lag"]:,}'
            assert row.find_element(By.CSS_SELECTOR, ".badge").text == p["status"]


def test_policy_card_explains_value_threshold_breach_and_next(signed_in: WebDriver,
                                                              fake_console: str) -> None:
    open_page(signed_in, fake_console, "/policies", ".policy-card")
    card = signed_in.find_element(By.CSS_SELECTOR, '[data-policy="page-views-lag"]')
    assert "12,500" in card.find_element(By.CSS_SELECTOR, ".policy-value").text
    assert "10,000" in card.find_element(By.CSS_SELECTOR, ".policy-value").text
    assert "42 s" in card.find_element(By.CSS_SELECTOR, ".policy-breach").text
    assert "scale to 3" in card.find_element(By.CSS_SELECTOR, ".policy-next").text


def test_pause_and_resume_are_audited_with_the_user(signed_in: WebDriver, fake_console: str,
                                                    fake_plane: InMemoryControlPlane) -> None:
    open_page(signed_in, fake_console, "/policies", ".policy-card")
    before = len(fake_plane.entries)
    button = signed_in.find_element(By.CSS_SELECTOR, '[data-policy="purchases-lag"] button')
    assert button.text == "Pause"
    button.click()
    WebDriverWait(signed_in, 5).until(lambda d: d.find_elements(By.ID, "action-result"))
    entry = fake_plane.entries[before]
    assert (entry["actor"], entry["action"], entry["target"]) == (f"user:{USER}", "pause", "purchases-lag")
    button = signed_in.find_element(By.CSS_SELECTOR, '[data-policy="purchases-lag"] button')
    assert button.text == "Resume"
    button.click()
    WebDriverWait(signed_in, 5).until(lambda d: len(fake_plane.entries) == before + 2)
    assert fake_plane.entries[-1]["action"] == "resume"


def test_set_weights_is_audited_and_bad_input_refused(signed_in: WebDriver, fake_console: str,
                                                      fake_plane: InMemoryControlPlane) -> None:
    open_page(signed_in, fake_console, "/traffic", "#weights-apply")
    before = len(fake_plane.entries)
    signed_in.find_element(By.ID, "weight-primary").send_keys("300")
    signed_in.find_element(By.ID, "weight-secondary").send_keys("0")
    signed_in.find_element(By.ID, "weights-apply").click()
    WebDriverWait(signed_in, 5).until(lambda d: "0..255" in d.find_element(By.ID, "weights-feedback").text)
    assert len(fake_plane.entries) == before
    signed_in.find_element(By.ID, "weight-primary").clear()
    signed_in.find_element(By.ID, "weight-primary").send_keys("70")
    signed_in.find_element(By.ID, "weight-secondary").clear()
    signed_in.find_element(By.ID, "weight-secondary").send_keys("30")
    signed_in.find_element(By.ID, "weights-apply").click()
    WebDriverWait(signed_in, 5).until(lambda d: len(fake_plane.entries) == before + 1)
    assert fake_plane.entries[-1]["after"] == {"primary": 70, "secondary": 30}
    assert fake_plane.entries[-1]["actor"] == f"user:{USER}"


ROUTES = [("GET", "/"), ("GET", "/lag"), ("GET", "/_dash-layout"), ("GET", "/_dash-dependencies"),
          ("POST", "/_dash-update-component"),
          ("GET", "/_dash-component-suites/dash/deps/react@18.3.1.min.js"), ("GET", "/logout"),
          ("GET", "/_reload-hash")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_a_session_nothing_but_the_login(fake_console: str, method: str, path: str) -> None:
    for accept in ("text/html", "application/json"):
        response = httpx.request(method, f"{fake_console}{path}", headers={"Accept": accept}, json={},
                                 follow_redirects=False)
        assert response.status_code in (302, 401), (path, response.status_code)
        if response.status_code == 302:
            assert response.headers["location"].startswith("/login")
        assert "purchases-lag" not in response.text and "page-views-aggregator" not in response.text
        followed = httpx.request(method, f"{fake_console}{path}", headers={"Accept": accept}, json={},
                                 follow_redirects=True)
        assert followed.status_code == 401 or 'id="login-button"' in followed.text


def test_login_page_and_health_need_no_session(fake_console: str) -> None:
    assert httpx.get(f"{fake_console}/healthz").status_code == 200
    page = httpx.get(f"{fake_console}/login")
    assert page.status_code == 200 and 'type="password"' in page.text
    assert httpx.get(f"{fake_console}/theme/bootstrap.min.css").status_code == 200
