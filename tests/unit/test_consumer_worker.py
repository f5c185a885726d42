"""Decoding, dead letters, discovery files and the batch loop of the worker (fake Kafka clients)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.chaos import ChaosSwitches
from ingest.consumers import discovery
from ingest.consumers.config import for_group
from ingest.consumers.events import Event, Rejection, dead_letter, decode
from ingest.consumers.metrics import ConsumerMetrics
from ingest.consumers.sinks.sqlite import SqliteSink
from ingest.consumers.worker import ConsumerWorker
from ingest.contracts import ContractRegistry
from ingest.topics import load_topics

CONTRACTS = ContractRegistry.load()
NOW = datetime(2026, 11, 24, 10, 1, 0, tzinfo=UTC)


def purchase_doc(order: str = "o-1", **over: Any) -> dict[str, Any]:
    doc = {"event_id": str(uuid.uuid4()), "event_type": "purchase", "schema_version": 1,
           "occurred_at": "2026-11-24T10:00:00.500Z", "session_id": "s-1", "user_id": None,
           "payload": {"order_id": order, "items": [{"product_id": "p1", "quantity": 1, "unit_price": 2.0}],
                       "total": 2.0, "currency": "EUR", "payment_method": "card"}}
    return doc | over


@pytest.mark.parametrize(("value", "reason"), [
    (b"{not json", "decode"),
    (None, "decode"),
    (orjson.dumps([1]), "envelope"),
    (orjson.dumps(purchase_doc(schema_version=9)), "unknown_version"),
    (orjson.dumps(purchase_doc(payload={"order_id": "o"})), "schema"),
    (orjson.dumps(purchase_doc() | {"event_type": "page_view",
                                    "payload": {"url": "/", "referrer": None, "product_id": None}}),
     "wrong_topic"),
])
def test_decode_rejects_with_a_reason(value: bytes | None, reason: str) -> None:
    outcome = decode(value, "purchases", 2, 7, CONTRACTS, "purchase")
    assert isinstance(outcome, Rejection)
    assert (outcome.reason, outcome.partition, outcome.offset) == (reason, 2, 7)


def test_decode_accepts_and_normalises_time_to_utc() -> None:
    doc = purchase_doc(occurred_at="2026-11-24T11:00:59+01:00")
    outcome = decode(orjson.dumps(doc), "purchases", 0, 1, CONTRACTS, "purchase")
    assert isinstance(outcome, Event)
    assert (outcome.event_id, outcome.minute) == (doc["event_id"], "2026-11-24T10:00:00Z")


@pytest.mark.parametrize(("rejection", "key"), [
    (Rejection("decode", "bad", "t", 0, 1, raw="{x"), "raw"),
    (Rejection("schema", "bad", "t", 0, 1, event={"a": 1}), "event"),
])
def test_dead_letter_document(rejection: Rejection, key: str) -> None:
    doc = json.loads(dead_letter(rejection, "g", NOW))
    assert doc["reason"] == rejection.reason and doc["group"] == "g" and doc["at"] == "2026-11-24T10:01:00Z"
    assert key in doc and doc["source"] == {"topic": "t", "partition": 0, "offset": 1}


def test_discovery_publish_and_stale_cleanup(tmp_path: Path) -> None:
    mine = discovery.publish(tmp_path, "cart-processor", 11, "127.0.0.1:9000")
    dead = discovery.publish(tmp_path, "cart-processor", 12, "127.0.0.1:9001")
    other = discovery.publish(tmp_path, "cart-processor-x", 13, "127.0.0.1:9002")
    expected = [{"targets": ["127.0.0.1:9000"], "labels": {"group": "cart-processor"}}]
    assert json.loads(mine.read_text()) == expected
    removed = discovery.remove_stale(tmp_path, "cart-processor", alive=lambda pid: pid == 11)
    assert removed == [dead]
    assert mine.exists() and other.exists()


def test_unknown_group_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown consumer group 'nope'"):
        for_group(load_topics(), "nope", "b:1", tmp_path)


class FakeMessage:
    def __init__(self, value: bytes, partition: int, offset: int) -> None:
        self._value, self._partition, self._offset = value, partition, offset

    def error(self) -> None:
        return None

    def value(self) -> bytes:
        return self._value

    def topic(self) -> str:
        return "purchases"

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


class FakeConsumer:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log

    def subscribe(self, topics: list[str], on_revoke: Any) -> None:
        self.on_revoke = on_revoke

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        self.log.append(("commit", sorted((tp.partition, tp.offset) for tp in offsets)))

    def close(self) -> None:
        self.log.append(("close", None))


class FakeProducer:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log
        self.queued: list[tuple[Any, bytes]] = []

    def produce(self, topic: str, value: bytes, on_delivery: Any, headers: dict[str, str]) -> None:
        self.queued.append((on_delivery, value))

    def flush(self, timeout: float) -> int:
        for callback, value in self.queued:
            self.log.append(("dlq", json.loads(value)["reason"]))
            callback(None, None)
        self.queued.clear()
        return 0


def test_poison_event_is_isolated_dead_lettered_and_committed(tmp_path: Path) -> None:
    log: list[tuple[str, Any]] = []
    config = for_group(load_topics(), "purchase-processor", "b:1", tmp_path,
                       sink_url=f"sqlite:///{tmp_path / 's.db'}")
    sink = SqliteSink(tmp_path / "s.db")
    metrics = ConsumerMetrics(config.group)
    worker = ConsumerWorker(config, sink, metrics, CONTRACTS, ChaosSwitches(None), clock=NOW.timestamp,
                            consumer_factory=lambda _c: FakeConsumer(log),  # type: ignore[arg-type,return-value]
                            producer_factory=lambda _c: FakeProducer(log))  # type: ignore[arg-type,return-value]
    worker.start()
    good, clash, later, junk = purchase_doc("o-1"), purchase_doc("o-1"), purchase_doc("o-2"), b"\xff"
    batch = [FakeMessage(orjson.dumps(good), 0, 10), FakeMessage(orjson.dumps(clash), 1, 4),
             FakeMessage(junk, 0, 11), FakeMessage(orjson.dumps(later), 1, 5)]
    worker.process(batch)  # type: ignore[arg-type]
    worker.process(batch[:1])  # type: ignore[arg-type]  # redelivery: a duplicate, nothing new
    worker.close()

    assert log == [("dlq", "decode"), ("dlq", "sink"), ("commit", [(0, 12), (1, 6)]),
                   ("commit", [(0, 11)]), ("close", None)]
    value = metrics.registry.get_sample_value
    labels = {"group": "purchase-processor", "topic": "purchases"}
    assert value("consumer_events_processed_total", labels | {"event_type": "purchase"}) == 2
    assert value("consumer_events_failed_total", labels | {"reason": "sink"}) == 1
    assert value("consumer_duplicates_total", labels) == 1
    assert value("consumer_processing_latency_seconds_sum", labels) == pytest.approx(2 * 59.5)
