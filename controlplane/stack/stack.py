"""Start, health-check and stop the local stack as supervised processes.

``LocalStack.start()`` is all-or-nothing: if any component fails to become healthy, everything it
started is stopped again and the error says which component and where its log is.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from controlplane.settings import Settings
from controlplane.stack import components as registry
from controlplane.stack.components import Component
from controlplane.stack.errors import StackError
from controlplane.stack.route53 import aws_client, bootstrap_weighted_record
from controlplane.stack.supervisor import CircusSupervisor, pid_alive, terminate_pids, wait_gone
from controlplane.stack.topics import apply_topics

START_TIMEOUT_S = 120.0
GATEWAYS = ("primary", "secondary")


@dataclass(frozen=True)
class RunInfo:
    """What `up` recorded in ``<state>/stack.json`` so that `down` and `status` find the stack."""

    circusd_pid: int
    components: tuple[str, ...]
    endpoints: dict[str, str]
    pids: dict[str, list[int]]
    started_at: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__ | {"components": list(self.components)}, indent=2)


class LocalStack:
    def __init__(self, settings: Settings, components: tuple[str, ...] = registry.INFRASTRUCTURE) -> None:
        self.settings = settings
        self.names = components
        self.components: list[Component] = registry.build(settings, components)
        self.supervisor = CircusSupervisor(
            settings.state_dir, settings.host, settings.ports.circus, settings.ports.circus_pubsub
        )
        self.run_file = settings.state_dir / "stack.json"

    # queries -----------------------------------------------------------------------------------
    def running(self) -> RunInfo | None:
        """The recorded run if its circusd is alive; a stale record (dead pid) is removed."""
        if not self.run_file.exists():
            return None
        try:
            raw = json.loads(self.run_file.read_text())
            info = RunInfo(
                circusd_pid=int(raw["circusd_pid"]),
                components=tuple(raw["components"]),
                endpoints=dict(raw["endpoints"]),
                pids=dict(raw["pids"]),
                started_at=str(raw["started_at"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StackError(
                f"corrupt state dir: {self.run_file} is unreadable ({exc}); if no stack is running, remove it"
            ) from None
        if pid_alive(info.circusd_pid):
            return info
        self.run_file.unlink(missing_ok=True)
        return None

    def status(self) -> dict[str, dict[str, Any]]:
        """Health of every component: its process is up under the supervisor and its check passes."""
        running = self.supervisor.reachable()
        report = {}
        for component in self.components:
            alive = running and bool(self.supervisor.pids(component.service.name))
            report[component.name] = {
                "healthy": alive and component.healthy(),
                "endpoint": component.endpoint,
            }
        return report

    # start -------------------------------------------------------------------------------------
    def preflight(self) -> None:
        info = self.running()
        if info is not None:
            raise StackError(
                f"the stack is already up (supervisor pid {info.circusd_pid}, started "
                f"{info.started_at}); `ecomctl status` shows it, `ecomctl down` stops it"
            )
        wanted = {"circus": self.settings.ports.circus, "circus_pubsub": self.settings.ports.circus_pubsub}
        for component in self.components:
            wanted.update(component.ports)
        seen: dict[int, str] = {}
        for name, port in wanted.items():
            if port in seen:
                raise StackError(f"port {port} is configured twice ({seen[port]} and {name})")
            seen[port] = name
            ensure_port_free(self.settings.host, port, name)

    def start(self, on_progress: Callable[[str], None] = lambda _msg: None) -> RunInfo:
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.preflight()
        for component in self.components:
            component.prepare()
        self.supervisor.write_config([c.service for c in self.components])
        pid = self.supervisor.launch()
        try:
            self._wait_healthy(on_progress)
            self._bootstrap(on_progress)
            info = RunInfo(
                circusd_pid=pid,
                components=self.names,
                endpoints={c.name: c.endpoint for c in self.components},
                pids=self.supervisor.all_pids(),
                started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        except BaseException:
            self._stop_supervisor(pid, self.supervisor.all_pids() if self.supervisor.reachable() else {})
            raise
        self.run_file.write_text(info.to_json())
        return info

    def _wait_healthy(self, on_progress: Callable[[str], None]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        pending = list(self.components)
        started: set[str] = set()
        while pending:
            for component in list(pending):
                watcher = component.service.name
                state = self.supervisor.watcher_status(watcher)
                if state == "active":
                    started.add(watcher)
                if component.healthy():
                    pending.remove(component)
                    on_progress(f"{component.name} healthy at {component.endpoint}")
                elif state == "stopped" and watcher in started:
                    # circus gave up after its retries: the program keeps exiting.
                    raise StackError(self._failure(component, "exited"))
            if pending and time.monotonic() > deadline:
                raise StackError(self._failure(pending[0], f"not healthy after {START_TIMEOUT_S:.0f} s"))
            if pending:
                time.sleep(0.3)

    def _failure(self, component: Component, what: str) -> str:
        log = self.supervisor.log_file(component.service.name)
        tail = ""
        if log.exists():
            tail = "\n    " + "\n    ".join(log.read_text(errors="replace").splitlines()[-8:])
        return f"{component.name} {what}; nothing was left running. Log: {log}{tail}"

    def _bootstrap(self, on_progress: Callable[[str], None]) -> None:
        bootstrap(
            self.settings,
            kafka="kafka" in self.names,
            route53="route53" in self.names,
            on_progress=on_progress,
        )

    # stop --------------------------------------------------------------------------------------
    def stop(self) -> list[int]:
        """Stop a running stack; returns the pids it stopped. Raises if none is running."""
        info = self.running()
        if info is None:
            raise StackError(f"no stack is running from {self.settings.state_dir} (nothing to stop)")
        reachable = self.supervisor.reachable()
        pids = self.supervisor.all_pids() if reachable else info.pids
        if reachable:
            self._stop_services_first()
        stopped = self._stop_supervisor(info.circusd_pid, pids)
        self.run_file.unlink(missing_ok=True)
        return stopped

    def _stop_services_first(self) -> None:
        """Stop in reverse start order while Kafka still runs: traffic first, then the control plane,
        then consumers (they commit) and gateways (they flush); infrastructure last, with quit()."""
        # self.components is in start (registry) order; infrastructure components are named as their keys.
        services = [c.service.name for c in self.components if c.name not in registry.INFRASTRUCTURE]
        try:
            for watcher in reversed(services):
                self.supervisor.stop_watcher(watcher, timeout=40.0)
        except StackError:
            return  # the supervisor stopped answering: quit() and the pid checks take over

    def _stop_supervisor(self, circusd_pid: int, pids: dict[str, list[int]]) -> list[int]:
        children = [p for group in pids.values() for p in group]
        self.supervisor.quit(circusd_pid)
        if not wait_gone(children, 30.0):
            terminate_pids(children)
        return [circusd_pid, *children]


def bootstrap(
    settings: Settings,
    kafka: bool = True,
    route53: bool = True,
    on_progress: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Declared topics on the cluster and the weighted ingest record in Route 53 (idempotent)."""
    if kafka:
        admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
        created = apply_topics(admin)
        on_progress(f"topics ready ({len(created)} created)")
    if route53:
        client = aws_client("route53", settings.route53_url, settings.aws_region)
        targets = {name: settings.gateway_url(name).removeprefix("http://") for name in GATEWAYS}
        bootstrap_weighted_record(
            client,
            settings.hosted_zone,
            settings.ingest_record,
            targets,
            {"primary": 100, "secondary": 0},
            settings.record_ttl,
        )
        on_progress(f"route53 record {settings.ingest_record} weighted primary=100 secondary=0")


def ensure_port_free(host: str, port: int, name: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves bind: connections in TIME_WAIT from a stack stopped a moment
        # ago must not count as "taken"; only a live listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise StackError(
                f"port {port} ({name}) on {host} is already taken; free it or choose another with "
                f"ECOMCTL_PORTS__{name.upper()}=<port>"
            ) from None


def log_dir(settings: Settings) -> Path:
    return settings.state_dir / "logs"
