"""Every panel query and rule expression against the real Prometheus.

With the whole stack and its traffic (`live_stack`, e2e): none may error, and at least 90 % of those
steady traffic should feed must return data (an alert's full expression only has data while it
fires, so only its signal counts). With Prometheus alone (`prometheus_url`): every expression is
accepted, and, a check that needs no promtool, Prometheus loaded every generated rule file.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from prometheus_api_client import PrometheusConnect

from dashboards import all_expressions, queries, rules

MIN_DATA_RATIO = 0.9
# Recording rules, rate windows and deriv(5m) need a few scrapes of traffic before they have data.
SETTLE_S = 180.0
POLL_S = 10.0


def _describe(outcomes: list[queries.Outcome]) -> str:
    return "\n".join(
        f"  {o.expression.source}: {o.error or 'no data'}\n    {o.expression.expr}" for o in outcomes
    )


@pytest.mark.integration
def test_prometheus_accepts_every_expression(prometheus_url: str) -> None:
    report = queries.run(PrometheusConnect(url=prometheus_url, disable_ssl=True), all_expressions())
    assert len(report.outcomes) == len(all_expressions())
    assert not report.errors, "queries that error:\n" + _describe(report.errors)


@pytest.mark.e2e
def test_every_query_runs_and_most_return_data(live_stack: Any) -> None:
    prometheus = PrometheusConnect(url=live_stack.prometheus_url, disable_ssl=True)
    expressions = all_expressions()
    deadline = time.monotonic() + SETTLE_S
    while True:
        report = queries.run(prometheus, expressions)
        # A query that errors is wrong whatever the traffic: no point waiting.
        assert not report.errors, "queries that error:\n" + _describe(report.errors)
        if report.data_ratio >= MIN_DATA_RATIO or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    assert report.data_ratio >= MIN_DATA_RATIO, (
        f"{report.data_ratio:.0%} of {len(report.expected)} queries return data"
        f" < {MIN_DATA_RATIO:.0%}; empty:\n" + _describe(report.empty)
    )


@pytest.mark.integration
def test_prometheus_loaded_and_evaluates_every_rule(prometheus_url: str) -> None:
    expected = {
        (group.name, rule.record if isinstance(rule, rules.Recording) else rule.alert)
        for groups in rules.RULE_FILES.values()
        for group in groups
        for rule in group.rules
    }
    answer = httpx.get(f"{prometheus_url}/api/v1/rules", timeout=10.0)
    answer.raise_for_status()
    loaded = {
        (group["name"], rule["name"]): rule
        for group in answer.json()["data"]["groups"]
        for rule in group["rules"]
    }
    assert expected <= loaded.keys(), f"rules not loaded: {sorted(expected - loaded.keys())}"
    unhealthy = {key: loaded[key].get("lastError") for key in expected if loaded[key]["health"] == "err"}
    assert unhealthy == {}
