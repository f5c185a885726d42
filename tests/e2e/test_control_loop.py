"""The control loop on the whole local stack (``live_stack``: Kafka, Prometheus, Route 53 emulator,
gateways, consumers, the control plane and demo traffic), with tests/e2e/policies.yaml.

Each test prints what it measured (reaction times, weight and replica sequences).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from controlplane.actuators.circus_consumer import CircusConsumerScaler
from controlplane.actuators.route53_weight import Route53WeightActuator
from controlplane.audit import AuditEntry, AuditLog, db_path
from controlplane.settings import Settings
from controlplane.stack.supervisor import CircusSupervisor
from tests.conftest import API_KEY
from tests.factories import make_event

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
ECOMCTL = str(REPO / ".venv" / "bin" / "ecomctl")
GROUP = "purchase-processor"
T = TypeVar("T")


def ecomctl(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ECOMCTL, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, every_s: float = 0.5) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}")


def state(settings: Settings) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{settings.controlplane_url}/api/state", timeout=5).json()
    return document


def policy_state(settings: Settings, name: str) -> dict[str, Any]:
    return next(p for p in state(settings)["policies"] if p["name"] == name)


def entries(settings: Settings, actor: str, since: str, action: str | None = None) -> list[AuditEntry]:
    """Audit entries of ``actor`` at or after ``since``, oldest first."""
    found = [e for e in AuditLog(db_path(settings)).entries() if e.actor == actor and e.at >= since]
    return [e for e in reversed(found) if action is None or e.action == action]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")  # the audit log's format


def weights(settings: Settings) -> dict[str, int]:
    actuator = Route53WeightActuator.from_settings(settings)
    actuator.start()
    return actuator.read(settings.ingest_record)


def reversals(values: list[int]) -> int:
    steps = [b - a for a, b in zip(values, values[1:], strict=False) if b != a]
    return sum(1 for a, b in zip(steps, steps[1:], strict=False) if (a > 0) != (b > 0))


def test_prometheus_stopped_policies_hold_and_say_why(live_stack: Settings, live_env: dict[str, str]) -> None:
    settings = live_stack
    wait_for("a first tick", lambda: state(settings)["last_tick"], 60)
    # While demo traffic flows, `ecomctl metrics` reads a positive rate for every event type...
    flowing = wait_for("fresh ingest metrics", lambda: _fresh_metrics(live_env), 90, every_s=2)
    assert all(flowing["event_types"][t]["rate"] > 0 for t in ("page_view", "cart", "purchase"))
    supervisor = CircusSupervisor(settings.state_dir, settings.host, settings.ports.circus,
                                  settings.ports.circus_pubsub)
    before = weights(settings)
    # A hold is stamped with its tick's start: a tick already running when Prometheus stops counts too.
    tick_ago = datetime.now(UTC) - timedelta(seconds=2 * settings.loop_interval_s)
    since = tick_ago.isoformat(timespec="milliseconds")
    supervisor.call("stop", name="prometheus", waiting=True)
    try:
        held = wait_for("ingest-failover to hold on the missing Prometheus",
                        lambda: [e for e in entries(settings, "policy:ingest-failover", since)
                                 if e.result == "held" and "prometheus" in e.reason.lower()], 60)
        print(f"\nhold while Prometheus is down: {held[0].reason}")
        time.sleep(3 * settings.loop_interval_s)
        assert policy_state(settings, "ingest-failover")["last"]["verdict"] == "hold"
        assert weights(settings) == before
        changes = [e for e in entries(settings, "policy:ingest-failover", since) if e.result != "held"]
        assert changes == []
        # ...and with Prometheus stopped it says stale, never a zero.
        stopped = json.loads(ecomctl(live_env, "metrics", "--json"))
        assert stopped["stale"] is True
        assert all(v is None for t in stopped["event_types"].values() for v in t.values())
    finally:
        supervisor.call("start", name="prometheus", waiting=True)
        wait_for("Prometheus back", lambda: _ok(f"{settings.prometheus_url}/-/ready"), 60)


def _fresh_metrics(env: dict[str, str]) -> dict[str, Any] | None:
    document: dict[str, Any] = json.loads(ecomctl(env, "metrics", "--json"))
    return None if document["stale"] else document


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_failover_shifts_weight_in_steps_and_back(live_stack: Settings, live_env: dict[str, str]) -> None:
    settings = live_stack
    wait_for("demo traffic on primary", lambda: _primary_rate(settings), 120)
    since = now_iso()
    ecomctl(live_env, "chaos", "gateway-fail", "primary", "1.0", "--user", "e2e")
    seen: list[dict[str, int]] = []
    try:
        def moved_all() -> bool:
            current = weights(settings)
            if not seen or seen[-1] != current:
                seen.append(current)
            return current["secondary"] >= 100
        wait_for("all weight on secondary", moved_all, 180, every_s=1.0)
    finally:
        ecomctl(live_env, "chaos", "gateway-fail", "primary", "0", "--user", "e2e")
    shifted_at = now_iso()
    shifts = [e for e in entries(settings, "policy:ingest-failover", since, "set_weights")
              if e.result == "applied"]
    print(f"\nweights seen while failing over: {seen}")
    print("shift steps: " + ", ".join(f"{e.at} {e.after}" for e in shifts))
    assert [e.after["secondary"] for e in shifts] == [50, 100]  # step_weight 50 up to max_weight 100
    reaction = (datetime.fromisoformat(shifts[0].at) - datetime.fromisoformat(since)).total_seconds()
    print(f"reaction time (chaos on -> first weight step applied): {reaction:.1f}s "
          f"(includes Prometheus scrape and rate windows, threshold 2 checks)")

    def recovered() -> bool:
        current = weights(settings)
        if seen[-1] != current:
            seen.append(current)
        return current["primary"] >= 100
    wait_for("weight back on primary", recovered, 240, every_s=1.0)
    back = [e for e in entries(settings, "policy:ingest-failover", shifted_at, "set_weights")
            if e.result == "applied"]
    print("recovery steps: " + ", ".join(f"{e.at} {e.after}" for e in back))
    assert [e.after["primary"] for e in back] == [50, 100]  # gradually, one step at a time
    assert [e.actor for e in entries(live_stack, "user:e2e", since, "chaos")] == ["user:e2e"] * 2


def _primary_rate(settings: Settings) -> bool:
    try:
        answer = httpx.get(f"{settings.prometheus_url}/api/v1/query", timeout=5,
                           params={"query": 'sum(rate(ingest_requests_total{gateway="primary"}[30s]))'})
        result = answer.json()["data"]["result"]
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    return bool(result) and float(result[0]["value"][1]) > 1


def test_lag_scales_out_drains_and_scales_back_without_flapping(live_stack: Settings,
                                                                live_env: dict[str, str]) -> None:
    settings = live_stack
    scaler = CircusConsumerScaler.from_settings(settings)
    assert scaler.replicas(GROUP) == 1
    since = now_iso()
    ecomctl(live_env, "chaos", "consumer-delay", GROUP, "20", "--user", "e2e")
    try:
        _burst(settings, 3000)
        # Generous: under a loaded CI machine the burst and the first rounds can take a while.
        breach = wait_for("lag above 300", lambda: _seen_above(settings, 300), 120, every_s=0.2)
        scaled = wait_for("a scale-out", lambda: [e for e in entries(settings, "policy:purchases-lag", since,
                                                                     "scale") if e.result == "applied"],
                          60, every_s=0.2)
    finally:
        ecomctl(live_env, "chaos", "consumer-delay", GROUP, "0", "--user", "e2e")
    applied_at = datetime.fromisoformat(scaled[0].at).timestamp()
    reaction = applied_at - breach
    limit = 10 + 2 * settings.loop_interval_s  # for: 10s + two ticks
    print(f"\nreaction time (lag first seen > 300 -> scale-out applied): {reaction:.1f}s (limit {limit:g}s)")
    assert scaled[0].after["replicas"] == 2
    assert reaction <= limit + 3  # one lag round of slack: the breach is seen by polling, a tick late
    wait_for("the lag drained", lambda: (_group_lag(settings) or (10**9, 0.0))[0] < 10, 240, every_s=1.0)
    wait_for("replicas back to 1", lambda: scaler.replicas(GROUP) == 1, 240, every_s=1.0)
    history = [1] + [e.after["replicas"] for e in entries(settings, "policy:purchases-lag", since, "scale")
                     if e.result == "applied"]
    print(f"replicas over the test: {history}")
    assert max(history) >= 2 and reversals(history) <= 1


def _burst(settings: Settings, count: int) -> None:
    url = f"{settings.gateway_url('secondary')}/v1/events"
    with httpx.Client(timeout=30, headers={"X-API-Key": API_KEY}) as client:
        for start in range(0, count, 500):
            events = [make_event("purchase") for _ in range(min(500, count - start))]
            answer = client.post(url, json=events)
            assert answer.status_code == 202, answer.text


def _group_lag(settings: Settings) -> tuple[int, float] | None:
    """(lag, round time) of the group in the control plane's latest lag round; None when unknown."""
    try:
        document = httpx.get(f"{settings.controlplane_url}/api/lag", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None
    group = next((g for g in document.get("groups", []) if g["group"] == GROUP), None)
    if group is None or group["lag"] is None:
        return None
    return int(group["lag"]), datetime.fromisoformat(document["at"]).timestamp()


def _seen_above(settings: Settings, limit: int) -> float | None:
    """The time of the first lag round that shows the group above ``limit``."""
    found = _group_lag(settings)
    return found[1] if found and found[0] > limit else None
