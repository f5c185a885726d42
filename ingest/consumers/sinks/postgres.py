"""PostgreSQL sink (psycopg 3): the replicas of a group may share one database; concurrent claims of
the same event_id are settled by the primary key (INSERT ... ON CONFLICT DO NOTHING RETURNING)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg

from ingest.consumers.sinks.base import SCHEMA, Cursor, SinkEventError, SqlSink

URL_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 10
# Any constant: serialises the CREATE TABLE IF NOT EXISTS of replicas starting together (they race otherwise).
_SCHEMA_LOCK = 7_310_001
_CLAIM = ("INSERT INTO processed_events (event_id, event_type, topic, kafka_partition, kafka_offset, "
          "processed_at) "
          "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::bigint[], %s::text[]) "
          "ON CONFLICT (event_id) DO NOTHING RETURNING event_id")


class PostgresSink(SqlSink):
    def __init__(self, url: str, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(clock)
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None

    @classmethod
    def from_url(cls, url: str) -> PostgresSink:
        if not url.startswith(URL_SCHEMES):
            raise ValueError(f"sink URL {url!r}: expected postgresql://...")
        return cls(url)

    def open(self) -> None:
        self._conn = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in SCHEMA:
                cur.execute(statement)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        if self._conn is None:
            raise RuntimeError("PostgreSQL sink not opened")
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                yield cur
        except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
            raise SinkEventError(str(exc).strip()) from exc

    def _claim(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> set[str]:
        columns = [list(column) for column in zip(*rows, strict=True)]
        cur.execute(_CLAIM, columns)
        return {r[0] for r in cur.fetchall()}

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")
