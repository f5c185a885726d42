"""Burrow-style status of a partition from a sliding window of observations, without thresholds.

One observation per collection round: the committed offset, the lag, and whether it could be read.
Polling the admin API shows where a group's offset *is*, not each commit it sends, so "commits do not
move" is observed as "the committed offset did not move over a full window", and the partition's
assignment tells a stuck consumer (STALL: a member owns the partition) from a gone one (STOP: no
member owns it, so nobody can commit). Rules are evaluated in Burrow's order, first match wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from collectors.model import LagStatus


@dataclass(frozen=True, slots=True)
class Observation:
    committed: int | None  # None: no committed offset (counted by the offset reset rule)
    lag: int
    error: str | None = None  # why this round could not read the partition


def is_err(window: Sequence[Observation]) -> bool:
    # The latest round could not read the partition: nothing below can be judged.
    return bool(window) and window[-1].error is not None


def is_ok(window: Sequence[Observation]) -> bool:
    # Lag was zero somewhere in the window (or now): the consumer catches up; an idle caught-up
    # partition is OK however long since its last commit (Burrow's false STOP on slow topics).
    return any(o.lag == 0 for o in window)


def is_rewind(window: Sequence[Observation]) -> bool:
    # The committed offset went backwards between two rounds (reset or replay).
    return any(a.committed is not None and b.committed is not None and b.committed < a.committed
               for a, b in pairwise(window))


def _unmoved(window: Sequence[Observation], size: int) -> bool:
    return len(window) >= size and len({o.committed for o in window}) == 1 and window[-1].lag > 0


def is_stop(window: Sequence[Observation], size: int, owned: bool) -> bool:
    # No commit for a full window, lag > 0, and no member owns the partition: the consumer is gone.
    return _unmoved(window, size) and not owned


def is_stall(window: Sequence[Observation], size: int, owned: bool) -> bool:
    # Commits do not move for a full window while lag > 0 and a member owns the partition: stuck.
    return _unmoved(window, size) and owned


def is_warn(window: Sequence[Observation], size: int) -> bool:
    # Offsets move but lag never falls over a full window: the consumer is falling behind.
    if len(window) < size or len({o.committed for o in window}) == 1:
        return False
    return all(b.lag >= a.lag for a, b in pairwise(window))


def evaluate(window: Sequence[Observation], size: int, owned: bool) -> LagStatus:
    """Status of one partition; ``size`` is the window length the time-based rules need."""
    if not window or is_err(window):
        return LagStatus.ERR
    if is_ok(window):
        return LagStatus.OK
    if is_rewind(window):
        return LagStatus.REWIND
    if is_stop(window, size, owned):
        return LagStatus.STOP
    if is_stall(window, size, owned):
        return LagStatus.STALL
    if is_warn(window, size):
        return LagStatus.WARN
    return LagStatus.OK


def worst(statuses: Iterable[LagStatus]) -> LagStatus:
    """A group is as bad as its worst partition (LagStatus is ordered by severity)."""
    return max(statuses, default=LagStatus.OK)
