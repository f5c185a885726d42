"""``python -m ingest.consumers --group GROUP --bootstrap HOST:PORT [...]``: one consumer process.

Options fall back to ``ECOMCTL_*`` environment variables (``ECOMCTL_STATE_DIR`` for the default
locations, ``ECOMCTL_CONSUMER_SINK``, ``ECOMCTL_KAFKA_BOOTSTRAP``). SIGTERM/SIGINT finish the batch in
hand, commit it and leave the group; the Prometheus discovery file goes with the process.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from prometheus_client import start_http_server

from ingest.chaos import ChaosSwitches
from ingest.consumers import discovery
from ingest.consumers.config import WorkerConfig, for_group
from ingest.consumers.metrics import ConsumerMetrics
from ingest.consumers.sinks import sink_from_url
from ingest.consumers.worker import ConsumerWorker
from ingest.contracts import ContractRegistry
from ingest.topics import load_topics

log = logging.getLogger("ingest.consumers")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m ingest.consumers", description=__doc__.splitlines()[0])
    parser.add_argument("--group", required=True, help="consumer group of ingest/topics.yaml")
    parser.add_argument(
        "--bootstrap",
        default=env("ECOMCTL_KAFKA_BOOTSTRAP"),
        required="ECOMCTL_KAFKA_BOOTSTRAP" not in os.environ,
        help="Kafka bootstrap servers HOST:PORT",
    )
    parser.add_argument(
        "--sink",
        default=env("ECOMCTL_CONSUMER_SINK"),
        help="sqlite:///PATH or postgresql://... (default: <state>/sinks/<group>.db)",
    )
    parser.add_argument("--state-dir", type=Path, default=Path(env("ECOMCTL_STATE_DIR", ".ecomctl")))
    parser.add_argument("--sd-dir", type=Path, help="Prometheus file-SD dir (default: <state>/prometheus/sd)")
    parser.add_argument("--chaos-file", type=Path, help="game-day switches (default: <state>/chaos.json)")
    parser.add_argument("--metrics-port", type=int, default=0, help="0 = any free port")
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address /metrics binds to (0.0.0.0 only inside a container)",
    )
    parser.add_argument("--batch", type=int, default=500, help="messages per poll and per sink transaction")
    parser.add_argument("--poll-timeout", type=float, default=1.0, help="seconds")
    parser.add_argument("--topic", help="override the group's topic (tests, benchmarks)")
    parser.add_argument("--dlq-topic", help="override the dead-letter topic")
    parser.add_argument("--group-id", help="override the Kafka group.id (default: --group)")
    parser.add_argument("--session-timeout-ms", type=int, default=10_000)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> WorkerConfig:
    return for_group(
        load_topics(),
        args.group,
        args.bootstrap,
        args.state_dir,
        topic=args.topic,
        dlq_topic=args.dlq_topic,
        sink_url=args.sink,
        sd_dir=args.sd_dir,
        chaos_file=args.chaos_file,
        metrics_port=args.metrics_port,
        batch=args.batch,
        poll_timeout_s=args.poll_timeout,
        group_id=args.group_id,
        session_timeout_ms=args.session_timeout_ms,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        config = build_config(args)
        sink = sink_from_url(config.sink_url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    metrics = ConsumerMetrics(config.group)
    worker = ConsumerWorker(config, sink, metrics, ContractRegistry.load(), ChaosSwitches(config.chaos_file))
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the batch in hand", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server, _thread = start_http_server(
        config.metrics_port or 0, addr=args.metrics_host, registry=metrics.registry
    )
    address = f"{args.metrics_host}:{server.server_address[1]}"
    sd_path = None
    if config.sd_dir is not None:
        for stale in discovery.remove_stale(config.sd_dir, config.group):
            log.info("removed the discovery file of a dead worker: %s", stale)
        sd_path = discovery.publish(config.sd_dir, config.group, os.getpid(), address)
    log.info(
        "group %s on %s -> %s; metrics on http://%s/metrics",
        config.group,
        config.topic,
        config.sink_url.split("@")[-1],
        address,
    )
    try:
        worker.start()
        worker.run(stop)
    finally:
        worker.close()
        if sd_path is not None:
            sd_path.unlink(missing_ok=True)
        server.shutdown()
    log.info("group %s: stopped cleanly", config.group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
