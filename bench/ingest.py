"""Ingest throughput and latency, in one run on the same broker.

- baseline: a raw confluent-kafka producer (the page-view profile) sending the same event bytes;
- batched: the gateway under wrk, 100 events per request;
- single: single-event requests at ~1,000 requests/s (wrk, paced connections) with p50/p99.
Goals: batched >= 50% of the raw producer's events/s; single-event p99 <= 20 ms at 1,000 requests/s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # noqa: S404 - runs wrk, a fixed command line
import tempfile
import time
from pathlib import Path

import orjson
from confluent_kafka import Producer

from bench.common import BENCH_API_KEY, bench_stack, report
from ingest.topics import load_topics
from tests.factories import mixed_events

RAW_EVENTS = 200_000
WRK_SECONDS = 15
SINGLE_RATE = 1000
SINGLE_CONNECTIONS = 24
# wrk paces each connection by a fixed pause after each answer, so the rate is
# connections / (pause + latency): a 20 ms pause over 24 connections gives ~1,000/s at ~4 ms.
SINGLE_PAUSE_MS = 20
LUA = Path(__file__).with_name("wrk_post.lua")


def raw_producer_rate(bootstrap: str, values: list[bytes]) -> float:
    profile = load_topics().profiles["loss-tolerant"].producer
    producer = Producer(
        {"bootstrap.servers": bootstrap, **profile, "queue.buffering.max.messages": 1_000_000}
    )
    started = time.perf_counter()
    for i in range(RAW_EVENTS):
        value = values[i % len(values)]
        while True:
            try:
                producer.produce("page-views", value, str(i % 500).encode())
                break
            except BufferError:
                producer.poll(0.01)
        if i % 10000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0
    return RAW_EVENTS / (time.perf_counter() - started)


def wrk(
    url: str, body: bytes, connections: int, seconds: int, delay_ms: int | None = None
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as body_file:
        body_file.write(body)
        body_file.flush()
        env = {**os.environ, "BODY_FILE": body_file.name, "API_KEY": BENCH_API_KEY}
        if delay_ms:
            env["DELAY_MS"] = str(delay_ms)
        wrk_bin = shutil.which("wrk") or "wrk"
        out = subprocess.run(  # noqa: S603
            [wrk_bin, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA), f"{url}/v1/events"],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
            env=env,
        ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"wrk printed no result: {out}")
    requests, duration_us, status_errors, socket_errors = (int(match.group(i)) for i in range(1, 5))
    p50, p99, p999 = (float(match.group(i)) / 1000.0 for i in range(5, 8))  # microseconds -> ms
    return {
        "requests_per_s": requests / (duration_us / 1e6),
        "non_2xx": status_errors,
        "socket_errors": socket_errors,
        "p50_ms": p50,
        "p99_ms": p99,
        "p999_ms": p999,
    }


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "bench/ingest.py needs wrk (Debian: apt-get install -y wrk; `make bench` installs it)"
        )
    events = mixed_events(100, seed=3)
    values = [orjson.dumps(e) for e in events]
    with bench_stack(("kafka", "gateways")) as stack:
        url = stack.settings.gateway_url("primary")
        raw = raw_producer_rate(stack.settings.kafka_bootstrap, values)
        batched = wrk(url, orjson.dumps(events), connections=32, seconds=WRK_SECONDS)
        single = wrk(
            url,
            values[1],
            connections=SINGLE_CONNECTIONS,
            seconds=WRK_SECONDS,
            delay_ms=SINGLE_PAUSE_MS,
        )
    batched_events = batched["requests_per_s"] * 100
    report(
        "ingest",
        figures={
            "gateway_batched_events_per_s": round(batched_events),
            "batched_non_2xx": batched["non_2xx"],
            "single_requests_per_s": round(single["requests_per_s"]),
            "single_p50_ms": single["p50_ms"],
            "single_p99_ms": single["p99_ms"],
            "single_p999_ms": single["p999_ms"],
            "single_non_2xx": single["non_2xx"],
        },
        baseline={"raw_producer_events_per_s": round(raw)},
        ratio=batched_events / raw,
        goals={"ratio_min": 0.5, "single_p99_ms_max": 20.0, "single_rate": SINGLE_RATE},
    )


if __name__ == "__main__":
    main()
