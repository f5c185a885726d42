"""``local`` scaling: the process count of the circus watcher ``consumer-<group>`` of the local stack."""

from __future__ import annotations

from controlplane.actuators.base import ActuatorError, check_replicas
from controlplane.settings import Settings
from controlplane.stack.errors import StackError
from controlplane.stack.supervisor import CircusSupervisor


def watcher_name(group: str) -> str:
    return f"consumer-{group}"


class CircusConsumerScaler:
    def __init__(self, supervisor: CircusSupervisor) -> None:
        self._supervisor = supervisor

    @classmethod
    def from_settings(cls, settings: Settings) -> CircusConsumerScaler:
        return cls(CircusSupervisor(settings.state_dir, settings.host, settings.ports.circus,
                                    settings.ports.circus_pubsub))

    def start(self) -> None:
        """The circus client connects per call: nothing to hold open."""

    def replicas(self, group: str) -> int:
        try:
            return self._supervisor.processes(watcher_name(group))
        except StackError as exc:
            raise ActuatorError(f"replicas of {group} unknown: {exc}") from None

    def set_replicas(self, group: str, count: int) -> None:
        check_replicas(group, count)
        try:
            self._supervisor.set_processes(watcher_name(group), count)
        except StackError as exc:
            raise ActuatorError(f"cannot scale {group} to {count}: {exc}") from None
