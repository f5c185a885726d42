"""The gateway's HTTP contract (DESIGN.md 3.3) on the in-memory sink: every answer, no broker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ingest.gateway.__main__ import create_gateway
from ingest.gateway.app import Gateway
from ingest.gateway.settings import GatewaySettings
from ingest.gateway.sink import InMemoryEventSink
from tests.factories import make_event, mixed_events

KEY = "unit-key"
HEADERS = {"X-API-Key": KEY, "Content-Type": "application/json"}


def gateway(tmp_path: Path, **overrides: Any) -> tuple[Gateway, InMemoryEventSink]:
    sink = InMemoryEventSink()
    settings = GatewaySettings(api_keys=(KEY,), spool_dir=tmp_path / "spool", **overrides)
    return create_gateway(settings, sink=sink), sink


async def post(gw: Gateway, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=gw)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return await client.post("/v1/events", content=body, headers=HEADERS if headers is None else headers)


def run(gw: Gateway, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        await gw.startup()
        try:
            return await post(gw, body, headers)
        finally:
            await gw.shutdown()

    return asyncio.run(go())


ONE = orjson.dumps(make_event("cart"))


@pytest.mark.parametrize(
    ("body", "headers", "status", "error_part"),
    [
        (ONE, {}, 401, "missing X-API-Key"),
        (ONE, {"X-API-Key": "nope"}, 401, "unknown API key"),
        (b"{not json", None, 400, "malformed JSON"),
        (b"", None, 400, "empty body"),
        (b"   ", None, 400, "empty body"),
        (b"42", None, 400, "expected an event object"),
        (b'"text"', None, 400, "expected an event object"),
        (b"[]", None, 400, "no events"),
        (b'{"events": {}}', None, 400, "must be a JSON array"),
        (orjson.dumps([make_event("cart")] * 501), None, 413, "exceeds the limit of 500"),
        (b"[" + b" " * (1024 * 1024) + b"]", None, 413, "exceeds the limit"),
    ],
    ids=[
        "no-key",
        "bad-key",
        "malformed",
        "empty",
        "blank",
        "number",
        "string",
        "empty-array",
        "events-not-array",
        "batch-too-long",
        "body-too-large",
    ],
)
def test_bad_requests_get_a_clear_4xx(
    tmp_path: Path, body: bytes, headers: dict[str, str] | None, status: int, error_part: str
) -> None:
    gw, sink = gateway(tmp_path)
    answer = run(gw, body, headers)
    assert answer.status_code == status
    assert error_part in answer.json()["error"]
    assert sink.records == []


@pytest.mark.parametrize(
    "shape",
    [lambda evs: evs[0], lambda evs: evs, lambda evs: {"events": evs}],
    ids=["one-event", "array", "events-object"],
)
def test_every_body_shape_is_accepted(tmp_path: Path, shape: Any) -> None:
    events = mixed_events(3)
    gw, sink = gateway(tmp_path)
    answer = run(gw, orjson.dumps(shape(events)))
    assert answer.status_code == 202
    expected = 1 if isinstance(shape(events), dict) and "event_id" in shape(events) else 3
    assert answer.json() == {"accepted": expected, "rejected": []}
    assert len(sink.records) == expected


def test_topics_keys_and_headers_follow_the_catalogue(tmp_path: Path) -> None:
    events = mixed_events(3)
    gw, sink = gateway(tmp_path)
    run(gw, orjson.dumps(events))
    by_type = {dict(r.headers)["event_type"].decode(): r for r in sink.records}
    assert by_type["page_view"].topic == "page-views"
    assert by_type["cart"].topic == "cart-events"
    assert by_type["purchase"].topic == "purchases"
    assert by_type["cart"].key == events[1]["session_id"].encode()
    assert by_type["purchase"].key == events[2]["payload"]["order_id"].encode()
    assert orjson.loads(by_type["purchase"].value) == events[2]


@pytest.mark.parametrize(
    ("mutate", "error_part"),
    [
        (lambda e: e["payload"].update(quantity=-1), "payload.quantity"),
        (lambda e: e.update(event_type="refund"), "refund"),
        (lambda e: e.update(schema_version=99), "99"),
        (lambda e: e.pop("event_id"), "event_id"),
        (lambda e: e.update(extra=1), "extra"),
        (lambda e: e["payload"].update(currency="euro"), "currency"),
    ],
    ids=[
        "negative-quantity",
        "unknown-type",
        "unknown-version",
        "no-event-id",
        "extra-field",
        "bad-currency",
    ],
)
def test_invalid_events_are_rejected_by_index_and_sent_to_the_dlq(
    tmp_path: Path, mutate: Any, error_part: str
) -> None:
    good, bad = make_event("cart"), make_event("cart")
    mutate(bad)
    gw, sink = gateway(tmp_path)
    answer = run(gw, orjson.dumps([good, bad]))
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1]
    assert error_part in body["rejected"][0]["error"]
    dlq = [r for r in sink.records if r.topic == "ingest-dlq"]
    assert len(dlq) == 1
    assert orjson.loads(dlq[0].value)["error"] == body["rejected"][0]["error"]


def test_kafka_down_spools_then_replays_in_order(tmp_path: Path) -> None:
    gw, sink = gateway(tmp_path)
    events = mixed_events(30)

    async def go() -> None:
        await gw.startup()
        sink.down = True
        for chunk in range(3):
            answer = await post(gw, orjson.dumps(events[chunk * 10 : (chunk + 1) * 10]))
            assert answer.status_code == 202
        assert sink.records == [] and gw.spool.events == 30
        sink.down = False
        for _ in range(100):
            if gw.spool.empty:
                break
            await asyncio.sleep(0.05)
        await gw.shutdown()

    asyncio.run(go())
    assert [orjson.loads(r.value)["event_id"] for r in sink.records] == [e["event_id"] for e in events]


def test_spool_full_answers_503_with_retry_after(tmp_path: Path) -> None:
    gw, sink = gateway(tmp_path, spool_max_bytes=4096)
    sink.down = True

    async def go() -> list[httpx.Response]:
        await gw.startup()
        sink.down = True
        answers = [await post(gw, orjson.dumps(mixed_events(5, seed=i))) for i in range(6)]
        await gw.shutdown()
        return answers

    answers = asyncio.run(go())
    assert answers[0].status_code == 202
    full = answers[-1]
    assert full.status_code == 503
    assert full.headers["retry-after"] == "5"
    assert "spool is full" in full.json()["error"]


def test_chaos_switch_fails_the_configured_share(tmp_path: Path) -> None:
    chaos = tmp_path / "chaos.json"
    chaos.write_text('{"gateway_fail_ratio": {"primary": 1.0}}')
    gw, sink = gateway(tmp_path, chaos_file=chaos)
    answer = run(gw, ONE)
    assert answer.status_code == 503 and "chaos" in answer.json()["error"]
    assert sink.records == []
