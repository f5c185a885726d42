"""``nop`` scaling: replica counts kept in memory, nothing outside changes (dry runs, tests)."""

from __future__ import annotations

from controlplane.actuators.base import ActuatorError, check_replicas
from controlplane.settings import Settings


class NopConsumerScaler:
    def __init__(self, replicas: dict[str, int] | None = None, default: int | None = None) -> None:
        self._replicas = dict(replicas or {})
        self._default = default
        self.writes = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> NopConsumerScaler:
        return cls(default=settings.consumer_replicas)

    def start(self) -> None:
        """Nothing to connect to."""

    def replicas(self, group: str) -> int:
        if group in self._replicas:
            return self._replicas[group]
        if self._default is None:
            raise ActuatorError(f"replicas of {group} unknown")
        return self._default

    def set_replicas(self, group: str, count: int) -> None:
        check_replicas(group, count)
        self._replicas[group] = count
        self.writes += 1
