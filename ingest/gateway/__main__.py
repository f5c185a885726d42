"""Run one gateway: ``python -m ingest.gateway --name primary --port 18081 --bootstrap HOST:PORT``.

Options override ``ECOMCTL_INGEST_*`` settings. Served by uvicorn with uvloop and httptools.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, disable_created_metrics

from ingest.chaos import ChaosSwitches
from ingest.contracts import ContractRegistry
from ingest.gateway.app import Gateway
from ingest.gateway.metrics import GatewayMetrics
from ingest.gateway.settings import GatewaySettings
from ingest.gateway.sink import EventSink, KafkaEventSink
from ingest.gateway.spool import DurableSpool
from ingest.topics import DEFAULT_TOPICS_FILE, load_topics


def create_gateway(settings: GatewaySettings, sink: EventSink | None = None) -> Gateway:
    catalog = load_topics(settings.topics_file or DEFAULT_TOPICS_FILE)
    registry = ContractRegistry.load(settings.schemas_dir)
    metrics = GatewayMetrics(settings.name, CollectorRegistry())
    if sink is None:
        profiles = {name: dict(profile.producer) for name, profile in catalog.profiles.items()}
        topic_profile = {t.name: t.profile for t in catalog.topics}

        def produced(topic: str, seconds: float) -> None:
            metrics.produce_seconds.labels(settings.name, topic).observe(seconds)

        sink = KafkaEventSink(
            settings.bootstrap, profiles, topic_profile, settings.message_timeout_ms, produced
        )
    return Gateway(
        settings,
        registry,
        catalog,
        sink,
        DurableSpool(settings.spool_dir, settings.spool_max_bytes),
        metrics,
        ChaosSwitches(settings.chaos_file),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ingest.gateway", description=__doc__)
    parser.add_argument("--name")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--bootstrap")
    parser.add_argument("--spool-dir", type=Path)
    parser.add_argument("--spool-max-bytes", type=int)
    parser.add_argument("--chaos-file", type=Path)
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if v is not None}
    settings = GatewaySettings(**overrides)
    disable_created_metrics()  # *_created series only add noise to every scrape
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_gateway(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=15,
        timeout_keep_alive=30,  # producers reuse connections; a short idle timeout races their sends
    )


if __name__ == "__main__":
    main()
