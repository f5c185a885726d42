"""What every sink does, in SQL both SQLite and PostgreSQL understand; the adapters add the dialect.

One transaction per batch holds the ``processed_events`` rows and the effects of the new events, so
an event is either fully applied and recorded, or neither; a redelivered event finds its id and is
counted as a duplicate without touching the aggregates.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ingest.consumers.events import Event

NO_PRODUCT = "(none)"

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS processed_events (
        event_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, topic TEXT NOT NULL,
        kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL, processed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS page_views_per_minute (
        product_id TEXT NOT NULL, minute TEXT NOT NULL, views BIGINT NOT NULL,
        PRIMARY KEY (product_id, minute))""",
    """CREATE TABLE IF NOT EXISTS carts (
        session_id TEXT NOT NULL, product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
        unit_price NUMERIC NOT NULL, currency TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (session_id, product_id))""",
    """CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, session_id TEXT NOT NULL, user_id TEXT,
        total NUMERIC NOT NULL, currency TEXT NOT NULL, payment_method TEXT NOT NULL,
        occurred_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS order_items (
        order_id TEXT NOT NULL REFERENCES orders (order_id), line_no INTEGER NOT NULL,
        product_id TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price NUMERIC NOT NULL,
        PRIMARY KEY (order_id, line_no))""",
)

# Statements use "?" placeholders; an adapter whose driver wants another style rewrites them.
INSERT_PROCESSED = ("INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, "
                    "kafka_offset, processed_at) VALUES (?, ?, ?, ?, ?, ?)")
UPSERT_VIEWS = ("INSERT INTO page_views_per_minute (product_id, minute, views) VALUES (?, ?, ?) "
                "ON CONFLICT (product_id, minute) DO UPDATE SET "
                "views = page_views_per_minute.views + excluded.views")
CART_ADD = ("INSERT INTO carts (session_id, product_id, quantity, unit_price, currency, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, product_id) DO UPDATE SET "
            "quantity = carts.quantity + excluded.quantity, unit_price = excluded.unit_price, "
            "currency = excluded.currency, updated_at = excluded.updated_at")
CART_UPDATE = ("INSERT INTO carts (session_id, product_id, quantity, unit_price, currency, updated_at) "
               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, product_id) DO UPDATE SET "
               "quantity = excluded.quantity, unit_price = excluded.unit_price, "
               "currency = excluded.currency, updated_at = excluded.updated_at")
# remove: quantity 0 means "the whole line"; otherwise take that many off, never below zero.
CART_REMOVE = ("UPDATE carts SET quantity = CASE WHEN ? = 0 OR quantity <= ? THEN 0 ELSE quantity - ? END, "
               "updated_at = ? WHERE session_id = ? AND product_id = ?")
CART_PRUNE = "DELETE FROM carts WHERE session_id = ? AND product_id = ? AND quantity <= 0"
INSERT_ORDER = ("INSERT INTO orders (order_id, event_id, session_id, user_id, total, currency, "
                "payment_method, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_ITEM = ("INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price) "
               "VALUES (?, ?, ?, ?, ?)")


class Cursor(Protocol):
    def execute(self, query: Any, params: Any = ..., /) -> Any: ...
    def executemany(self, query: Any, params_seq: Any, /) -> Any: ...
    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class ApplyResult:
    applied: tuple[Event, ...]  # new: their effects are now in the sink
    duplicates: tuple[Event, ...]  # their event_id was already processed (earlier, or earlier in the batch)


class SinkEventError(Exception):
    """The sink refused the data itself (a constraint, a value it cannot store), not a sink outage.

    Raised from :meth:`Sink.apply`; the worker then retries event by event to isolate the culprit.
    """


class Sink(Protocol):
    def open(self) -> None: ...
    def apply(self, events: Sequence[Event]) -> ApplyResult: ...
    def close(self) -> None: ...


class SqlSink(ABC):
    """Shared batch logic; subclasses supply the connection, transaction and id claiming."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one write transaction; commits on exit, rolls back and raises
        :class:`SinkEventError` for data errors (other errors propagate as they are)."""

    @abstractmethod
    def _claim(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> set[str]:
        """Insert the processed_events rows not present yet; return the event ids actually inserted."""

    @abstractmethod
    def _sql(self, statement: str) -> str:
        """The statement in the driver's placeholder style."""

    def apply(self, events: Sequence[Event]) -> ApplyResult:
        unique: dict[str, Event] = {}
        repeated: list[Event] = []
        for event in events:
            if event.event_id in unique:
                repeated.append(event)
            else:
                unique[event.event_id] = event
        if not unique:
            return ApplyResult((), tuple(repeated))
        now = self._clock().isoformat()
        rows = [(e.event_id, e.event_type, e.topic, e.partition, e.offset, now) for e in unique.values()]
        with self._transaction() as cur:
            claimed = self._claim(cur, rows)
            new = [e for e in unique.values() if e.event_id in claimed]
            self._write_effects(cur, new)
        repeated.extend(e for e in unique.values() if e.event_id not in claimed)
        return ApplyResult(tuple(new), tuple(repeated))

    def _write_effects(self, cur: Cursor, events: list[Event]) -> None:
        views = Counter((e.payload.get("product_id") or NO_PRODUCT, e.minute)
                        for e in events if e.event_type == "page_view")
        if views:
            cur.executemany(self._sql(UPSERT_VIEWS), [(p, m, n) for (p, m), n in views.items()])
        touched: dict[tuple[str, str], None] = {}
        for event in _of_type(events, "cart"):  # in offset order: a session's changes fold in order
            p = event.payload
            at = _iso(event.occurred_at)
            key = (event.session_id, p["product_id"])
            if p["action"] == "remove":
                q = p["quantity"]
                cur.execute(self._sql(CART_REMOVE), (q, q, q, at, *key))
            else:
                statement = CART_ADD if p["action"] == "add" else CART_UPDATE
                cur.execute(self._sql(statement), (*key, p["quantity"], p["unit_price"], p["currency"], at))
            touched[key] = None
        if touched:
            cur.executemany(self._sql(CART_PRUNE), list(touched))
        purchases = list(_of_type(events, "purchase"))
        if purchases:
            cur.executemany(self._sql(INSERT_ORDER), [
                (e.payload["order_id"], e.event_id, e.session_id, e.user_id, e.payload["total"],
                 e.payload["currency"], e.payload["payment_method"], _iso(e.occurred_at)) for e in purchases
            ])
            cur.executemany(self._sql(INSERT_ITEM), [
                (e.payload["order_id"], line, item["product_id"], item["quantity"], item["unit_price"])
                for e in purchases for line, item in enumerate(e.payload["items"], start=1)
            ])


def _of_type(events: list[Event], event_type: str) -> Iterator[Event]:
    return (e for e in events if e.event_type == event_type)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
