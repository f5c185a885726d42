"""`ecomctl lag` without a network: the control-plane hook, the local two-round collection, the table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from collectors.settings import LagSettings
from controlplane.commands.lag import collect_locally, fetch_from_controlplane, print_lag_table
from controlplane.settings import Settings
from tests.unit.test_lag_collector import T0, FakeAdmin, Group

PARTITION = {"topic": "t", "partition": 0, "committed": None, "end_offset": 7, "lag": 7, "lag_seconds": 12.0,
             "status": "STALL", "missing_offset_rule": "earliest", "lag_seconds_lower_bound": True}
DOCUMENT = {"groups": [{"group": "g", "state": "Stable", "members": 1, "status": "STALL", "lag": 7,
                        "lag_seconds": 12.0, "lag_seconds_lower_bound": True, "partitions": [PARTITION]}],
            "errors": {}}


def answer(response: httpx.Response | Exception) -> Any:
    def get(url: str, timeout: float) -> httpx.Response:
        assert (url, timeout) == ("http://127.0.0.1:18060/api/lag", 2.0)
        if isinstance(response, Exception):
            raise response
        return response
    return get


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.ConnectError("connection refused"), None),
        (httpx.ReadTimeout("timed out"), None),
        (httpx.Response(200, json=DOCUMENT, request=httpx.Request("GET", "http://x")), DOCUMENT),
        (httpx.Response(404, text="not found", request=httpx.Request("GET", "http://x")), None),
        (httpx.Response(200, text="<html>", request=httpx.Request("GET", "http://x")), None),
    ],
)
def test_controlplane_hook(monkeypatch: pytest.MonkeyPatch, response: Any, expected: Any) -> None:
    monkeypatch.setattr(httpx, "get", answer(response))
    assert fetch_from_controlplane(Settings()) == expected


@pytest.mark.parametrize(
    ("second_committed", "expected_status"),
    [
        (10, "STALL"),  # a member owns it, lag > 0, the offset did not move between the two rounds
        (30, "OK"),
    ],
)
def test_local_collection_is_two_rounds_a_second_apart(second_committed: int, expected_status: str) -> None:
    admin = FakeAdmin({"g": Group({("t", 0): 10}, members=[[("t", 0)]])}, ends={("t", 0): 30})
    clock = iter([T0, T0 + timedelta(seconds=1)])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        admin.groups["g"].committed[("t", 0)] = second_committed

    document = collect_locally("127.0.0.1:1", LagSettings(window=10), clock=lambda: next(clock), sleep=sleep,
                               admin_factory=lambda config: admin)
    assert slept == [1.0]
    (group,) = document["groups"]
    assert (group["lag"], group["status"]) == (30 - second_committed, expected_status)


def test_unreachable_kafka_is_not_retried() -> None:
    admin = FakeAdmin({}, {}, fail_listing=True)
    slept: list[float] = []
    document = collect_locally("127.0.0.1:1", LagSettings(), clock=lambda: T0, sleep=slept.append,
                               admin_factory=lambda config: admin)
    assert slept == [] and "list_consumer_groups failed" in document["errors"]["kafka"]


def test_table_marks_lower_bounds_and_reset_rule(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    print_lag_table(DOCUMENT)
    out = capsys.readouterr().out
    assert ">=12.0" in out and "none (earliest)" in out and "STALL" in out
