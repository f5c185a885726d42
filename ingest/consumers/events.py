"""Decode Kafka records into validated events, or into the reason they go to the dead-letter queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ingest.contracts import ContractRegistry


@dataclass(frozen=True, slots=True)
class Event:
    """A schema-valid event with where it came from in Kafka."""

    event_id: str
    event_type: str
    occurred_at: datetime  # aware, UTC
    session_id: str
    user_id: str | None
    payload: dict[str, Any]
    topic: str
    partition: int
    offset: int
    document: dict[str, Any]  # as received: what the DLQ gets if the sink refuses the event

    @property
    def minute(self) -> str:
        """The UTC minute the event belongs to, e.g. ``2026-11-24T10:00:00Z``."""
        return self.occurred_at.strftime("%Y-%m-%dT%H:%M:00Z")


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that cannot be processed; ``reason`` labels metrics, ``error`` is for humans."""

    reason: str
    error: str
    topic: str
    partition: int
    offset: int
    event: Any = None  # the decoded document when there was one
    raw: str | None = None  # the undecodable bytes, as text, otherwise


def decode(
    value: bytes | None, topic: str, partition: int, offset: int,
    contracts: ContractRegistry, expected_type: str,
) -> Event | Rejection:
    """One Kafka record value -> Event, or the Rejection saying why not (never raises)."""
    if value is None:
        return Rejection("decode", "record has no value", topic, partition, offset)
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return Rejection("decode", f"not valid JSON: {exc}", topic, partition, offset,
                         raw=value.decode("utf-8", errors="replace"))
    outcome = contracts.validate(document)
    if not outcome.ok:
        reason = outcome.reason or "schema"
        return Rejection(reason, outcome.message, topic, partition, offset, event=document)
    if outcome.event_type != expected_type:
        return Rejection("wrong_topic", f"event_type: {outcome.event_type!r} does not belong on {topic} "
                         f"(expected {expected_type!r})", topic, partition, offset, event=document)
    try:
        occurred = datetime.fromisoformat(document["occurred_at"])
    except ValueError as exc:
        return Rejection("schema", f"occurred_at: {exc}", topic, partition, offset, event=document)
    # A date-time without offset is read as UTC rather than as the consumer's local time.
    occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred.astimezone(UTC)
    return Event(
        event_id=document["event_id"], event_type=document["event_type"], occurred_at=occurred,
        session_id=document["session_id"], user_id=document["user_id"], payload=document["payload"],
        topic=topic, partition=partition, offset=offset, document=document,
    )


def refused(event: Event, reason: str, error: str) -> Rejection:
    """A valid event that the sink could not take (e.g. a constraint it breaks on its own)."""
    return Rejection(reason, error, event.topic, event.partition, event.offset, event=event.document)


def dead_letter(rejection: Rejection, group: str, at: datetime) -> bytes:
    """The DLQ document (same shape as the gateway's, with ``group`` in place of ``gateway``)."""
    document: dict[str, Any] = {
        "reason": rejection.reason, "error": rejection.error, "group": group,
        "at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "source": {"topic": rejection.topic, "partition": rejection.partition, "offset": rejection.offset},
    }
    if rejection.raw is not None or rejection.event is None:
        document["raw"] = rejection.raw
    else:
        document["event"] = rejection.event
    return orjson.dumps(document)
