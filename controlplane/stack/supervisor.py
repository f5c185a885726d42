"""Process supervision for the local stack: circus (circusd + its client), not a home-made one.

One circusd per stack. Each component is a circus watcher; the consumer scaling backend changes a
watcher's process count at run time through the same client.
"""

from __future__ import annotations

import configparser
import os
import shlex
import signal
import subprocess  # noqa: S404 - starts circusd, our own command line
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from circus.client import CircusClient
from circus.exc import CallError

from controlplane.stack.errors import StackError


@dataclass(frozen=True)
class Service:
    """One supervised program (a circus watcher)."""

    name: str
    cmd: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    numprocesses: int = 1
    graceful_timeout: float = 10.0
    stop_signal: str = "SIGTERM"
    working_dir: Path | None = None


class CircusSupervisor:
    def __init__(self, home: Path, host: str, port: int, pubsub_port: int) -> None:
        self.home = home
        self.endpoint = f"tcp://{host}:{port}"
        self.pubsub = f"tcp://{host}:{pubsub_port}"
        self.config_file = home / "circus.ini"
        self.log_dir = home / "logs"

    # configuration ------------------------------------------------------------------------------
    def write_config(self, services: list[Service]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        ini = configparser.ConfigParser(interpolation=None)
        ini["circus"] = {
            "endpoint": self.endpoint,
            "pubsub_endpoint": self.pubsub,
            "check_delay": "2",
            "warmup_delay": "0",
            "statsd": "false",
            "loglevel": "info",
        }
        for service in services:
            section = f"watcher:{service.name}"
            ini[section] = {
                "cmd": shlex.join(service.cmd),
                "numprocesses": str(service.numprocesses),
                "copy_env": "true",
                "graceful_timeout": str(service.graceful_timeout),
                "stop_signal": service.stop_signal,
                "max_retry": "5",
                "respawn": "true",
                "stdout_stream.class": "FileStream",
                "stdout_stream.filename": str(self.log_file(service.name)),
                "stderr_stream.class": "FileStream",
                "stderr_stream.filename": str(self.log_file(service.name)),
                "working_dir": str(service.working_dir or Path.cwd()),
            }
            if service.env:
                ini[f"env:{service.name}"] = {k: v.replace("$", "$$") for k, v in service.env.items()}
        with self.config_file.open("w") as handle:
            ini.write(handle)

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    # lifecycle ----------------------------------------------------------------------------------
    def launch(self) -> int:
        """Start circusd in its own session (it outlives a detached `ecomctl up`); return its pid."""
        with (self.log_dir / "circusd.log").open("ab") as log:
            proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "circus.circusd", str(self.config_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StackError(f"circusd exited with {proc.returncode}: see {self.log_dir / 'circusd.log'}")
            if self.reachable():
                return proc.pid
            time.sleep(0.2)
        raise StackError(f"circusd did not answer on {self.endpoint} within 20 s")

    def _ask(self, command: str, timeout: float, properties: dict[str, Any]) -> dict[str, Any]:
        client = CircusClient(endpoint=self.endpoint, timeout=timeout)
        try:
            answer: dict[str, Any] = client.call({"command": command, "properties": properties})
        except CallError as exc:
            raise StackError(f"supervisor at {self.endpoint} did not answer '{command}': {exc}") from None
        finally:
            client.stop()
        return answer

    def call(self, command: str, timeout: float = 10.0, **properties: Any) -> dict[str, Any]:
        answer = self._ask(command, timeout, properties)
        if answer.get("status") != "ok":
            raise StackError(f"supervisor refused '{command}': {answer.get('reason', answer)}")
        return answer

    def reachable(self) -> bool:
        try:
            self.call("dstats", timeout=1.0)
            return True
        except StackError:
            return False

    def watchers(self) -> list[str]:
        return list(self.call("list")["watchers"])

    def pids(self, name: str) -> list[int]:
        return [int(p) for p in self.call("list", name=name, pids=True)["pids"]]

    def all_pids(self) -> dict[str, list[int]]:
        return {name: self.pids(name) for name in self.watchers()}

    def watcher_status(self, name: str) -> str:
        """circus' word for a watcher: active, starting, stopping or stopped."""
        # The status command answers in its "status" field itself, not with "ok".
        return str(self._ask("status", 10.0, {"name": name}).get("status"))

    def processes(self, name: str) -> int:
        return int(self.call("numprocesses", name=name)["numprocesses"])

    def set_processes(self, name: str, count: int) -> None:
        self.call("set", name=name, options={"numprocesses": count})

    def stop_watcher(self, name: str, timeout: float) -> None:
        """Stop one watcher and wait for it (circus runs one arbiter command at a time)."""
        self.call("stop", timeout=timeout, name=name, waiting=True)

    def quit(self, pid: int, timeout: float = 60.0) -> None:
        """Stop every watcher gracefully, then circusd; wait for the pid to be gone."""
        try:
            self.call("quit", timeout=timeout, waiting=True)
        except StackError:
            pass  # already gone or wedged: fall through to the pid checks
        if not wait_gone([pid], timeout):
            terminate_pids([pid])


def pid_alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(p) for p in pids):
            return True
        time.sleep(0.2)
    return not any(pid_alive(p) for p in pids)


def terminate_pids(pids: list[int], grace: float = 10.0) -> None:
    """SIGTERM then SIGKILL the given pids (only ever pids this stack recorded as its own)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        if wait_gone(pids, grace):
            return
