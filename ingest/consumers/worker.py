"""The consume -> sink transaction -> DLQ flush -> offset commit loop of one consumer process.

Order matters for exactly-once effects: offsets are committed only after the sink transaction that
recorded the batch's event ids has committed and every dead letter of the batch is acknowledged by
Kafka. A crash in between replays the batch; the sink's ``processed_events`` turns the replay into
duplicates, so nothing is applied twice and nothing is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from ingest.chaos import ChaosSwitches
from ingest.consumers.config import WorkerConfig
from ingest.consumers.events import Event, Rejection, dead_letter, decode, refused
from ingest.consumers.metrics import ConsumerMetrics
from ingest.consumers.sinks import Sink, SinkEventError
from ingest.contracts import ContractRegistry

log = logging.getLogger(__name__)
DLQ_FLUSH_TIMEOUT_S = 30.0


class DeadLetterError(Exception):
    """The DLQ did not acknowledge a dead letter: the batch's offsets must not be committed."""


class ConsumerWorker:
    def __init__(
        self, config: WorkerConfig, sink: Sink, metrics: ConsumerMetrics, contracts: ContractRegistry,
        chaos: ChaosSwitches, *, clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        consumer_factory: Callable[[dict[str, Any]], Consumer] = Consumer,
        producer_factory: Callable[[dict[str, Any]], Producer] = Producer,
    ) -> None:
        self.config = config
        self._sink = sink
        self._metrics = metrics
        self._contracts = contracts
        self._chaos = chaos
        self._clock = clock
        self._sleep = sleep
        self._consumer_factory = consumer_factory
        self._producer_factory = producer_factory
        self._consumer: Consumer | None = None
        self._dlq: Producer | None = None
        self._dlq_errors: list[str] = []
        # Offsets whose effects are in the sink but not yet committed to Kafka (next offset to read).
        self._pending: dict[tuple[str, int], int] = {}

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._sink.open()
        self._dlq = self._producer_factory({"bootstrap.servers": self.config.bootstrap,
                                            **self.config.producer})
        self._consumer = self._consumer_factory({
            "bootstrap.servers": self.config.bootstrap,
            "group.id": self.config.group_id,
            "session.timeout.ms": self.config.session_timeout_ms,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "client.id": f"{self.config.group}-{threading.get_native_id()}",
        })
        self._consumer.subscribe([self.config.topic], on_revoke=self._on_revoke)

    def run(self, stop: threading.Event) -> None:
        """Process batches until ``stop`` is set; the batch in hand is always finished and committed."""
        assert self._consumer is not None, "start() first"  # noqa: S101 - programming error
        while not stop.is_set():
            messages = self._consumer.consume(self.config.batch, self.config.poll_timeout_s)
            if messages:
                self.process(messages)

    def close(self) -> None:
        """Leave the group (its revoke callback commits anything pending), flush the DLQ, close the sink."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._dlq is not None:
            self._dlq.flush(DLQ_FLUSH_TIMEOUT_S)
            self._dlq = None
        self._sink.close()

    # one batch ---------------------------------------------------------------------------------
    def process(self, messages: list[Message]) -> None:
        events: list[Event] = []
        rejections: list[Rejection] = []
        offsets: dict[tuple[str, int], int] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("consume error (librdkafka retries): %s", error)
                continue
            topic, partition, offset = message.topic(), message.partition(), message.offset()
            if topic is None or partition is None or offset is None:  # only error events lack them
                continue
            offsets[(topic, partition)] = offset + 1
            decoded = decode(message.value(), topic, partition, offset, self._contracts,
                             self.config.event_type)
            if isinstance(decoded, Event):
                events.append(decoded)
            else:
                rejections.append(decoded)
        if not offsets:
            return
        topic = self.config.topic
        self._metrics.record_batch(topic, len(messages))
        delay = self._chaos.consumer_delay_s(self.config.group)
        self._metrics.set_chaos_delay(delay)
        if delay > 0 and events:
            self._sleep(delay * len(events))

        applied, duplicates, refusals = self._apply(events)
        rejections.extend(refusals)
        for rejection in rejections:
            self._dead_letter(rejection)
        self._flush_dlq()
        self._pending.update(offsets)
        self._commit(list(offsets))

        now = self._clock()
        by_type: dict[str, int] = {}
        for event in applied:
            by_type[event.event_type] = by_type.get(event.event_type, 0) + 1
        for event_type, count in by_type.items():
            self._metrics.record_processed(topic, event_type, count)
        if duplicates:
            self._metrics.record_duplicates(topic, duplicates)
        self._metrics.record_latencies(topic, [now - e.occurred_at.timestamp() for e in applied])

    def _apply(self, events: list[Event]) -> tuple[list[Event], int, list[Rejection]]:
        """One transaction for the batch; if the sink refuses it, event by event to isolate the culprit."""
        if not events:
            return [], 0, []
        try:
            result = self._sink.apply(events)
            return list(result.applied), len(result.duplicates), []
        except SinkEventError as exc:
            log.warning("sink refused a batch of %d (%s); retrying event by event", len(events), exc)
        applied: list[Event] = []
        duplicates = 0
        refusals: list[Rejection] = []
        for event in events:
            try:
                result = self._sink.apply([event])
            except SinkEventError as exc:
                refusals.append(refused(event, "sink", str(exc)))
                continue
            applied.extend(result.applied)
            duplicates += len(result.duplicates)
        return applied, duplicates, refusals

    # Kafka side --------------------------------------------------------------------------------
    def _dead_letter(self, rejection: Rejection) -> None:
        assert self._dlq is not None  # noqa: S101 - start() set it
        log.warning("dead letter %s[%d]@%d: %s: %s", rejection.topic, rejection.partition, rejection.offset,
                    rejection.reason, rejection.error)
        value = dead_letter(rejection, self.config.group, datetime.fromtimestamp(self._clock(), UTC))
        self._dlq.produce(self.config.dlq_topic, value=value, on_delivery=self._on_dlq_delivery,
                          headers={"reason": rejection.reason, "group": self.config.group})
        self._metrics.record_failed(rejection.topic, rejection.reason)

    def _on_dlq_delivery(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            self._dlq_errors.append(str(error))

    def _flush_dlq(self) -> None:
        assert self._dlq is not None  # noqa: S101 - start() set it
        left = self._dlq.flush(DLQ_FLUSH_TIMEOUT_S)
        if left or self._dlq_errors:
            errors, self._dlq_errors = self._dlq_errors, []
            raise DeadLetterError(f"DLQ {self.config.dlq_topic}: {left} undelivered after "
                                  f"{DLQ_FLUSH_TIMEOUT_S}s, errors: {errors[:3]}")

    def _commit(self, keys: list[tuple[str, int]]) -> None:
        assert self._consumer is not None  # noqa: S101 - start() set it
        partitions = [TopicPartition(t, p, self._pending[(t, p)]) for t, p in keys if (t, p) in self._pending]
        if not partitions:
            return
        try:
            self._consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:
            # Typically a rebalance in flight: whoever gets the partition replays from the last commit and
            # the sink counts the replay as duplicates. Kept pending for the revoke callback to retry.
            log.warning("offset commit failed: %s", exc)
            return
        for tp in partitions:
            if self._pending.get((tp.topic, tp.partition)) == tp.offset:
                del self._pending[(tp.topic, tp.partition)]

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        revoked = [(tp.topic, tp.partition) for tp in partitions]
        self._commit(revoked)
        for key in revoked:
            self._pending.pop(key, None)
