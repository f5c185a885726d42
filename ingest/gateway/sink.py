"""Where the gateway sends records: Kafka (one producer per criticality profile) or memory.

``send(records)`` resolves when every record is acknowledged, or reports which were not within
the bound. Delivery callbacks run on one poll thread per producer; a request is woken once, when
its last record is settled, so the per-message cost stays a counter decrement.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Producer

from ingest.gateway.spool import Record


@dataclass
class Delivery:
    """Outcome of one ``send``: indices of records that Kafka did not acknowledge."""

    failed: list[int] = field(default_factory=list)
    error: str = ""


class EventSink(Protocol):
    def start(self) -> None: ...
    async def send(self, records: list[Record], timeout: float) -> Delivery: ...
    def healthy(self) -> bool: ...
    def close(self, timeout: float) -> int: ...


class _Tracker:
    """Delivery state of one request's records; wakes its future once, from a poll thread."""

    __slots__ = ("loop", "future", "remaining", "states", "error", "lock", "started")

    PENDING, OK, FAILED = 0, 1, 2

    def __init__(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.remaining = count
        self.states = bytearray(count)
        self.error = ""
        self.lock = threading.Lock()
        self.started = time.perf_counter()

    def settle(self, index: int, err: KafkaError | None) -> None:
        with self.lock:
            self.states[index] = self.OK if err is None else self.FAILED
            if err is not None:
                self.error = str(err)
            self.remaining -= 1
            done = self.remaining == 0
        if done:
            self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def not_acknowledged(self) -> list[int]:
        with self.lock:
            return [i for i, state in enumerate(self.states) if state != self.OK]


class KafkaEventSink:
    """confluent-kafka producers, one per topic profile (acks/idempotence/batching differ)."""

    def __init__(
        self,
        bootstrap: str,
        profiles: Mapping[str, Mapping[str, Any]],
        topic_profile: Mapping[str, str],
        message_timeout_ms: int = 30000,
        on_produced: Any = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._profiles = profiles
        self._topic_profile = topic_profile
        self._message_timeout_ms = message_timeout_ms
        self._producers: dict[str, Producer] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._broker_up = False
        self._last_error_at = 0.0
        self._on_produced = on_produced  # callback(topic, seconds) for the produce latency histogram

    def start(self) -> None:
        for name, profile in self._profiles.items():
            config = {
                "bootstrap.servers": self._bootstrap,
                "client.id": f"ecomctl-gateway-{name}",
                "message.timeout.ms": self._message_timeout_ms,
                "queue.buffering.max.messages": 500000,
                "error_cb": self._on_error,
                **{k: v for k, v in profile.items()},
            }
            producer = Producer(config)
            self._producers[name] = producer
            thread = threading.Thread(target=self._poll, args=(producer,), name=f"poll-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _poll(self, producer: Producer) -> None:
        while not self._stop.is_set():
            producer.poll(0.05)

    def _on_error(self, err: KafkaError) -> None:
        if err.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT, KafkaError._MSG_TIMED_OUT):
            self._broker_up = False
            self._last_error_at = time.monotonic()

    def probe(self, timeout: float = 2.0) -> bool:
        """Ask a broker for metadata; the result drives health (not the absence of errors)."""
        producer = next(iter(self._producers.values()))
        try:
            metadata = producer.list_topics(timeout=timeout)
            self._broker_up = bool(metadata.brokers)
        except KafkaException:
            self._broker_up = False
        return self._broker_up

    def healthy(self) -> bool:
        return self._broker_up

    async def send(self, records: list[Record], timeout: float) -> Delivery:
        loop = asyncio.get_running_loop()
        tracker = _Tracker(loop, len(records))
        for index, record in enumerate(records):
            producer = self._producers[self._topic_profile[record.topic]]
            try:
                producer.produce(
                    record.topic,
                    record.value,
                    record.key,
                    headers=list(record.headers),
                    on_delivery=_callback(tracker, index, record.topic, self._on_produced),
                )
            except (BufferError, KafkaException) as exc:
                # Not queued at all: settle it as failed now (the spool takes it).
                tracker.settle(index, KafkaError(KafkaError._QUEUE_FULL, str(exc)))
        try:
            await asyncio.wait_for(asyncio.shield(tracker.future), timeout)
        except TimeoutError:
            # Still outstanding counts as not acknowledged. A late ack may still come; replay from
            # the spool then makes a duplicate, which consumers drop by event_id.
            self._broker_up = False
            return Delivery(
                failed=tracker.not_acknowledged(), error=f"no acknowledgement within {timeout:g}s"
            )
        failed = tracker.not_acknowledged()
        if failed:
            self._broker_up = False
        return Delivery(failed=failed, error=tracker.error)

    def close(self, timeout: float) -> int:
        left = 0
        for producer in self._producers.values():
            left += producer.flush(timeout)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        return left


def _callback(tracker: _Tracker, index: int, topic: str, on_produced: Any) -> Any:
    def done(err: KafkaError | None, _msg: object) -> None:
        if err is None and on_produced is not None:
            on_produced(topic, time.perf_counter() - tracker.started)
        tracker.settle(index, err)

    return done


class InMemoryEventSink:
    """Keeps records in a list (tests, dry runs). ``down`` simulates an unreachable broker."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.down = False

    def start(self) -> None:
        return None

    async def send(self, records: list[Record], timeout: float) -> Delivery:
        if self.down:
            return Delivery(failed=list(range(len(records))), error="broker down (in-memory sink)")
        self.records.extend(records)
        return Delivery()

    def probe(self) -> bool:
        return not self.down

    def healthy(self) -> bool:
        return not self.down

    def close(self, timeout: float) -> int:
        return 0
