"""Sinks by URL scheme: the one place adapters are registered; an unknown scheme fails at startup."""

from __future__ import annotations

from collections.abc import Callable

from ingest.consumers.sinks.base import ApplyResult, Sink, SinkEventError
from ingest.consumers.sinks.postgres import PostgresSink
from ingest.consumers.sinks.sqlite import SqliteSink

SINKS: dict[str, Callable[[str], Sink]] = {
    "sqlite": SqliteSink.from_url,
    "postgresql": PostgresSink.from_url,
    "postgres": PostgresSink.from_url,
}


def sink_from_url(url: str) -> Sink:
    scheme, sep, _ = url.partition("://")
    factory = SINKS.get(scheme) if sep else None
    if factory is None:
        raise ValueError(f"sink URL: unknown scheme {scheme!r}; known: {sorted(SINKS)}")
    return factory(url)


__all__ = ["ApplyResult", "Sink", "SinkEventError", "sink_from_url"]
