"""``ingest_traffic_shift``: move Route 53 weight away from an unhealthy gateway, and back, by steps.

Flagger-style analysis of the ``from`` gateway: every tick is one check of its error ratio, p99
latency and readiness.

- A check *fails* when ``from`` is not ready, or its error ratio or p99 is above the limit.
- After ``threshold`` consecutive failed checks, ``step_weight`` moves from ``from`` to ``to`` (never
  past ``max_weight`` for ``to``, never below 0 for ``from``); the count restarts, so each further
  ``threshold`` failed checks is another step.
- Recovery: once ``from`` has been healthy for ``recover_after``, one step moves back; then one more
  step every ``recover_step_every`` (default ``recover_after``) while it stays healthy. A failed or
  inconclusive check restarts the healthy time. Only weight this policy moved is moved back.
- Inconclusive (HOLD, counts neither way, healthy time restarts): prometheus failed, a signal missing,
  NaN or stale, or no traffic (``ingest_rate`` at or below ``min_rate``: "no values found") unless
  ``when_no_traffic: readiness``. Readiness of ``from`` is conclusive on its own when it is 0.
- Weight never moves to a ``to`` that is not ready. Observed weights outside 0..255 or all zero are
  refused (HOLD); a move keeps the sum, so the result is never all zero either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from collectors.model import Sample, Snapshot
from policies.config import WEIGHT_MAX, IngestTrafficShiftConfig, format_duration
from policies.model import Decision, Observed, Verdict
from policies.signals import (
    GATEWAY_LABEL,
    INGEST_ERROR_RATIO,
    INGEST_LATENCY_P99_MS,
    INGEST_RATE,
    INGEST_READY,
    SOURCE_PROMETHEUS,
    latest,
)


@dataclass(frozen=True, slots=True)
class ShiftMemory:
    """What one traffic-shift policy remembers between ticks."""

    failed_checks: int = 0
    healthy_since: datetime | None = None
    last_step_back: datetime | None = None
    shifted: int = 0  # weight this policy moved to `to` and has not moved back yet


class Outcome(Enum):
    FAILED = "failed"
    HEALTHY = "healthy"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Check:
    outcome: Outcome
    detail: str
    evidence: tuple[Sample, ...]


def num(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.3g}"


def weights_problem(weights: dict[str, int]) -> str | None:
    """Why a set of weights cannot be used, or None. Route 53 takes 0..255; all zero splits evenly."""
    bad = {k: v for k, v in weights.items() if not 0 <= v <= WEIGHT_MAX}
    if bad:
        return f"weights {bad} outside 0..{WEIGHT_MAX}"
    if not any(weights.values()):
        return f"weights {weights} are all zero"
    return None


class TrafficShift:
    """The rules of one ``ingest_traffic_shift`` policy (stateless; memory is passed in and out)."""

    def __init__(self, config: IngestTrafficShiftConfig) -> None:
        self.config = config

    def _decision(self, verdict: Verdict, before: dict[str, int], after: dict[str, int] | None, reason: str,
                  evidence: tuple[Sample, ...] = ()) -> Decision:
        return Decision(
            policy=self.config.name,
            verdict=verdict,
            action="set_weights" if verdict is Verdict.ACT else "none",
            target=self.config.record,
            before=dict(before),
            after=dict(before if after is None else after),
            reason=reason,
            evidence=evidence,
            priority=self.config.priority,
            dry_run=self.config.dry_run,
        )

    # -------------------------------------------------------------------------------- the check
    def _signal(self, snapshot: Snapshot, name: str, gateway: str) -> Sample | None:
        return latest(snapshot, name, GATEWAY_LABEL, gateway)

    def check(self, snapshot: Snapshot) -> Check:
        """One Flagger-style check of the ``from`` gateway."""
        config, gateway = self.config, self.config.from_
        ready = self._signal(snapshot, INGEST_READY, gateway)
        if ready is None:
            return Check(Outcome.INCONCLUSIVE, f"{INGEST_READY} of {gateway} missing or stale", ())
        # Not ready is conclusive without traffic: the gateway itself says it cannot take events.
        if ready.value < 1:
            return Check(Outcome.FAILED, f"{gateway} not ready ({INGEST_READY} {num(ready.value)})", (ready,))
        rate = self._signal(snapshot, INGEST_RATE, gateway)
        if rate is None:
            return Check(Outcome.INCONCLUSIVE, f"{INGEST_RATE} of {gateway} missing or stale", (ready,))
        # No traffic means no values: a ratio or a quantile of nothing proves nothing.
        if rate.value <= config.min_rate:
            idle = f"no traffic on {gateway} ({INGEST_RATE} {num(rate.value)} <= " \
                   f"min_rate {num(config.min_rate)})"
            if config.when_no_traffic == "readiness":
                return Check(Outcome.HEALTHY, f"{idle}, judged by readiness: ready", (ready, rate))
            return Check(Outcome.INCONCLUSIVE, f"{idle}: no values to judge", (ready, rate))
        errors = self._signal(snapshot, INGEST_ERROR_RATIO, gateway)
        p99 = self._signal(snapshot, INGEST_LATENCY_P99_MS, gateway)
        if errors is None or p99 is None:
            pairs = ((INGEST_ERROR_RATIO, errors), (INGEST_LATENCY_P99_MS, p99))
            missing = [name for name, sample in pairs if sample is None]
            return Check(Outcome.INCONCLUSIVE, f"{', '.join(missing)} of {gateway} missing or stale",
                         (ready, rate))
        evidence = (ready, rate, errors, p99)
        failures = []
        if errors.value > config.error_ratio_above:
            failures.append(f"error_ratio {num(errors.value)} > {num(config.error_ratio_above)}")
        if p99.value > config.p99_ms_above:
            failures.append(f"p99 {num(p99.value)}ms > {num(config.p99_ms_above)}ms")
        if failures:
            return Check(Outcome.FAILED, f"{gateway} " + ", ".join(failures), evidence)
        return Check(Outcome.HEALTHY, f"{gateway} healthy: error_ratio {num(errors.value)} <= "
                     f"{num(config.error_ratio_above)}, p99 {num(p99.value)}ms <= "
                     f"{num(config.p99_ms_above)}ms, ready", evidence)

    # -------------------------------------------------------------------------------------- rules
    def evaluate(self, snapshot: Snapshot, observed: Observed, memory: ShiftMemory,
                 now: datetime) -> tuple[Decision, ShiftMemory]:
        """One tick. The returned memory assumes the decision is *not* applied (see ``applied``)."""
        config = self.config
        weights = observed.weights.get(config.record)
        unsure = replace(memory, healthy_since=None)  # never count an unknown tick as healthy
        if SOURCE_PROMETHEUS in snapshot.errors:
            failure = snapshot.errors[SOURCE_PROMETHEUS]
            return self._hold(weights, f"prometheus source failed: {failure}"), unsure
        if weights is None:
            return self._hold(None, f"weights of record {config.record} unknown"), unsure
        absent = [name for name in (config.from_, config.to) if name not in weights]
        if absent:
            names = ", ".join(absent)
            return self._hold(weights, f"record {config.record} has no set identifier {names}"), unsure
        problem = weights_problem(weights)
        if problem is not None:
            return self._hold(weights, f"observed {problem}: refusing to derive new weights"), unsure
        check = self.check(snapshot)
        if check.outcome is Outcome.INCONCLUSIVE:
            return self._hold(weights, f"check inconclusive: {check.detail}", check.evidence), unsure
        if check.outcome is Outcome.FAILED:
            memory = replace(memory, failed_checks=memory.failed_checks + 1, healthy_since=None)
            return self._failed(snapshot, weights, memory, check), memory
        memory = replace(memory, failed_checks=0, healthy_since=memory.healthy_since or now)
        return self._healthy(weights, memory, check, now), memory

    def applied(self, memory: ShiftMemory, decision: Decision, now: datetime) -> ShiftMemory:
        """Memory after the decision was applied."""
        moved = decision.after[self.config.to] - decision.before[self.config.to]
        if moved > 0:
            return replace(memory, failed_checks=0, shifted=memory.shifted + moved)
        return replace(memory, shifted=max(memory.shifted + moved, 0), last_step_back=now)

    def _hold(self, weights: dict[str, int] | None, reason: str,
              evidence: tuple[Sample, ...] = ()) -> Decision:
        return self._decision(Verdict.HOLD, weights or {}, None, reason, evidence)

    def _move(self, weights: dict[str, int], amount: int) -> dict[str, int]:
        """Move ``amount`` from ``from`` to ``to`` (negative: back); the sum stays, so never all zero."""
        after = dict(weights)
        after[self.config.from_] -= amount
        after[self.config.to] += amount
        return after

    def _failed(self, snapshot: Snapshot, weights: dict[str, int], memory: ShiftMemory,
                check: Check) -> Decision:
        config = self.config
        count = f"failed checks {memory.failed_checks} (threshold: {config.threshold})"
        if memory.failed_checks < config.threshold:
            return self._decision(Verdict.NOOP, weights, None, f"{check.detail}; {count}", check.evidence)
        movable = min(config.step_weight, weights[config.from_], config.max_weight - weights[config.to])
        if movable <= 0:
            return self._decision(
                Verdict.NOOP, weights, None,
                f"{check.detail}; {count}, but {config.to} at {weights[config.to]} (max_weight "
                f"{config.max_weight}) and {config.from_} at {weights[config.from_]}: nothing left to move",
                check.evidence)
        # Moving traffic onto a gateway that is not ready would make things worse.
        to_ready = self._signal(snapshot, INGEST_READY, config.to)
        if to_ready is None or to_ready.value < 1:
            if to_ready is None:
                state, evidence = "readiness unknown", check.evidence
            else:
                state = f"not ready ({INGEST_READY} {num(to_ready.value)})"
                evidence = check.evidence + (to_ready,)
            reason = f"{check.detail}; {count}, but {config.to} {state}: not shifting"
            return self._hold(weights, reason, evidence)
        after = self._move(weights, movable)
        return self._decision(
            Verdict.ACT, weights, after,
            f"{check.detail}; {count}: shift {movable} {config.from_} -> {config.to} "
            f"(step_weight {config.step_weight}, max_weight {config.max_weight}): {weights} -> {after}",
            check.evidence + (to_ready,))

    def _healthy(self, weights: dict[str, int], memory: ShiftMemory, check: Check, now: datetime) -> Decision:
        config = self.config
        back = min(config.step_weight, memory.shifted, weights[config.to])
        if back <= 0:
            return self._decision(Verdict.NOOP, weights, None, check.detail, check.evidence)
        since = memory.healthy_since or now
        # The first step back waits recover_after of health; later ones recover_step_every each.
        if memory.last_step_back is not None and memory.last_step_back >= since:
            due = memory.last_step_back + config.recover_every
            timing = f"{format_duration(now - memory.last_step_back)} since the last step back " \
                     f"(recover_step_every: {format_duration(config.recover_every)})"
        else:
            due = since + config.recover_after
            timing = f"healthy for {format_duration(now - since)} " \
                     f"(recover_after: {format_duration(config.recover_after)})"
        if now < due:
            return self._decision(Verdict.NOOP, weights, None, f"{check.detail}; {timing}", check.evidence)
        after = self._move(weights, -back)
        return self._decision(Verdict.ACT, weights, after,
                              f"{check.detail}; {timing}: shift {back} back {config.to} -> {config.from_} "
                              f"({memory.shifted} shifted by this policy): {weights} -> {after}",
                              check.evidence)
