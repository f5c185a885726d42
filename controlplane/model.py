"""The control plane's value type: what applying a decision did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Result(StrEnum):
    APPLIED = "applied"
    DRY_RUN = "dry-run"
    HELD = "held"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ActionResult:
    at: datetime
    actor: str  # "policy:NAME" or "user:NAME"
    action: str
    target: str
    before: dict[str, int]
    after: dict[str, int]
    result: Result
    reason: str
