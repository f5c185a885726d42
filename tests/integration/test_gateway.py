"""The gateway on the real broker: exactly-once into topics, rejections to the DLQ, no 5xx for any input."""

from __future__ import annotations

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import API_KEY
from tests.factories import make_event, mixed_events
from tests.kafka_helpers import end_offsets, read_event_ids

pytestmark = pytest.mark.integration
HEADERS = {"X-API-Key": API_KEY}
TOPICS = {"page_view": "page-views", "cart": "cart-events", "purchase": "purchases"}


def test_3000_mixed_events_land_in_their_topics_exactly_once(
    gateways: dict[str, str], kafka_bootstrap: str
) -> None:
    events = mixed_events(3000, seed=11)
    starts = {t: end_offsets(kafka_bootstrap, t) for t in TOPICS.values()}
    with httpx.Client(base_url=gateways["primary"], headers=HEADERS, timeout=30) as client:
        for i in range(0, len(events), 100):
            answer = client.post("/v1/events", content=orjson.dumps(events[i : i + 100]))
            assert answer.status_code == 202, answer.text
            assert answer.json() == {"accepted": 100, "rejected": []}
    for event_type, topic in TOPICS.items():
        wanted = {e["event_id"] for e in events if e["event_type"] == event_type}
        seen = read_event_ids(kafka_bootstrap, topic, starts[topic], len(wanted))
        mine = {k: v for k, v in seen.items() if k in wanted}
        assert set(mine) == wanted, f"{topic}: {len(wanted - set(mine))} missing"
        assert max(mine.values()) == 1, f"{topic}: duplicates"


def test_invalid_events_get_per_index_errors_and_one_dlq_record_each(
    gateways: dict[str, str], kafka_bootstrap: str
) -> None:
    good = make_event("purchase")
    bad_quantity = make_event("cart")
    bad_quantity["payload"]["quantity"] = -3
    unknown_type = {**make_event("cart"), "event_type": "refund"}
    start = end_offsets(kafka_bootstrap, "ingest-dlq")
    answer = httpx.post(
        f"{gateways['secondary']}/v1/events",
        headers=HEADERS,
        content=orjson.dumps([good, bad_quantity, unknown_type]),
    )
    assert answer.status_code == 202
    body = answer.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["event_id"]) for r in body["rejected"]] == [
        (1, bad_quantity["event_id"]),
        (2, unknown_type["event_id"]),
    ]
    assert "payload.quantity" in body["rejected"][0]["error"]
    seen = read_event_ids(kafka_bootstrap, "ingest-dlq", start, 2, header="reason")
    assert sum(seen.values()) == 2
    assert set(seen) == {"schema", "unknown_type"}


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{oops", HEADERS, 400),
        (orjson.dumps(make_event("cart")), {}, 401),
        (orjson.dumps(make_event("cart")), {"X-API-Key": "wrong"}, 401),
        (b"[" + b"0," * 600_000 + b"0]", HEADERS, 413),
        (orjson.dumps([make_event("cart")] * 600), HEADERS, 413),
    ],
    ids=["malformed", "no-key", "unknown-key", "body-too-large", "batch-too-long"],
)
def test_http_errors_on_the_real_server(
    gateways: dict[str, str], content: bytes, headers: dict[str, str], status: int
) -> None:
    answer = httpx.post(f"{gateways['primary']}/v1/events", content=content, headers=headers, timeout=30)
    assert answer.status_code == status
    assert answer.json()["error"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


def _mutated_event(data: st.DataObject) -> object:
    event = make_event(data.draw(st.sampled_from(["page_view", "cart", "purchase"])))
    target = data.draw(st.sampled_from(["top", "payload"]))
    where = event if target == "top" else event["payload"]
    key = data.draw(st.sampled_from([*where.keys(), "extra"]))
    where[key] = data.draw(json_values)
    return event


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_bodies_never_get_a_5xx(gateways: dict[str, str], data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["raw-bytes", "json-value", "mutated-event", "mutated-batch"]))
    if kind == "raw-bytes":
        body = data.draw(st.binary(max_size=300))
    elif kind == "json-value":
        body = orjson.dumps(data.draw(json_values))
    elif kind == "mutated-event":
        body = orjson.dumps(_mutated_event(data))
    else:
        body = orjson.dumps({"events": [_mutated_event(data) for _ in range(data.draw(st.integers(1, 4)))]})
    answer = httpx.post(f"{gateways['primary']}/v1/events", content=body, headers=HEADERS, timeout=30)
    assert answer.status_code < 500, (answer.status_code, answer.text, body[:200])
    assert answer.status_code in (202, 400), answer.text


def test_integers_beyond_64_bits_are_judged_by_the_schema_not_the_parser(gateways: dict[str, str]) -> None:
    event = make_event("cart")
    body = orjson.dumps(event).replace(
        b'"quantity":' + str(event["payload"]["quantity"]).encode(), b'"quantity":' + str(10**30).encode()
    )
    answer = httpx.post(f"{gateways['primary']}/v1/events", content=body, headers=HEADERS)
    assert answer.status_code == 202
    assert answer.json()["accepted"] == 1
