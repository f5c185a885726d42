"""The audit log: every decision acted on (or held), every operator action, in SQLite.

``<state_dir>/controlplane.db`` is shared by the control plane process, the CLI and the console:
WAL mode and one short connection per call, so readers and the writer do not block each other.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.model import Sample
from controlplane.model import ActionResult, Result
from controlplane.settings import Settings
from policies.model import Decision

DB_FILE = "controlplane.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT NOT NULL,
    decision TEXT,
    inputs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""


def db_path(settings: Settings) -> Path:
    return settings.state_dir / DB_FILE


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """One short transaction: committed on success, rolled back on error, always closed."""
    with closing(sqlite3.connect(path, timeout=10.0)) as conn, conn:
        conn.execute("PRAGMA busy_timeout = 10000")
        yield conn


def create_schema(path: Path, schema: str) -> None:
    """Make the database file (WAL: the loop writes while CLI and console read) and its tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(schema)


def sample_document(sample: Sample) -> dict[str, Any]:
    return {"name": sample.name, "value": sample.value, "at": sample.at.isoformat(),
            "labels": dict(sample.labels)}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    before: dict[str, int]
    after: dict[str, int]
    result: str
    reason: str
    decision: dict[str, Any] | None
    inputs: list[dict[str, Any]]

    def to_document(self) -> dict[str, Any]:
        """DESIGN 3.4 ``audit`` entry; ``decision`` and ``inputs`` are additions."""
        return {"at": self.at, "actor": self.actor, "action": self.action, "target": self.target,
                "before": self.before, "after": self.after, "result": self.result, "reason": self.reason,
                "decision": self.decision, "inputs": self.inputs}


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def start(self) -> None:
        create_schema(self.path, SCHEMA)

    def record(self, result: ActionResult, decision: Decision | None = None,
               inputs: Sequence[Sample] = ()) -> int:
        summary = None if decision is None else json.dumps(
            {"policy": decision.policy, "verdict": decision.verdict.value, "action": decision.action,
             "dry_run": decision.dry_run, "reason": decision.reason})
        evidence = list(inputs) or list(decision.evidence if decision else ())
        with connect(self.path) as conn:
            cursor = conn.execute(
                "INSERT INTO audit (at, actor, action, target, before, after, result, reason, decision, "
                "inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_iso(result.at), result.actor, result.action, result.target, json.dumps(result.before),
                 json.dumps(result.after), result.result.value, result.reason, summary,
                 json.dumps([sample_document(s) for s in evidence])))
            return int(cursor.lastrowid or 0)

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Newest first (ties broken by insertion order)."""
        query = "SELECT id, at, actor, action, target, before, after, result, reason, decision, inputs " \
                "FROM audit ORDER BY at DESC, id DESC"
        params: tuple[int, ...] = ()
        if limit is not None:
            query += " LIMIT ?"
            params = (limit,)
        with connect(self.path) as conn:
            rows = conn.execute(query, params).fetchall()
        return [AuditEntry(id=row[0], at=row[1], actor=row[2], action=row[3], target=row[4],
                           before=json.loads(row[5]), after=json.loads(row[6]), result=Result(row[7]).value,
                           reason=row[8], decision=None if row[9] is None else json.loads(row[9]),
                           inputs=json.loads(row[10]))
                for row in rows]


def _iso(at: datetime) -> str:
    # Fixed width UTC so that text order is time order.
    if at.tzinfo is None:
        raise ValueError(f"audit times must be timezone-aware, got {at!r}")
    return at.astimezone(UTC).isoformat(timespec="milliseconds")
