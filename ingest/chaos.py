"""Game-day switches shared by the data-plane processes through one small JSON file.

`ecomctl chaos ...` writes ``<state_dir>/chaos.json``; gateways and consumers re-read it when its
mtime changes (checked at most once a second), so a switch reaches every replica, including ones
started later, without any extra endpoint. A missing or unreadable file means "no chaos".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHAOS_FILE = "chaos.json"


class ChaosSwitches:
    def __init__(self, path: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._clock = clock
        self._checked_at = float("-inf")
        self._mtime: float | None = None
        self._data: dict[str, Any] = {}

    def _refresh(self) -> None:
        now = self._clock()
        if self._path is None or now - self._checked_at < 1.0:
            return
        self._checked_at = now
        try:
            mtime = self._path.stat().st_mtime
        except OSError:
            self._mtime, self._data = None, {}
            return
        if mtime != self._mtime:
            try:
                self._data = json.loads(self._path.read_text())
            except (OSError, ValueError):
                self._data = {}
            self._mtime = mtime

    def consumer_delay_s(self, group: str) -> float:
        self._refresh()
        return float(self._data.get("consumer_delay_ms", {}).get(group, 0)) / 1000.0

    def gateway_fail_ratio(self, gateway: str) -> float:
        self._refresh()
        return float(self._data.get("gateway_fail_ratio", {}).get(gateway, 0.0))


def write_switch(path: Path, kind: str, name: str, value: float) -> dict[str, Any]:
    """Set one switch (0 removes it); returns the previous value map of that kind. Atomic replace."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    before = dict(data.get(kind, {}))
    current = dict(before)
    if value:
        current[name] = value
    else:
        current.pop(name, None)
    data[kind] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
    return before
