"""The control plane process: the loop plus a small HTTP API on loopback (plain ASGI on uvicorn).

- ``GET /healthz``   200 while the process runs
- ``GET /metrics``   the loop's series and the lag exporter's, one registry
- ``GET /api/lag``   the latest lag round in the ``ecomctl lag --json`` shape (503 before the first)
- ``GET /api/state`` policies with their last decision, pause and dry-run switches, last tick time

Construction wires everything and opens nothing; ``start()`` connects and starts the loop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from collectors.exporter import LagExporter
from collectors.kafka_lag import KafkaLagCollector
from collectors.prometheus import PrometheusSignalCollector
from collectors.settings import LagSettings
from controlplane.actuators.executor import Executor
from controlplane.actuators.registry import build_scaler
from controlplane.actuators.route53_weight import Route53WeightActuator
from controlplane.audit import AuditLog, db_path
from controlplane.loop import ControlLoop, LoopMetrics, lag_source
from controlplane.operations import policy_files
from controlplane.settings import Settings
from controlplane.state import StateStore
from policies.engine import PolicyEngine
from policies.loader import load_policy_files

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ControlPlane:
    def __init__(self, settings: Settings, lag_settings: LagSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.lag = KafkaLagCollector(settings.kafka_bootstrap, lag_settings)
        self.prometheus = PrometheusSignalCollector(settings.prometheus_url)
        path = db_path(settings)
        self.audit = AuditLog(path)
        self.state = StateStore(path)
        self.executor = Executor(Route53WeightActuator.from_settings(settings), build_scaler(settings))
        engine = PolicyEngine(load_policy_files(policy_files(settings)))
        sources = {"kafka": lag_source(self.lag), "prometheus": self.prometheus.collect}
        self.loop = ControlLoop(engine, sources, self.executor, self.audit, self.state, LoopMetrics(registry),
                                interval_s=settings.loop_interval_s, dry_run=settings.dry_run)
        registry.register(LagExporter(self.lag.latest))

    def start(self) -> None:
        self.audit.start()
        self.state.start()
        self.executor.start()
        self.lag.start()
        self.prometheus.start()
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.prometheus.stop()

    # ------------------------------------------------------------------------------------ HTTP
    def lag_document(self) -> dict[str, Any] | None:
        report = self.lag.latest()
        return None if report is None else report.to_document()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method != "GET":
            await _reply(send, 405, {"error": "only GET"})
        elif path == "/healthz":
            await _reply(send, 200, {"status": "ok"})
        elif path == "/metrics":
            await _raw(send, 200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
        elif path == "/api/lag":
            document = self.lag_document()
            if document is None:
                await _reply(send, 503, {"error": "no lag round yet"})
            else:
                await _reply(send, 200, document)
        elif path == "/api/state":
            await _reply(send, 200, self.loop.state_document())
        else:
            await _reply(send, 404, {"error": f"no route {path}"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                except Exception as exc:  # reported to uvicorn, which exits non-zero
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _reply(send: Send, status: int, document: dict[str, Any]) -> None:
    await _raw(send, status, json.dumps(document, default=str).encode(), "application/json")


async def _raw(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
