"""The control plane process: the loop plus a small HTTP API on loopback (plain ASGI on uvicorn).

- ``GET /healthz``   200 while the process runs
- ``GET /metrics``   the loop's series and the lag exporter's, one registry
- ``GET /api/lag``   the latest lag round in the ``ecomctl lag --json`` shape (503 before the first)
- ``GET /api/state`` policies with their last decision, pause and dry-run switches, last tick time

Construction wires everything and opens nothing; ``start()`` connects and starts the loop.
"""

from __future__ import annotations

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
from ingest.asgi import Receive, Scope, Send, send_body, send_json, serve_lifespan
from policies.engine import PolicyEngine
from policies.loader import load_policy_files


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

    async def _startup(self) -> None:
        self.start()

    async def _shutdown(self) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------ HTTP
    def lag_document(self) -> dict[str, Any] | None:
        report = self.lag.latest()
        return None if report is None else report.to_document()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send, self._startup, self._shutdown)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method != "GET":
            await send_json(send, 405, {"error": "only GET"})
        elif path == "/healthz":
            await send_json(send, 200, {"status": "ok"})
        elif path == "/metrics":
            await send_body(send, 200, generate_latest(self.registry), CONTENT_TYPE_LATEST.encode())
        elif path == "/api/lag":
            document = self.lag_document()
            if document is None:
                await send_json(send, 503, {"error": "no lag round yet"})
            else:
                await send_json(send, 200, document)
        elif path == "/api/state":
            await send_json(send, 200, self.loop.state_document())
        else:
            await send_json(send, 404, {"error": f"no route {path}"})
