"""The components of the local stack, registered in one place.

Each entry builds, from Settings, the supervised service, its health check and its endpoint. An
unknown component name is an error (``StackError``), never a silent skip.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from controlplane.settings import Settings
from controlplane.stack.errors import StackError
from controlplane.stack.kafka import KafkaNode
from controlplane.stack.prometheus import PrometheusServer, write_sd_file
from controlplane.stack.route53 import MotoServer
from controlplane.stack.supervisor import Service
from ingest.chaos import CHAOS_FILE
from ingest.topics import load_topics


@dataclass(frozen=True)
class Component:
    name: str
    service: Service
    endpoint: str
    healthy: Callable[[], bool]
    prepare: Callable[[], None] = field(default=lambda: None)
    ports: dict[str, int] = field(default_factory=dict)  # what it binds, by settings name


def kafka_node(settings: Settings) -> KafkaNode:
    return KafkaNode(
        home=settings.state_dir / "kafka",
        libs=settings.kafka_libs,
        host=settings.host,
        port=settings.ports.kafka,
        controller_port=settings.ports.kafka_controller,
    )


def prometheus_server(settings: Settings) -> PrometheusServer:
    return PrometheusServer(
        home=settings.state_dir / "prometheus", host=settings.host, port=settings.ports.prometheus
    )


def _kafka(settings: Settings) -> list[Component]:
    node = kafka_node(settings)
    return [
        Component(
            name="kafka",
            endpoint=node.bootstrap,
            healthy=node.healthy,
            prepare=node.prepare,
            service=Service("kafka", tuple(node.broker_command()), graceful_timeout=30.0),
            ports={"kafka": node.port, "kafka_controller": node.controller_port},
        )
    ]


def _prometheus(settings: Settings) -> list[Component]:
    server = prometheus_server(settings)
    return [
        Component(
            name="prometheus",
            endpoint=server.url,
            healthy=server.healthy,
            prepare=server.prepare,
            service=Service("prometheus", tuple(server.command()), graceful_timeout=15.0),
            ports={"prometheus": server.port},
        )
    ]


def _route53(settings: Settings) -> list[Component]:
    moto = MotoServer(settings.host, settings.ports.route53)
    return [
        Component(
            name="route53",
            endpoint=moto.url,
            healthy=moto.healthy,
            service=Service("route53", tuple(moto.command()), graceful_timeout=5.0),
            ports={"route53": moto.port},
        )
    ]


def _http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def _gateways(settings: Settings) -> list[Component]:
    components = []
    sd_dir = settings.state_dir / "prometheus" / "sd"
    for name in ("primary", "secondary"):
        port = settings.ports.gateway_primary if name == "primary" else settings.ports.gateway_secondary
        url = settings.gateway_url(name)
        cmd = (
            sys.executable,
            "-m",
            "ingest.gateway",
            "--name",
            name,
            "--host",
            settings.host,
            "--port",
            str(port),
            "--bootstrap",
            settings.kafka_bootstrap,
            "--spool-dir",
            str(settings.state_dir / "spool" / name),
            "--chaos-file",
            str(settings.state_dir / CHAOS_FILE),
        )
        env = {"ECOMCTL_INGEST_API_KEYS": ",".join(settings.ingest_api_keys)}

        def publish(name: str = name, port: int = port) -> None:
            sd_dir.mkdir(parents=True, exist_ok=True)
            write_sd_file(sd_dir / f"gateway-{name}.json", [f"{settings.host}:{port}"], {})

        components.append(
            Component(
                name=f"gateway-{name}",
                endpoint=url,
                healthy=_http_ok(f"{url}/healthz"),
                prepare=publish,
                service=Service(f"gateway-{name}", cmd, env=env, graceful_timeout=20.0),
                ports={f"gateway_{name}": port},
            )
        )
    return components


def _registered_consumers_answer(sd_dir: Path, group: str) -> Callable[[], bool]:
    """Healthy when a live consumer of ``group`` published its target and its /metrics answers."""

    def check() -> bool:
        for path in sd_dir.glob(f"consumer-{group}-*.json"):
            try:
                target = json.loads(path.read_text())[0]["targets"][0]
            except (OSError, ValueError, KeyError, IndexError):
                continue
            if _http_ok(f"http://{target}/metrics")():
                return True
        return False

    return check


def _consumers(settings: Settings) -> list[Component]:
    sd_dir = settings.state_dir / "prometheus" / "sd"
    components = []
    for topic in load_topics().topics:
        if topic.consumer_group is None:
            continue
        group = topic.consumer_group
        cmd = (
            sys.executable,
            "-m",
            "ingest.consumers",
            "--group",
            group,
            "--bootstrap",
            settings.kafka_bootstrap,
            "--state-dir",
            str(settings.state_dir),
            "--sd-dir",
            str(sd_dir),
            "--chaos-file",
            str(settings.state_dir / CHAOS_FILE),
        )
        components.append(
            Component(
                name=f"consumer-{group}",
                endpoint=f"group {group} on {topic.name}",
                healthy=_registered_consumers_answer(sd_dir, group),
                service=Service(
                    f"consumer-{group}", cmd, numprocesses=settings.consumer_replicas, graceful_timeout=30.0
                ),
            )
        )
    return components


def settings_env(settings: Settings) -> dict[str, str]:
    """ECOMCTL_* variables that give a child process these settings (CSV fields as CSV).

    Console passwords are left out: they would land in circus.ini, and the control plane needs none.
    """
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json", exclude_none=True, exclude={"console_users"}).items():
        if name == "ingest_api_keys":
            env[f"ECOMCTL_{name.upper()}"] = ",".join(value)
        elif isinstance(value, dict):  # nested models one variable per field: no JSON in circus.ini
            env.update({f"ECOMCTL_{name.upper()}__{k.upper()}": str(v) for k, v in value.items()})
        else:
            env[f"ECOMCTL_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def _controlplane(settings: Settings) -> list[Component]:
    url = settings.controlplane_url
    port = settings.ports.controlplane

    def publish() -> None:
        sd_dir = settings.state_dir / "prometheus" / "sd"
        sd_dir.mkdir(parents=True, exist_ok=True)
        # The job globs controlplane-*.json (see prometheus.SD_JOBS).
        write_sd_file(sd_dir / "controlplane-main.json", [f"{settings.host}:{port}"], {})

    cmd = (sys.executable, "-m", "controlplane", "--host", settings.host, "--port", str(port))
    return [
        Component(
            name="controlplane",
            endpoint=url,
            healthy=_http_ok(f"{url}/healthz"),
            prepare=publish,
            service=Service("controlplane", cmd, env=settings_env(settings), graceful_timeout=15.0),
            ports={"controlplane": port},
        )
    ]


def _console(settings: Settings) -> list[Component]:
    """The SRE console; its users reach it through a 0600 file, never circus.ini or the command line."""
    users_file = settings.state_dir / "console" / "users"

    def write_users() -> None:
        users_file.parent.mkdir(parents=True, exist_ok=True)
        users_file.touch(mode=0o600)
        users_file.chmod(0o600)
        users_file.write_text(",".join(settings.console_users))

    cmd = (sys.executable, "-m", "controlplane.console", "--users-file", str(users_file))
    return [
        Component(
            name="console",
            endpoint=settings.console_url,
            healthy=_http_ok(f"{settings.console_url}/healthz"),
            prepare=write_users,
            service=Service("console", cmd, env=settings_env(settings), graceful_timeout=10.0),
            ports={"console": settings.ports.console},
        )
    ]


def _traffic(settings: Settings) -> list[Component]:
    """Demo shoppers through the weighted record, so that a weight shift moves them."""
    cmd = (
        sys.executable,
        "-m",
        "ingest.loadgen",
        "--profile",
        "steady",
        "--rate",
        f"{settings.demo_rate:g}",
        "--duration",
        "604800",
        "--route53",
        "--route53-endpoint",
        settings.route53_url,
        "--record",
        settings.ingest_record,
        "--api-key",
        settings.ingest_api_keys[0],
    )
    return [
        Component(
            name="traffic",
            endpoint=f"{settings.demo_rate:g} events/s via {settings.ingest_record}",
            healthy=lambda: True,
            service=Service("traffic", cmd, graceful_timeout=5.0),
        )
    ]


ComponentFactory = Callable[[Settings], list[Component]]

# Start order matters: Kafka first (slowest), then what reads from it.
REGISTRY: dict[str, ComponentFactory] = {
    "kafka": _kafka,
    "prometheus": _prometheus,
    "route53": _route53,
    "gateways": _gateways,
    "consumers": _consumers,
    "controlplane": _controlplane,
    "console": _console,
    "traffic": _traffic,  # keep last: demo traffic starts once everything else is healthy
}

INFRASTRUCTURE = ("kafka", "prometheus", "route53")


def build(settings: Settings, names: tuple[str, ...]) -> list[Component]:
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise StackError(f"unknown stack component(s) {unknown}; known: {sorted(REGISTRY)}")
    ordered = [n for n in REGISTRY if n in names]
    return [component for name in ordered for component in REGISTRY[name](settings)]


def default_components(settings: Settings, traffic: bool = True) -> tuple[str, ...]:
    """Everything `ecomctl up` runs (demo traffic unless ``traffic`` is False)."""
    return tuple(name for name in REGISTRY if traffic or name != "traffic")
