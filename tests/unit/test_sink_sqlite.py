"""The SQLite sink: exactly-once effects by event_id, aggregation, cart folding, order constraints."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.consumers.events import Event
from ingest.consumers.sinks import SinkEventError, sink_from_url
from ingest.consumers.sinks.sqlite import SqliteSink

AT = datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC)


def event(event_type: str, payload: dict[str, Any], *, event_id: str | None = None, offset: int = 0,
          session: str = "s-1", at: datetime = AT) -> Event:
    eid = event_id or str(uuid.uuid4())
    return Event(eid, event_type, at, session, None, payload, "t", 0, offset, {"event_id": eid})


def view(product: str | None, **kw: Any) -> Event:
    return event("page_view", {"url": "/p", "referrer": None, "product_id": product}, **kw)


def cart(action: str, product: str, quantity: int, price: float = 2.5, **kw: Any) -> Event:
    return event("cart", {"action": action, "product_id": product, "quantity": quantity, "unit_price": price,
                          "currency": "EUR"}, **kw)


def purchase(order: str, items: list[tuple[str, int, float]], **kw: Any) -> Event:
    lines = [{"product_id": i, "quantity": q, "unit_price": p} for i, q, p in items]
    return event("purchase", {"order_id": order, "total": sum(q * p for _, q, p in items), "currency": "EUR",
                              "payment_method": "card", "items": lines}, **kw)


@pytest.fixture()
def sink(tmp_path: Path) -> Iterator[SqliteSink]:
    s = SqliteSink(tmp_path / "sink.db", clock=lambda: AT)
    s.open()
    yield s
    s.close()


def rows(sink: SqliteSink, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(sink.path) as conn:
        return conn.execute(query).fetchall()


def test_duplicates_change_nothing(sink: SqliteSink) -> None:
    batch = [view("p1"), view("p1"), view(None)]
    first = sink.apply(batch)
    again = sink.apply([*batch, batch[0]])
    assert (len(first.applied), len(first.duplicates)) == (3, 0)
    assert (len(again.applied), len(again.duplicates)) == (0, 4)
    assert sorted(rows(sink, "SELECT product_id, minute, views FROM page_views_per_minute")) == [
        ("(none)", "2026-11-24T10:00:00Z", 1), ("p1", "2026-11-24T10:00:00Z", 2)]
    assert rows(sink, "SELECT count(*) FROM processed_events") == [(3,)]


def test_repeated_id_within_one_batch_counts_once(sink: SqliteSink) -> None:
    twice = view("p1")
    result = sink.apply([twice, twice])
    assert (len(result.applied), len(result.duplicates)) == (1, 1)
    assert rows(sink, "SELECT views FROM page_views_per_minute") == [(1,)]


@pytest.mark.parametrize(("actions", "expected"), [
    ([("add", 2), ("add", 3)], [("p1", 5)]),
    ([("add", 2), ("remove", 1)], [("p1", 1)]),
    ([("add", 2), ("remove", 5)], []),
    ([("add", 2), ("remove", 0)], []),
    ([("add", 2), ("update", 7)], [("p1", 7)]),
    ([("add", 2), ("update", 0)], []),
    ([("remove", 1)], []),
    ([("add", 2), ("remove", 2), ("add", 1)], [("p1", 1)]),
])
def test_cart_folds_actions_in_order(sink: SqliteSink, actions: list[tuple[str, int]],
                                     expected: list[tuple[str, int]]) -> None:
    # Half in one batch, the rest in the next: the result must not depend on batch boundaries.
    events = [cart(a, "p1", q, offset=i) for i, (a, q) in enumerate(actions)]
    sink.apply(events[:1])
    sink.apply(events[1:])
    assert rows(sink, "SELECT product_id, quantity FROM carts") == expected


def test_purchase_writes_order_and_items(sink: SqliteSink) -> None:
    sink.apply([purchase("o-1", [("p1", 2, 3.0), ("p2", 1, 4.5)])])
    assert rows(sink, "SELECT order_id, total, currency FROM orders") == [("o-1", 10.5, "EUR")]
    assert rows(sink, "SELECT line_no, product_id, quantity FROM order_items ORDER BY line_no") == [
        (1, "p1", 2), (2, "p2", 1)]


def test_constraint_violation_rolls_back_the_whole_batch(sink: SqliteSink) -> None:
    sink.apply([purchase("o-1", [("p1", 1, 1.0)])])
    with pytest.raises(SinkEventError, match="UNIQUE"):
        sink.apply([view("p1"), purchase("o-1", [("p9", 1, 1.0)])])
    assert rows(sink, "SELECT count(*) FROM processed_events") == [(1,)]
    assert rows(sink, "SELECT count(*) FROM page_views_per_minute") == [(0,)]


@pytest.mark.parametrize(("url", "error"), [
    ("mysql://db/x", "unknown scheme 'mysql'"),
    ("sqlite:///", "expected sqlite:///PATH"),
    ("no-scheme", "unknown scheme"),
])
def test_bad_sink_urls_are_refused(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        sink_from_url(url)


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///rel/x.db", Path("rel/x.db")),
    ("sqlite:////abs/x.db", Path("/abs/x.db")),
])
def test_sqlite_urls(url: str, path: Path) -> None:
    s = sink_from_url(url)
    assert isinstance(s, SqliteSink) and s.path == path
