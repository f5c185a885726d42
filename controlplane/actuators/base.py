"""The actuator ports: what the loop and the operator actions need from Route 53 and the scalers."""

from __future__ import annotations

from typing import Protocol

WEIGHT_MIN = 0
WEIGHT_MAX = 255  # Route 53 weights are 0..255 (its emulator accepts more: we check)


class ActuatorError(Exception):
    """A change that was refused or failed; the message says which value and why."""


class WeightActuator(Protocol):
    """Weighted records: set identifier -> weight."""

    def start(self) -> None: ...

    def read(self, record: str) -> dict[str, int]: ...

    def set_weights(self, record: str, weights: dict[str, int]) -> dict[str, int]:
        """Write every weight of ``record`` at once; returns the weights now in force."""
        ...


class ConsumerScaler(Protocol):
    """Replica count of a consumer group."""

    def start(self) -> None: ...

    def replicas(self, group: str) -> int: ...

    def set_replicas(self, group: str, count: int) -> None: ...


def check_weights(record: str, current: dict[str, int], wanted: dict[str, int]) -> dict[str, int]:
    """The full weight map once ``wanted`` is applied over ``current``; raise naming the bad item.

    Set identifiers left out keep their weight: a partial request never zeroes a record by omission.
    """
    unknown = sorted(set(wanted) - set(current))
    if unknown:
        raise ActuatorError(f"record {record} has no weighted set {', '.join(map(repr, unknown))}; "
                            f"known: {', '.join(sorted(current)) or 'none'}")
    for name, weight in wanted.items():
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise ActuatorError(f"weight {name}={weight!r} is not an integer")
        if not WEIGHT_MIN <= weight <= WEIGHT_MAX:
            raise ActuatorError(f"weight {name}={weight} outside {WEIGHT_MIN}..{WEIGHT_MAX}")
    merged = current | wanted
    if not any(merged.values()):
        raise ActuatorError(f"weights of {record} would all be 0 ({_show(merged)}): Route 53 would then "
                            "split traffic evenly, never what was meant")
    return merged


def check_replicas(group: str, count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ActuatorError(f"replicas of {group} must be an integer >= 0, got {count!r}")


def _show(weights: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(weights.items()))
