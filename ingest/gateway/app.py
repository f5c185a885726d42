"""The ingest gateway: a plain ASGI app implementing DESIGN.md 3.3.

A 2xx is sent only after every accepted event (and every DLQ record) is acknowledged by Kafka or
fsync'd in the durable spool. While the spool holds anything, new records go to the spool as well,
behind the old ones, so that replay keeps each key's order.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import random
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingest.asgi import Receive, Scope, Send, send_body, send_json, serve_lifespan
from ingest.chaos import ChaosSwitches
from ingest.contracts import ContractRegistry
from ingest.gateway.metrics import GatewayMetrics
from ingest.gateway.settings import GatewaySettings
from ingest.gateway.sink import EventSink
from ingest.gateway.spool import DurableSpool, Record, SpoolFull
from ingest.topics import TopicCatalog

log = logging.getLogger("ecomctl.gateway")

REPLAY_BATCH = 2000
PROBE_EVERY_S = 1.0
RETRY_AFTER_S = 5


class Reply(Exception):
    """Stop handling and answer ``status`` with a JSON error body."""

    def __init__(self, status: int, error: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.headers = headers


def _key_path(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _lookup(event: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class Gateway:
    def __init__(
        self,
        settings: GatewaySettings,
        registry: ContractRegistry,
        catalog: TopicCatalog,
        sink: EventSink,
        spool: DurableSpool,
        metrics: GatewayMetrics,
        chaos: ChaosSwitches | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.catalog = catalog
        self.sink = sink
        self.spool = spool
        self.metrics = metrics
        self.chaos = chaos or ChaosSwitches(None)
        self._rng = rng or random.Random()  # noqa: S311 - sampling for chaos, not security
        self._keys = tuple(k.encode() for k in settings.api_keys)
        self._routes: dict[str, tuple[str, tuple[str, ...]]] = {
            t.event_type: (t.name, _key_path(t.key)) for t in catalog.topics if t.event_type is not None
        }
        self._dlq = catalog.dlq.name
        self._replayer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._spool_lock = asyncio.Lock()

    # lifecycle ---------------------------------------------------------------------------------
    async def startup(self) -> None:
        self.spool.open()
        self.sink.start()
        await asyncio.to_thread(self._probe)
        self.metrics.spool_capacity.labels(self.metrics.gateway).set(self.spool.max_bytes)
        self._replayer = asyncio.create_task(self._replay_loop())

    async def shutdown(self) -> None:
        self._stopping.set()
        if self._replayer is not None:
            await self._replayer
        await asyncio.to_thread(self.sink.close, 10.0)

    def _probe(self) -> bool:
        probe = getattr(self.sink, "probe", None)
        return bool(probe()) if probe is not None else self.sink.healthy()

    # ASGI --------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send, self.startup, self.shutdown)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/v1/events":
            if method != "POST":
                await send_json(send, 405, {"error": "use POST"}, ((b"allow", b"POST"),))
                return
            await self._post_events(scope, receive, send)
        elif path == "/healthz" and method in ("GET", "HEAD"):
            await send_json(send, 200, {"status": "ok", "gateway": self.settings.name})
        elif path == "/readyz" and method in ("GET", "HEAD"):
            ready, detail = self.readiness()
            await send_json(send, 200 if ready else 503, detail)
        elif path == "/metrics" and method == "GET":
            self._refresh_gauges()
            body = generate_latest(self.metrics.registry)
            await send_body(send, 200, body, CONTENT_TYPE_LATEST.encode())
        else:
            await send_json(send, 404, {"error": f"no route {method} {path}"})

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        room = self.spool.max_bytes - self.spool.bytes_used
        kafka = self.sink.healthy()
        # Ready while events can be kept: straight to Kafka, or into a spool with room.
        ready = kafka or room > self.settings.max_body_bytes * 2
        return ready, {
            "ready": ready,
            "kafka": kafka,
            "spool_bytes": self.spool.bytes_used,
            "spool_capacity_bytes": self.spool.max_bytes,
            "gateway": self.settings.name,
        }

    def _refresh_gauges(self) -> None:
        gateway = self.metrics.gateway
        self.metrics.spool_bytes.labels(gateway).set(self.spool.bytes_used)
        self.metrics.spool_events.labels(gateway).set(self.spool.events)
        self.metrics.chaos.labels(gateway).set(self.chaos.gateway_fail_ratio(self.settings.name))
        self.metrics.ready.labels(gateway).set(1 if self.readiness()[0] else 0)

    # POST /v1/events ---------------------------------------------------------------------------
    async def _post_events(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            status, body = await self.handle(scope, receive)
            headers: tuple[tuple[bytes, bytes], ...] = ()
        except Reply as reply:
            status, body, headers = reply.status, {"error": reply.error}, reply.headers
        await send_json(send, status, body, headers)
        self.metrics.observe_request(status, time.perf_counter() - started)

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        ratio = self.chaos.gateway_fail_ratio(self.settings.name)
        if ratio > 0 and self._rng.random() < ratio:
            raise Reply(
                503,
                f"chaos: gateway {self.settings.name} fails {ratio:.0%} of requests",
                ((b"retry-after", b"1"),),
            )
        self._authenticate(scope)
        raw = await self._read_body(scope, receive)
        events = self._parse(raw)
        records, rejected, accepted_types = self._route(events)
        await self._deliver(records)
        for (event_type, version), count in Counter(accepted_types).items():
            self.metrics.count_event(event_type, version, "accepted", count)
        return 202, {"accepted": len(accepted_types), "rejected": rejected}

    def _authenticate(self, scope: Scope) -> None:
        presented = next((v for k, v in scope["headers"] if k == b"x-api-key"), None)
        if presented is None:
            raise Reply(401, "missing X-API-Key header")
        if not any(hmac.compare_digest(presented, key) for key in self._keys):
            raise Reply(401, "unknown API key")

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise Reply(413, f"body of {int(declared)} bytes exceeds the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Reply(400, "client disconnected before the body was complete")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Reply(413, f"body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _parse(self, raw: bytes) -> list[Any]:
        if not raw.strip():
            raise Reply(400, 'empty body: send one event, a JSON array of events or {"events": [...]}')
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            try:
                # orjson refuses integers beyond 64 bits; they are valid JSON, so the schema decides.
                document = json.loads(raw)
            except (ValueError, RecursionError):
                raise Reply(400, f"malformed JSON: {exc}") from None
        if isinstance(document, dict) and "events" in document and "event_type" not in document:
            document = document["events"]
            if not isinstance(document, list):
                raise Reply(400, '"events" must be a JSON array of events')
        events = document if isinstance(document, list) else [document]
        if not isinstance(document, list | dict):
            raise Reply(400, f"expected an event object or an array of events, got {type(document).__name__}")
        if not events:
            raise Reply(400, "no events in the body")
        if len(events) > self.settings.max_batch:
            raise Reply(413, f"batch of {len(events)} events exceeds the limit of {self.settings.max_batch}")
        return events

    def _route(self, events: list[Any]) -> tuple[list[Record], list[dict[str, Any]], list[tuple[str, str]]]:
        records: list[Record] = []
        rejected: list[dict[str, Any]] = []
        accepted: list[tuple[str, str]] = []
        gateway = self.settings.name.encode()
        for index, event in enumerate(events):
            outcome = self.registry.validate(event)
            value = _dumps(event)
            event_id = event.get("event_id") if isinstance(event, dict) else None
            if outcome.ok and len(value) > self.settings.max_event_bytes:
                error = f"event of {len(value)} bytes exceeds the limit of {self.settings.max_event_bytes}"
                outcome = type(outcome).rejected("envelope", error, outcome.event_type, outcome.version)
            event_type = outcome.event_type or "unknown"
            version = str(outcome.version) if outcome.version is not None else "unknown"
            if outcome.ok:
                topic, key_path = self._routes[event_type]
                key = _lookup(event, key_path)
                records.append(
                    Record(
                        topic,
                        str(key).encode() if key is not None else None,
                        value,
                        (
                            ("event_type", event_type.encode()),
                            ("schema_version", version.encode()),
                            ("event_id", str(event_id).encode()),
                            ("gateway", gateway),
                        ),
                    )
                )
                accepted.append((event_type, version))
                continue
            entry = {
                "index": index,
                "event_id": event_id if isinstance(event_id, str) else None,
                "error": outcome.message,
            }
            rejected.append(entry)
            self.metrics.count_event(event_type, version, "rejected")
            self.metrics.rejections.labels(self.metrics.gateway, event_type, outcome.reason or "schema").inc()
            dlq = _dumps(
                {
                    "reason": outcome.reason,
                    "error": outcome.message,
                    "gateway": self.settings.name,
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "event": event if len(value) <= self.settings.max_event_bytes else None,
                    "event_bytes": len(value),
                }
            )
            key_bytes = str(event_id).encode() if isinstance(event_id, str) else None
            records.append(
                Record(
                    self._dlq,
                    key_bytes,
                    dlq,
                    (("reason", (outcome.reason or "").encode()), ("gateway", gateway)),
                )
            )
        return records, rejected, accepted

    async def _deliver(self, records: list[Record]) -> None:
        if not records:
            return
        if self.spool.empty and self.sink.healthy():
            delivery = await self.sink.send(records, self.settings.ack_timeout_s)
            if not delivery.failed:
                return
            log.warning(
                "kafka did not acknowledge %d of %d records (%s): spooling them",
                len(delivery.failed),
                len(records),
                delivery.error,
            )
            records = [records[i] for i in delivery.failed]
        try:
            await self.spool.append(records)
        except SpoolFull as exc:
            raise Reply(
                503,
                f"Kafka is unavailable and the spool is full: {exc}",
                ((b"retry-after", str(RETRY_AFTER_S).encode()),),
            ) from None
        except OSError as exc:
            raise Reply(
                503,
                f"Kafka is unavailable and the spool cannot be written: {exc}",
                ((b"retry-after", str(RETRY_AFTER_S).encode()),),
            ) from None
        for record in records:
            self.metrics.spooled.labels(self.metrics.gateway, record.topic).inc()

    # replay ------------------------------------------------------------------------------------
    async def _replay_loop(self) -> None:
        """Drain the spool into Kafka in order; probe the broker while it is down."""
        last_probe = 0.0
        while not self._stopping.is_set():
            if not self.sink.healthy():
                if time.monotonic() - last_probe >= PROBE_EVERY_S:
                    last_probe = time.monotonic()
                    await asyncio.to_thread(self._probe)
                await self._sleep(0.2)
                continue
            if self.spool.empty:
                await self._sleep(0.1)
                continue
            batch = list(self.spool.iter_unreplayed(limit=REPLAY_BATCH))
            if not batch:
                await self._sleep(0.1)
                continue
            delivery = await self.sink.send([r for r, _ in batch], max(self.settings.ack_timeout_s, 5.0))
            if delivery.failed:
                # Everything before the first failure is in Kafka; keep the cursor there so
                # nothing is skipped and order holds.
                first = min(delivery.failed)
                if first:
                    self.spool.advance(batch[first - 1][1], first)
                await self._sleep(0.5)
                continue
            self.spool.advance(batch[-1][1], len(batch))
            for record, _ in batch:
                self.metrics.replayed.labels(self.metrics.gateway, record.topic).inc()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits
        return json.dumps(value, separators=(",", ":")).encode()
