"""Lag in seconds, estimated from a per-partition table of observed (end offset, time) points.

Semantic: ``lag_seconds ~= now - t(c)`` where ``c`` is the committed offset (the oldest unconsumed
message) and ``t(c)`` is when that message was produced. No message is read: ``t(c)`` is estimated
from when the log end offset was seen to pass ``c``. kafka-lag-exporter does the same and is known
for four failures; each is bounded here (see the tests in tests/unit/test_lag_seconds.py):

1. Absurd values in bursts: we never extrapolate a rate. Each point keeps the first and the last
   time its end offset was seen, so a message in ``[a.offset, b.offset)`` was produced in
   ``(a.last_seen, b.first_seen]``; the estimate is interpolated *inside* that interval, whatever
   the burst did, so its error is at most one poll interval.
2. Growth while the end offset is static: if the consumer is stuck, the oldest unconsumed message
   really does get older, so lag_seconds grows at exactly 1 s per s of wall time. What must not
   happen (and cannot here) is ``t(c)`` drifting: a static end offset only moves the newest point's
   ``last_seen``, never the ``first_seen`` that bounds older messages, so ``t(c)`` is fixed once
   observed and the value never grows faster than the clock, nor grows while the consumer catches up.
3. "Years" for a consumer replaying from the start: a committed offset older than the table's oldest
   point is not extrapolated; we answer ``now - oldest.first_seen`` and flag it as a lower bound.
4. Values bouncing between 0 and the poll interval: committed == end offset is exactly 0; a consumer
   a few messages behind reads a few messages' share of the interval, continuous with that 0.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LagSecondsEstimate:
    seconds: float
    # True when the message is older than the table: the real lag is at least ``seconds``.
    lower_bound: bool = False


ZERO = LagSecondsEstimate(0.0)


@dataclass(slots=True)
class _Point:
    offset: int
    first_seen: float
    last_seen: float


class OffsetTable:
    """Observed end offsets of one partition over time, at most ``capacity`` distinct points.

    When full, the two adjacent segments spanning the least time are merged (an interior point is
    dropped): the oldest point stays, so coverage never shrinks, only resolution of old history.
    Merging keeps the invariant of rule 1 because the merged segment's bounds are real observations.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError(f"offset table capacity {capacity} < 2: interpolation needs two points")
        self._capacity = capacity
        self._points: list[_Point] = []
        self._offsets: list[int] = []

    def __len__(self) -> int:
        return len(self._points)

    @property
    def end_offset(self) -> int | None:
        return self._offsets[-1] if self._offsets else None

    def observe(self, end_offset: int, at: float) -> None:
        if self._points:
            newest = self._points[-1]
            if at < newest.last_seen:
                return  # out-of-order observation: keeping times monotonic keeps every bound valid
            if end_offset < newest.offset:
                # The log went backwards (topic recreated or truncated): old points describe another log.
                self._points.clear()
                self._offsets.clear()
            elif end_offset == newest.offset:
                newest.last_seen = at
                return
        self._points.append(_Point(end_offset, at, at))
        self._offsets.append(end_offset)
        if len(self._points) > self._capacity:
            self._merge_shortest()

    def _merge_shortest(self) -> None:
        points = self._points
        drop = min(range(1, len(points) - 1),
                   key=lambda i: points[i + 1].first_seen - points[i - 1].last_seen)
        del points[drop]
        del self._offsets[drop]

    def estimate(self, committed: int, now: float) -> LagSecondsEstimate | None:
        """Estimated age of the message at ``committed``; None when the table cannot tell yet."""
        end = self.end_offset
        if end is None:
            return None
        if committed >= end:
            return ZERO  # nothing unconsumed: exactly 0, never a residue of the poll interval (rule 4)
        after = bisect_right(self._offsets, committed)  # first point whose end offset passed ``committed``
        if after == 0:
            # Older than the table (rule 3): it existed when we first looked, so at least that old.
            seconds = now - self._points[0].first_seen
            return LagSecondsEstimate(seconds, lower_bound=True) if seconds > 0 else None
        before, passed = self._points[after - 1], self._points[after]
        # Message ``committed`` is number (committed - before.offset + 1) of the (passed - before)
        # produced in (before.last_seen, passed.first_seen]: assume them evenly spread; use mid-slot.
        share = (committed - before.offset + 0.5) / (passed.offset - before.offset)
        produced = before.last_seen + share * (passed.first_seen - before.last_seen)
        return LagSecondsEstimate(max(now - produced, 0.0))
