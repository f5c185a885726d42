"""Gateway -> Kafka -> idempotent consumers: 3,000 posted events in the sinks exactly once, and the
same batch posted again adds nothing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import orjson
import pytest

from controlplane.settings import Settings
from tests.conftest import API_KEY
from tests.factories import mixed_events

pytestmark = pytest.mark.integration
GROUPS = {"page_view": "page-views-aggregator", "cart": "cart-processor", "purchase": "purchase-processor"}


def sink_counts(state_dir: Path, group: str, event_ids: list[str]) -> dict[str, int]:
    """Rows of processed_events per event_id (only ours), plus the rows of the group's effect table."""
    path = state_dir / "sinks" / f"{group}.db"
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        found: dict[str, int] = {}
        for i in range(0, len(event_ids), 500):
            chunk = event_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT event_id, COUNT(*) FROM processed_events "
                f"WHERE event_id IN ({marks}) GROUP BY event_id"
            )
            found.update(dict(db.execute(query, chunk).fetchall()))
        return found


def order_rows(state_dir: Path, order_ids: list[str]) -> int:
    with sqlite3.connect(f"file:{state_dir / 'sinks' / 'purchase-processor.db'}?mode=ro", uri=True) as db:
        marks = ",".join("?" * len(order_ids))
        return int(
            db.execute(f"SELECT COUNT(*) FROM orders WHERE order_id IN ({marks})", order_ids).fetchone()[0]
        )


def wait_for_sinks(
    state_dir: Path, wanted: dict[str, list[str]], timeout: float = 90
) -> dict[str, dict[str, int]]:
    deadline = time.monotonic() + timeout
    while True:
        seen = {group: sink_counts(state_dir, group, ids) for group, ids in wanted.items()}
        if all(len(seen[g]) == len(ids) for g, ids in wanted.items()) or time.monotonic() > deadline:
            return seen
        time.sleep(1)


def post_all(url: str, events: list[dict[str, object]]) -> None:
    with httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30) as client:
        for i in range(0, len(events), 100):
            answer = client.post("/v1/events", content=orjson.dumps(events[i : i + 100]))
            assert answer.status_code == 202 and answer.json()["accepted"] == 100, answer.text


def test_posted_events_reach_the_sinks_exactly_once(
    gateways: dict[str, str], stack_settings: Settings
) -> None:
    events = mixed_events(3000, seed=23)
    wanted = {GROUPS[t]: [str(e["event_id"]) for e in events if e["event_type"] == t] for t in GROUPS}
    post_all(gateways["primary"], events)
    seen = wait_for_sinks(stack_settings.state_dir, wanted)
    for group, ids in wanted.items():
        assert len(seen[group]) == len(ids), (
            f"{group}: {len(ids) - len(seen[group])} events missing from the sink"
        )
        assert set(seen[group].values()) == {1}
    order_ids = [str(e["payload"]["order_id"]) for e in events if e["event_type"] == "purchase"]  # type: ignore[index]
    assert order_rows(stack_settings.state_dir, order_ids) == len(order_ids)

    post_all(gateways["secondary"], events)  # the same batch again, through the other gateway
    time.sleep(10)  # the consumers keep up within a couple of seconds at this volume
    again = {group: sink_counts(stack_settings.state_dir, group, ids) for group, ids in wanted.items()}
    assert again == seen
    assert order_rows(stack_settings.state_dir, order_ids) == len(order_ids)
