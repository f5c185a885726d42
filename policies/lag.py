"""``consumer_lag_scaling``: replicas of a consumer group follow its lag, with hysteresis.

Rules run in order, Burrow-style; the first that decides wins:

1. the kafka source failed                        -> HOLD
2. the group is missing from the snapshot or stale -> HOLD (breach timers restart: unknown is no breach)
3. replicas of the group unknown                   -> HOLD
4. group status ERR, or no partitions seen         -> HOLD
5. the chosen metric cannot be read (lag_seconds not estimable yet) -> HOLD
6. group status STALL, STOP or REWIND              -> HOLD: consumers make no progress, more would not help
7. replicas outside [min_replicas, cap]            -> back inside (cap = min(max_replicas, partitions))
8. above scale_out_above for ``for``               -> scale out by ``step`` (or to drain in ``drain_within``)
9. below scale_in_below for ``scale_in_for``       -> scale in by ``step``
10. otherwise                                      -> NOOP, saying where the value stands
A change wanted within ``cooldown`` of the last change of the group (by anyone) is a HOLD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from collectors.model import GroupLag, LagStatus, Sample, Snapshot
from policies.config import ConsumerLagScalingConfig, format_duration
from policies.model import Decision, Observed, Verdict
from policies.signals import (
    CONSUMER_RATE,
    GROUP_LABEL,
    GROUP_LAG,
    GROUP_LAG_SECONDS,
    GROUP_STATUS,
    SOURCE_KAFKA,
    SOURCE_PROMETHEUS,
    is_stale,
    latest,
)

NO_PROGRESS = frozenset({LagStatus.STALL, LagStatus.STOP, LagStatus.REWIND})


@dataclass(frozen=True, slots=True)
class LagMemory:
    """What one scaling policy remembers between ticks."""

    history: tuple[tuple[datetime, float, int], ...] = ()  # (at, metric value, backlog in messages)
    above_since: datetime | None = None
    below_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """The group as this tick sees it, once the data is known to be usable."""

    group: GroupLag
    replicas: int
    value: float  # the metric, averaged over the window
    growth: float | None  # backlog messages per second over the window (None: one point only)
    evidence: tuple[Sample, ...]


def num(value: float) -> str:
    """Numbers for reasons: integers as such, others with a few significant digits."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) or abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.3g}"


def secs(value: timedelta) -> str:
    return format_duration(value)


