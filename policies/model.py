"""The policies' value types: a Decision (pure data; the control plane acts on it) and Observed
(the current state of the targets, which the control plane reads from its actuators and passes in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from collectors.model import Sample, Snapshot


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
    # The caller records an ACT with dry_run set as "dry-run" and changes nothing.
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Observed:
    """What the targets look like now, as the actuators report it (not read from the Snapshot).

    ``weights``: record -> set identifier -> weight; ``replicas``: consumer group -> replicas.
    """

    weights: dict[str, dict[str, int]] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tick:
    """Everything one evaluation round may look at (built by the engine for each policy)."""

    snapshot: Snapshot
    observed: Observed
    now: datetime
    last_change: dict[str, datetime]  # target -> when it last changed, by a policy or by hand
