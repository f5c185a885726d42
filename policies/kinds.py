"""The one registry of policy kinds: ``kind`` -> (entry model, rules). Add a kind here and only here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from policies.config import ConsumerLagScalingConfig, IngestTrafficShiftConfig
from policies.lag import LagMemory, LagScaling
from policies.model import Decision, Observed, Tick
from policies.traffic import ShiftMemory, TrafficShift


class Rules(Protocol):
    """The pure rules of one policy; its memory between ticks is passed in and returned."""

    def initial(self) -> Any: ...

    def evaluate(self, tick: Tick, memory: Any) -> tuple[Decision, Any]:
        """Decide; the returned memory assumes the decision is *not* applied."""
        ...

    def applied(self, memory: Any, decision: Decision, now: datetime) -> Any:
        """The memory once the (ACT) decision is applied."""
        ...


class LagRules:
    def __init__(self, config: ConsumerLagScalingConfig) -> None:
        self.rules = LagScaling(config)

    def initial(self) -> LagMemory:
        return LagMemory()

    def evaluate(self, tick: Tick, memory: LagMemory) -> tuple[Decision, LagMemory]:
        last = tick.last_change.get(self.rules.config.group)
        return self.rules.evaluate(tick.snapshot, tick.observed, memory, last, tick.now)

    def applied(self, memory: LagMemory, decision: Decision, now: datetime) -> LagMemory:
        return self.rules.applied(memory)


class ShiftRules:
    def __init__(self, config: IngestTrafficShiftConfig) -> None:
        self.rules = TrafficShift(config)

    def initial(self) -> ShiftMemory:
        return ShiftMemory()

    def evaluate(self, tick: Tick, memory: ShiftMemory) -> tuple[Decision, ShiftMemory]:
        return self.rules.evaluate(tick.snapshot, tick.observed, memory, tick.now)

    def applied(self, memory: ShiftMemory, decision: Decision, now: datetime) -> ShiftMemory:
        return self.rules.applied(memory, decision, now)


def replicas_of(observed: Observed, group: str) -> dict[str, int] | None:
    replicas = observed.replicas.get(group)
    return None if replicas is None else {"replicas": replicas}


def weights_of(observed: Observed, record: str) -> dict[str, int] | None:
    weights = observed.weights.get(record)
    return None if weights is None else dict(weights)


@dataclass(frozen=True, slots=True)
class Kind:
    model: type[ConsumerLagScalingConfig] | type[IngestTrafficShiftConfig]
    rules: Callable[[Any], Rules]
    # The current value of a target of this kind, as Decision.before shows it (None: unknown).
    current: Callable[[Observed, str], dict[str, int] | None]


KINDS: dict[str, Kind] = {
    "consumer_lag_scaling": Kind(ConsumerLagScalingConfig, LagRules, replicas_of),
    "ingest_traffic_shift": Kind(IngestTrafficShiftConfig, ShiftRules, weights_of),
}