class LagScaling:
    """The rules of one ``consumer_lag_scaling`` policy (stateless; memory is passed in and out)."""

    def __init__(self, config: ConsumerLagScalingConfig) -> None:
        self.config = config

    # ---------------------------------------------------------------------------------- decisions
    def _decision(self, verdict: Verdict, replicas: int | None, after: int | None, reason: str,
                  evidence: tuple[Sample, ...] = ()) -> Decision:
        before = {} if replicas is None else {"replicas": replicas}
        return Decision(
            policy=self.config.name,
            verdict=verdict,
            action="scale" if verdict is Verdict.ACT else "none",
            target=self.config.group,
            before=before,
            after=before if after is None else {"replicas": after},
            reason=reason,
            evidence=evidence,
            priority=self.config.priority,
            dry_run=self.config.dry_run,
        )

    def hold(self, reason: str, replicas: int | None = None, evidence: tuple[Sample, ...] = ()) -> Decision:
        return self._decision(Verdict.HOLD, replicas, None, reason, evidence)

    # -------------------------------------------------------------------------------- the reading
    @property
    def label(self) -> str:
        metric = self.config.metric.replace("_", " ")
        window = self.config.window
        return f"{metric} (mean over {secs(window)})" if window > timedelta(0) else metric

    def _metric(self, group: GroupLag) -> float | None:
        return float(group.lag) if self.config.metric == "lag" else group.lag_seconds

    def _evidence(self, group: GroupLag, at: datetime) -> tuple[Sample, ...]:
        labels = ((GROUP_LABEL, group.group),)
        samples = [Sample(GROUP_LAG, float(group.lag), at, labels),
                   Sample(GROUP_STATUS, float(group.status), at, labels)]
        if group.lag_seconds is not None:
            samples.append(Sample(GROUP_LAG_SECONDS, group.lag_seconds, at, labels))
        return tuple(samples)

    def _remember(self, memory: LagMemory, now: datetime, value: float, backlog: int) -> LagMemory:
        # Keep just the window (at least the newest point) so the mean never reads old data.
        start = now - self.config.window
        kept = tuple(p for p in memory.history if p[0] >= start and p[0] < now) + ((now, value, backlog),)
        return replace(memory, history=kept)

    @staticmethod
    def _growth(history: tuple[tuple[datetime, float, int], ...]) -> float | None:
        (first_at, _, first), (last_at, _, last) = history[0], history[-1]
        span = (last_at - first_at).total_seconds()
        return (last - first) / span if span > 0 else None

    def _timers(self, memory: LagMemory, now: datetime, value: float) -> LagMemory:
        above = value > self.config.scale_out_above
        below = value < self.config.scale_in_below
        return replace(
            memory,
            above_since=(memory.above_since or now) if above else None,
            below_since=(memory.below_since or now) if below else None,
        )

    # -------------------------------------------------------------------------------------- rules
    def evaluate(self, snapshot: Snapshot, observed: Observed, memory: LagMemory,
                 last_change: datetime | None, now: datetime) -> tuple[Decision, LagMemory]:
        """One tick. The returned memory assumes the decision is *not* applied (see ``applied``)."""
        config = self.config
        replicas = observed.replicas.get(config.group)
        forget = LagMemory()  # unknown is no breach: timers and the window restart
        if SOURCE_KAFKA in snapshot.errors:
            return self.hold(f"kafka source failed: {snapshot.errors[SOURCE_KAFKA]}", replicas), forget
        group = snapshot.group(config.group)
        if group is None:
            return self.hold(f"group {config.group} missing from the snapshot", replicas), forget
        if is_stale(snapshot, GROUP_LAG, config.group):
            return self.hold(f"lag of group {config.group} is stale", replicas), forget
        evidence = self._evidence(group, snapshot.at)
        if replicas is None:
            return self.hold(f"replicas of group {config.group} unknown", None, evidence), forget
        # ERR means the lag evaluation itself failed: its numbers are not to be trusted.
        if group.status is LagStatus.ERR:
            return self.hold("group status ERR: lag could not be evaluated", replicas, evidence), forget
        # No partitions seen (topic missing, broker maintenance): lag 0 here is not "idle".
        if group.partition_count == 0:
            return self.hold(f"no partitions seen for group {config.group}", replicas, evidence), forget
        value = self._metric(group)
        if value is None:
            return self.hold("lag_seconds not estimable yet", replicas, evidence), forget
        memory = self._remember(memory, now, value, group.lag)
        mean = sum(p[1] for p in memory.history) / len(memory.history)
        memory = self._timers(memory, now, mean)
        reading = Reading(group, replicas, mean, self._growth(memory.history), evidence)
        decision = self._rules(reading, memory, snapshot, now)
        if decision.verdict is Verdict.ACT:
            decision = self._cooldown(decision, last_change, now)
        return decision, memory

    def applied(self, memory: LagMemory) -> LagMemory:
        """Memory after the decision was applied: breaches restart so the new replicas get judged."""
        return replace(memory, above_since=None, below_since=None)

    def _rules(self, r: Reading, memory: LagMemory, snapshot: Snapshot, now: datetime) -> Decision:
        config = self.config
        cap = min(config.max_replicas, r.group.partition_count)
        floor = min(config.min_replicas, cap)
        limits = f"min_replicas {config.min_replicas}, max_replicas {config.max_replicas}, " \
                 f"partitions {r.group.partition_count}"
        # More consumers cannot help a group whose consumers do not advance (or went backwards).
        if r.group.status in NO_PROGRESS:
            return self.hold(f"group status {r.group.status.name}: consumers make no progress, more "
                             f"would not help ({self.label} {num(r.value)})", r.replicas, r.evidence)
        # Out of bounds (someone scaled by hand, or the limits changed): come back inside first.
        if not floor <= r.replicas <= cap:
            target = min(max(r.replicas, floor), cap)
            return self._act(r, target, f"replicas {r.replicas} outside [{floor}, {cap}] ({limits})")
        out = self._breach(memory.above_since, now, config.for_)
        if out is not None:
            return self._scale_out(r, cap, snapshot, out, limits)
        scale_in = self._breach(memory.below_since, now, config.scale_in_for)
        if scale_in is not None:
            return self._scale_in(r, floor, scale_in, limits)
        return self._decision(Verdict.NOOP, r.replicas, None, self._standing(r, memory, now), r.evidence)

    @staticmethod
    def _breach(since: datetime | None, now: datetime, needed: timedelta) -> timedelta | None:
        """How long the breach has held, once it held long enough; else None."""
        if since is None or now - since < needed:
            return None
        return now - since

    def _standing(self, r: Reading, memory: LagMemory, now: datetime) -> str:
        config = self.config
        value = f"{self.label} {num(r.value)}"
        if memory.above_since is not None:
            return f"{value} > {num(config.scale_out_above)} for {secs(now - memory.above_since)} " \
                   f"(for: {secs(config.for_)})"
        if memory.below_since is not None:
            return f"{value} < {num(config.scale_in_below)} for {secs(now - memory.below_since)} " \
                   f"(scale_in_for: {secs(config.scale_in_for)})"
        return f"{value} within [{num(config.scale_in_below)}, {num(config.scale_out_above)}]"

    def _scale_out(self, r: Reading, cap: int, snapshot: Snapshot, held: timedelta, limits: str) -> Decision:
        config = self.config
        why = f"{self.label} {num(r.value)} > {num(config.scale_out_above)} for {secs(held)} " \
              f"(for: {secs(config.for_)})"
        wanted, sizing, evidence = r.replicas + config.step, f"step {config.step}", r.evidence
        if config.drain_within is not None:
            drained, note, extra = self._drain(r, snapshot, config.drain_within)
            sizing, evidence = note, evidence + extra
            wanted = max(wanted, drained or 0)
        target = self._friendly(min(wanted, cap), r, up=True, bound=cap)
        if target <= r.replicas:
            return self._decision(Verdict.NOOP, r.replicas, None,
                                  f"{why}, but replicas {r.replicas} already at the limit {cap} ({limits})",
                                  evidence)
        return self._act(replace(r, evidence=evidence), target, f"{why}; {sizing}")

    def _scale_in(self, r: Reading, floor: int, held: timedelta, limits: str) -> Decision:
        config = self.config
        why = f"{self.label} {num(r.value)} < {num(config.scale_in_below)} for {secs(held)} " \
              f"(scale_in_for: {secs(config.scale_in_for)})"
        target = self._friendly(max(r.replicas - config.step, floor), r, up=False, bound=floor)
        if target >= r.replicas:
            return self._decision(Verdict.NOOP, r.replicas, None,
                                  f"{why}, but replicas {r.replicas} already at the limit {floor} ({limits})",
                                  r.evidence)
        return self._act(r, target, f"{why}; step {config.step}")

    def _drain(self, r: Reading, snapshot: Snapshot,
               within: timedelta) -> tuple[int | None, str, tuple[Sample, ...]]:
        """Replicas that drain the backlog within ``within`` at the observed per-replica rate."""
        rate = None if SOURCE_PROMETHEUS in snapshot.errors else \
            latest(snapshot, CONSUMER_RATE, GROUP_LABEL, self.config.group)
        if rate is None or rate.value <= 0:
            return None, f"step {self.config.step} (no consume rate observed to size a drain)", ()
        per_replica = rate.value / r.replicas
        # Keep up with what arrives (consumed now + backlog growth) and eat the backlog on top.
        needed = rate.value + max(r.growth or 0.0, 0.0) + r.group.lag / within.total_seconds()
        replicas = math.ceil(needed / per_replica)
        note = (f"{replicas} replicas drain {r.group.lag} messages within {secs(within)} at "
                f"{num(per_replica)}/s per replica")
        return replicas, note, (rate,)

    def _friendly(self, target: int, r: Reading, up: bool, bound: int) -> int:
        """Round to a divisor of the partition count when asked, so partitions spread evenly."""
        if not self.config.partition_friendly:
            return target
        partitions = r.group.partition_count
        divisors = [d for d in range(1, partitions + 1) if partitions % d == 0]
        if up:
            fitting = [d for d in divisors if target <= d <= bound]
            return min(fitting) if fitting else target
        fitting = [d for d in divisors if bound <= d <= target]
        return max(fitting) if fitting else target

    def _act(self, r: Reading, target: int, reason: str) -> Decision:
        return self._decision(Verdict.ACT, r.replicas, target,
                              f"{reason}: scale {r.replicas} -> {target}", r.evidence)

    def _cooldown(self, decision: Decision, last_change: datetime | None, now: datetime) -> Decision:
        # A group needs time to rebalance and show the effect of the last change before the next one.
        if last_change is None or now - last_change >= self.config.cooldown:
            return decision
        reason = (f"cooldown: last change of {self.config.group} {secs(now - last_change)} ago "
                  f"(cooldown: {secs(self.config.cooldown)}); wanted: {decision.reason}")
        return replace(decision, verdict=Verdict.HOLD, action="none", after=decision.before, reason=reason)
