"""Weights kept in memory: the weight port for tests and for runs without Route 53."""

from __future__ import annotations

from controlplane.actuators.base import ActuatorError, check_weights


class MemoryWeightActuator:
    def __init__(self, records: dict[str, dict[str, int]]) -> None:
        self.records = {name: dict(weights) for name, weights in records.items()}
        self.writes = 0

    def start(self) -> None:
        """Nothing to connect to."""

    def read(self, record: str) -> dict[str, int]:
        if record not in self.records:
            raise ActuatorError(f"record {record} not found")
        return dict(self.records[record])

    def set_weights(self, record: str, weights: dict[str, int]) -> dict[str, int]:
        merged = check_weights(record, self.read(record), weights)
        self.records[record] = merged
        self.writes += 1
        return dict(merged)
