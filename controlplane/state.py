"""Operator switches the loop reads every tick: per-policy pause, global pause, dry run.

Kept in the audit database (``<state_dir>/controlplane.db``), written by the CLI and the console
(through ``controlplane.operations``, which audits every change).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from controlplane.audit import connect, create_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_pause (
    name TEXT PRIMARY KEY, paused INTEGER NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS flags (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL
);
"""
PAUSE_ALL = "pause_all"
DRY_RUN = "dry_run"


@dataclass(frozen=True, slots=True)
class ControlState:
    paused_all: bool = False
    # Only policies an operator paused or resumed; the others keep ``paused`` from their file.
    paused: dict[str, bool] = field(default_factory=dict)
    dry_run: bool = False

    def is_paused(self, name: str, default: bool = False) -> bool:
        return self.paused_all or self.paused.get(name, default)


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def start(self) -> None:
        create_schema(self.path, SCHEMA)

    def read(self) -> ControlState:
        with connect(self.path) as conn:
            paused = {str(n): bool(p) for n, p in conn.execute("SELECT name, paused FROM policy_pause")}
            flags = {str(k): bool(v) for k, v in conn.execute("SELECT key, value FROM flags")}
        return ControlState(paused_all=flags.get(PAUSE_ALL, False), paused=paused,
                            dry_run=flags.get(DRY_RUN, False))

    def set_paused(self, name: str | None, paused: bool, by: str, at: datetime) -> None:
        """Pause or resume one policy, or everything when ``name`` is None."""
        with connect(self.path) as conn:
            if name is None:
                self._set_flag(conn, PAUSE_ALL, paused, by, at)
            else:
                conn.execute("INSERT INTO policy_pause (name, paused, by, at) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT(name) DO UPDATE SET paused = excluded.paused, by = excluded.by, "
                             "at = excluded.at", (name, int(paused), by, at.isoformat()))

    def set_dry_run(self, flag: bool, by: str, at: datetime) -> None:
        with connect(self.path) as conn:
            self._set_flag(conn, DRY_RUN, flag, by, at)

    @staticmethod
    def _set_flag(conn: sqlite3.Connection, key: str, value: bool, by: str, at: datetime) -> None:
        conn.execute("INSERT INTO flags (key, value, by, at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value, by = excluded.by, "
                     "at = excluded.at",
                     (key, int(value), by, at.isoformat()))
