"""Value types the collectors produce: no I/O here, so policies may import it.

A ``Sample`` is one observed number with its labels and the time it was observed. A ``Snapshot``
is everything one collection round saw, plus what it could *not* see (``stale``/``errors``), so
that policies hold instead of reading a missing value as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum


class LagStatus(IntEnum):
    """Burrow-style evaluation of a partition or group; higher is worse (a group shows its worst)."""

    OK = 0
    WARN = 1
    STALL = 2
    STOP = 3
    REWIND = 4
    ERR = 5


@dataclass(frozen=True, slots=True)
class Sample:
    """One observed value. ``name`` is a signal name such as ``ingest_error_ratio``."""

    name: str
    value: float
    at: datetime
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)

    def describe(self) -> str:
        labels = ",".join(f"{k}={v}" for k, v in self.labels)
        return f"{self.name}{{{labels}}}={self.value:g}@{self.at.isoformat(timespec='seconds')}"


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group has no committed offset here
    end_offset: int
    lag: int  # never negative
    lag_seconds: float | None  # None: cannot be estimated yet (too few observations)
    status: LagStatus
    # How a partition without a committed offset was counted (KEDA's offsetResetPolicy).
    missing_offset_rule: str | None = None


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    state: str  # the broker's group state: Stable, Empty, PreparingRebalance...
    members: int
    partitions: tuple[PartitionLag, ...]
    status: LagStatus

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def lag_seconds(self) -> float | None:
        """The group is as late as its latest partition."""
        values = [p.lag_seconds for p in self.partitions if p.lag_seconds is not None]
        return max(values) if values else None

    @property
    def partition_count(self) -> int:
        return len(self.partitions)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one collection round saw at ``at``.

    ``stale`` names signals that had no recent sample; ``errors`` names sources that failed
    (e.g. ``{"prometheus": "connection refused"}``). Both make dependent policies hold.
    """

    at: datetime
    samples: tuple[Sample, ...] = ()
    groups: tuple[GroupLag, ...] = ()
    stale: frozenset[str] = field(default_factory=frozenset)
    errors: dict[str, str] = field(default_factory=dict)

    def find(self, name: str, **labels: str) -> list[Sample]:
        wanted = set(labels.items())
        return [s for s in self.samples if s.name == name and wanted <= set(s.labels)]

    def group(self, name: str) -> GroupLag | None:
        return next((g for g in self.groups if g.group == name), None)
