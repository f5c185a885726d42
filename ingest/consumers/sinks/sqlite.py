"""SQLite sink: embedded, WAL mode, shared by the replicas of a group through busy_timeout and
BEGIN IMMEDIATE (one writer at a time; readers are never blocked)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.consumers.sinks.base import INSERT_PROCESSED, SCHEMA, Cursor, SinkEventError, SqlSink

BUSY_TIMEOUT_S = 30.0
URL_PREFIX = "sqlite:///"
# SQLite's default limit on host parameters in one statement is 32766.
_MAX_PARAMS = 30000


class SqliteSink(SqlSink):
    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(clock)
        self.path = path
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def from_url(cls, url: str) -> SqliteSink:
        """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``."""
        if not url.startswith(URL_PREFIX) or len(url) == len(URL_PREFIX):
            raise ValueError(f"sink URL {url!r}: expected sqlite:///PATH")
        return cls(Path(url[len(URL_PREFIX):]))

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE), never implicitly.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed batch survives power loss too; its Kafka offsets are committed right after.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn
        with self._transaction() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        if self._conn is None:
            raise RuntimeError(f"{self.path}: sink not opened")
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except (sqlite3.IntegrityError, sqlite3.DataError) as exc:
            cur.execute("ROLLBACK")
            raise SinkEventError(str(exc)) from exc
        except BaseException:
            if self._conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def _claim(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> set[str]:
        # BEGIN IMMEDIATE holds the write lock: nobody can insert these ids between the read and the write.
        seen: set[str] = set()
        for start in range(0, len(rows), _MAX_PARAMS):
            ids = [r[0] for r in rows[start:start + _MAX_PARAMS]]
            marks = ",".join("?" * len(ids))
            cur.execute(f"SELECT event_id FROM processed_events WHERE event_id IN ({marks})", ids)  # noqa: S608
            seen.update(r[0] for r in cur.fetchall())
        new = [r for r in rows if r[0] not in seen]
        cur.executemany(INSERT_PROCESSED, new)
        return {r[0] for r in new}

    def _sql(self, statement: str) -> str:
        return statement
