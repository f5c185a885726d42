"""A tiny stand-in for the gateway (no Kafka): validates with the real contracts, answers like it.

Run as its own process (``uvicorn tests.integration.test_loadgen_sink:app``) so that the load
generator under test has a core to itself. ``SINK_NAME`` labels its metrics like a gateway's.
GET /stats returns what it received: events by type, the session funnel and duplicate ids.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import orjson

from ingest.contracts import ContractRegistry

NAME = os.environ.get("SINK_NAME", "sink")
REGISTRY = ContractRegistry.load()
by_type: Counter[str] = Counter()
invalid: list[str] = []
event_ids: set[str] = set()
duplicates = 0
sessions: dict[str, set[str]] = {}


def _record(event: Any) -> str | None:
    global duplicates
    outcome = REGISTRY.validate(event)
    if not outcome.ok:
        invalid.append(outcome.message)
        return outcome.message
    by_type[event["event_type"]] += 1
    if event["event_id"] in event_ids:
        duplicates += 1
    event_ids.add(event["event_id"])
    sessions.setdefault(event["session_id"], set()).add(event["event_type"])
    return None


def _stats() -> dict[str, Any]:
    carted = sum(1 for kinds in sessions.values() if "cart" in kinds)
    purchased = sum(1 for kinds in sessions.values() if "purchase" in kinds)
    return {"by_type": dict(by_type), "invalid": invalid[:10], "invalid_count": len(invalid),
            "duplicates": duplicates, "sessions": len(sessions), "carted": carted, "purchased": purchased}


def _metrics() -> str:
    lines = ["# TYPE ingest_events_total counter"]
    for event_type, n in sorted(by_type.items()):
        lines.append(f'ingest_events_total{{gateway="{NAME}",event_type="{event_type}",schema_version="1",'
                     f'outcome="accepted"}} {n}')
    return "\n".join(lines) + "\n"


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    status, body, ctype = 404, b"{}", b"application/json"
    if scope["method"] == "POST" and scope["path"] == "/v1/events":
        try:
            document = orjson.loads(await _body(receive))
        except orjson.JSONDecodeError:
            document = None
        if document is None:
            status = 400
        else:
            events = document if isinstance(document, list) else document.get("events", [document])
            rejected = [{"index": i, "error": err} for i, e in enumerate(events) if (err := _record(e))]
            status = 202
            body = orjson.dumps({"accepted": len(events) - len(rejected), "rejected": rejected})
    elif scope["path"] == "/stats":
        status, body = 200, orjson.dumps(_stats())
    elif scope["path"] == "/metrics":
        status, body, ctype = 200, _metrics().encode(), b"text/plain; version=0.0.4"
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]})
    await send({"type": "http.response.body", "body": body})
