"""loadgen against stand-in gateways on loopback and moto's Route 53 server (no Kafka needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from ingest.loadgen import LoadgenConfig, Route53Source, run_loadgen
from ingest.loadgen.config import FLASH_SALE_FUNNEL
from tests.integration.test_loadgen_support import (
    RECORD,
    ROOT,
    ZONE,
    events_total,
    moto_server,
    route53,
    set_weights,
    sink,
    upsert_records,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sinks() -> Iterator[dict[str, str]]:
    with sink("primary") as primary, sink("secondary") as secondary:
        yield {"primary": primary, "secondary": secondary}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _stats(url: str) -> dict:
    return httpx.get(f"{url}/stats", timeout=5.0).json()


def _close(observed: float, wanted: float, rel: float = 0.1) -> bool:
    return abs(observed - wanted) <= rel * wanted


def test_flash_sale_holds_500_events_per_second_for_20s(sinks: dict[str, str]) -> None:
    url = sinks["primary"]
    before = _stats(url)
    args = [
        "loadgen",
        "--profile",
        "flash-sale",
        "--rate",
        "500",
        "--duration",
        "20",
        "--target",
        url,
        "--seed",
        "20",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "ingest.loadgen", *args[1:], "--json"],
        cwd=ROOT,
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary = json.loads(done.stdout)
    after = _stats(url)
    assert set(summary) >= {
        "sent",
        "accepted",
        "rejected",
        "errors",
        "rate_target",
        "rate_achieved",
        "latency_ms",
        "by_target",
        "by_type",
    }
    assert set(summary["latency_ms"]) >= {"p50", "p99", "p999"}
    assert summary["rate_target"] == pytest.approx(500, rel=0.01)
    assert summary["rate_achieved"] >= 0.95 * summary["rate_target"], summary
    assert summary["errors"] == 0 and summary["rejected"] == 0, summary["errors_by_reason"]
    assert summary["sent"] == summary["accepted"] == pytest.approx(10_000, abs=2)
    # What arrived: every event valid against the contracts, none twice, counted by type.
    received = {t: after["by_type"].get(t, 0) - before["by_type"].get(t, 0) for t in summary["by_type"]}
    assert received == summary["by_type"]
    assert after["invalid_count"] == before["invalid_count"] and after["duplicates"] == before["duplicates"]
    # Funnel, as the generator decided it and as the receiving side sees it.
    funnel = summary["funnel"]
    assert _close(funnel["view_to_cart"], FLASH_SALE_FUNNEL.view_to_cart), funnel
    assert _close(funnel["cart_to_purchase"], FLASH_SALE_FUNNEL.cart_to_purchase), funnel
    sessions = after["sessions"] - before["sessions"]
    carted = after["carted"] - before["carted"]
    purchased = after["purchased"] - before["purchased"]
    assert _close(carted / sessions, FLASH_SALE_FUNNEL.view_to_cart), (sessions, carted)
    assert _close(purchased / carted, FLASH_SALE_FUNNEL.cart_to_purchase), (carted, purchased)
    # The mix leans towards carts and purchases.
    assert summary["by_type"]["cart"] + summary["by_type"]["purchase"] > 0.35 * summary["sent"]


@pytest.mark.parametrize(
    ("weights", "winner"),
    [
        ({"primary": 100, "secondary": 0}, "primary"),
        ({"primary": 0, "secondary": 100}, "secondary"),
    ],
)
def test_route53_weights_decide_where_traffic_goes(
    sinks: dict[str, str], moto_url: str, weights: dict[str, int], winner: str
) -> None:
    client = route53(moto_url)
    # One record value as host:port, the other as a URL: both forms are read.
    values = {"primary": sinks["primary"].removeprefix("http://"), "secondary": sinks["secondary"]}
    upsert_records(client, values, weights, ttl=5)
    before = {name: events_total(url, name) for name, url in sinks.items()}
    env = {"ECOMCTL_AWS_ENDPOINT_URL": moto_url, "ECOMCTL_INGEST_API_KEYS": "k-1,k-2"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "controlplane.cli",
            "loadgen",
            "--route53",
            "--rate",
            "400",
            "--count",
            "1200",
            "--json",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary = json.loads(done.stdout)
    after = {name: events_total(url, name) for name, url in sinks.items()}
    assert summary["errors"] == 0, summary["errors_by_reason"]
    assert summary["by_target"].get(winner, 0) >= 0.99 * summary["sent"], summary["by_target"]
    delivered = {name: after[name] - before[name] for name in sinks}
    assert delivered[winner] >= 0.99 * sum(delivered.values()) and delivered[winner] == summary["sent"]


def test_a_weight_shift_moves_traffic_within_one_ttl(sinks: dict[str, str], moto_url: str) -> None:
    client = route53(moto_url)
    upsert_records(
        client,
        {"primary": sinks["primary"], "secondary": sinks["secondary"]},
        {"primary": 100, "secondary": 0},
        ttl=1,
    )
    config = LoadgenConfig(
        rate=200,
        duration=6,
        api_key="k-1",
        seed=3,
        route53=Route53Source(endpoint_url=moto_url, hosted_zone=ZONE, record=RECORD),
    )
    # Shift 2 s into the run: the generator must follow within the 1 s TTL (plus a lookup).
    shifter = threading.Timer(2.0, set_weights, args=(client, {"primary": 0, "secondary": 100}))
    started = time.monotonic()
    shifter.start()
    summary = run_loadgen(config)
    shifter.join()
    assert time.monotonic() - started < 20
    assert summary.errors == 0
    primary, secondary = summary.by_target.get("primary", 0), summary.by_target.get("secondary", 0)
    assert primary + secondary == summary.sent == 1200
    # ~2 s on primary, up to one TTL more while the cached answer lives, the rest on secondary.
    assert 2.0 * 200 * 0.9 <= primary <= (2.0 + 1.0 + 0.7) * 200, summary.by_target
    assert secondary >= (6.0 - 3.7) * 200, summary.by_target


def test_locustfile_runs_headless_against_a_gateway(sinks: dict[str, str]) -> None:
    url = sinks["secondary"]
    before = _stats(url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "locustfile.py",
            "--headless",
            "-u",
            "10",
            "-r",
            "10",
            "-t",
            "2s",
            "--host",
            url,
            "--only-summary",
            "--exit-code-on-error",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (done.stdout.decode()[-1500:], done.stderr.decode()[-1500:])
    after = _stats(url)
    assert sum(after["by_type"].values()) - sum(before["by_type"].values()) >= 10
    assert after["invalid_count"] == before["invalid_count"]
