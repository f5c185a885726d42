"""The policies' value type: a Decision (pure data; the control plane acts on it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from collectors.model import Sample


class Verdict(StrEnum):
    ACT = "act"  # change something
    HOLD = "hold"  # inconclusive (missing/stale data, paused, cooldown...): change nothing
    NOOP = "noop"  # conclusive, nothing to do


@dataclass(frozen=True, slots=True)
class Decision:
    policy: str
    verdict: Verdict
    action: str  # "scale", "set_weights", "none"
    target: str  # consumer group or Route 53 record
    before: dict[str, int]
    after: dict[str, int]
    reason: str  # observed value and limit, e.g. "lag 12500 > 1000 for 60s"
    evidence: tuple[Sample, ...] = ()
    priority: int = 0
