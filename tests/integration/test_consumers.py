"""Consumer workers on the real broker: exactly-once sinks (SQLite and PostgreSQL), redelivery, a
SIGKILL mid-stream, poison messages. Workers run as real processes with the product's command line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from ingest.chaos import write_switch
from tests.conftest import REPO, free_ports

pytestmark = pytest.mark.integration
PG_BIN = Path("/usr/lib/postgresql/15/bin")
GROUPS = {"page_view": "page-views-aggregator", "cart": "cart-processor", "purchase": "purchase-processor"}


# events ----------------------------------------------------------------------------------------
def envelope(event_type: str, payload: dict[str, Any], session: str, minute: int = 0) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "event_type": event_type, "schema_version": 1,
            "occurred_at": f"2026-11-24T10:{minute:02d}:{minute % 60:02d}.250Z", "session_id": session,
            "user_id": None, "payload": payload}


def mixed_events(n: int) -> list[dict[str, Any]]:
    events = []
    for i in range(n):
        session = f"s-{i}"
        kind = i % 3
        if kind == 0:
            product = None if i % 5 == 0 else f"p{i % 7}"
            payload = {"url": f"/p/{i % 7}", "referrer": None, "product_id": product}
            events.append(envelope("page_view", payload, session, i % 4))
        elif kind == 1:
            events.append(envelope("cart", {"action": "add", "product_id": f"p{i % 7}", "quantity": 1 + i % 3,
                                            "unit_price": 9.5, "currency": "EUR"}, session))
        else:
            items = [{"product_id": f"p{j}", "quantity": 1, "unit_price": 2.0} for j in range(1 + i % 3)]
            events.append(envelope("purchase", {"order_id": f"o-{i}", "items": items,
                                                "total": 2.0 * len(items), "currency": "EUR",
                                                "payment_method": "card"}, session))
    return events


def key_of(event: dict[str, Any]) -> str:
    return event["payload"]["order_id"] if event["event_type"] == "purchase" else event["session_id"]


def expected_state(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the sinks must hold, computed from the events independently of the sink code."""
    views = Counter((e["payload"]["product_id"] or "(none)", e["occurred_at"][:16] + ":00Z")
                    for e in events if e["event_type"] == "page_view")
    carts = sorted((e["session_id"], e["payload"]["product_id"], e["payload"]["quantity"])
                   for e in events if e["event_type"] == "cart")
    purchases = [e for e in events if e["event_type"] == "purchase"]
    return {"page_view": sorted((p, m, n) for (p, m), n in views.items()), "cart": carts,
            "purchase": (len(purchases), sum(len(e["payload"]["items"]) for e in purchases)),
            "processed": Counter(e["event_type"] for e in events)}


# Kafka -----------------------------------------------------------------------------------------
def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(n, partitions, 1) for n in names]).values():
        future.result(30)


def produce(bootstrap: str, topic: str, values: list[tuple[str, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for key, value in values:
        producer.produce(topic, key=key.encode(), value=value)
        producer.poll(0)
    assert producer.flush(30) == 0


def encoded(events: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    return [(key_of(e), json.dumps(e).encode()) for e in events]


def read_all(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            for message in consumer.consume(100, 0.5):
                value = message.value()
                if message.error() is None and value is not None:
                    found.append(json.loads(value))
    finally:
        consumer.close()
    return found


def committed_all(bootstrap: str, group_id: str, topic: str) -> bool:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = [TopicPartition(topic, p) for p in partitions]
        committed = consumer.committed(tps, timeout=10)
        ends = [consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps]
        return all(c.offset == e for c, e in zip(committed, ends, strict=True))
    finally:
        consumer.close()


# workers ---------------------------------------------------------------------------------------
STARTED: list[Worker] = []


@pytest.fixture(autouse=True)
def _no_worker_left_behind() -> Iterator[None]:
    """A failing test must not leave its worker processes running."""
    yield
    while STARTED:
        worker = STARTED.pop()
        if worker.proc.poll() is None:
            worker.stop(signal.SIGKILL)


class Worker:
    def __init__(self, bootstrap: str, group: str, topic: str, dlq: str, sink: str, home: Path,
                 batch: int = 200) -> None:
        self.home, self.group = home, group
        self.sd_dir = home / "sd"
        command = [sys.executable, "-m", "ingest.consumers", "--group", group, "--bootstrap", bootstrap,
                   "--topic", topic, "--dlq-topic", dlq, "--group-id", f"{group}-{topic}", "--sink", sink,
                   "--sd-dir", str(self.sd_dir), "--chaos-file", str(home / "chaos.json"),
                   "--batch", str(batch), "--poll-timeout", "0.2", "--session-timeout-ms", "6000"]
        self.log = open(home / f"{group}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)
        STARTED.append(self)

    @property
    def sd_file(self) -> Path:
        return self.sd_dir / f"consumer-{self.group}-{self.proc.pid}.json"

    def metrics(self) -> str:
        wait_for(self.sd_file.exists, "discovery file")
        target = json.loads(self.sd_file.read_text())[0]["targets"][0]
        return httpx.get(f"http://{target}/metrics", timeout=5).text

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(30)
        if not self.log.closed:
            self.log.close()
        return code


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


# sinks -----------------------------------------------------------------------------------------
class SinkReader:
    def __init__(self, urls: dict[str, str], query: Callable[[str, str], list[tuple[Any, ...]]]) -> None:
        self.urls, self._query = urls, query

    def rows(self, group: str, sql: str) -> list[tuple[Any, ...]]:
        return self._query(self.urls[group], sql)

    def processed(self, group: str) -> int:
        try:
            return int(self.rows(group, "SELECT count(*) FROM processed_events")[0][0])
        except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
            return 0  # the worker has not created its tables yet

    def state(self) -> dict[str, Any]:
        views = self.rows("page-views-aggregator",
                          "SELECT product_id, minute, views FROM page_views_per_minute")
        carts = self.rows("cart-processor", "SELECT session_id, product_id, quantity FROM carts")
        orders = self.rows("purchase-processor", "SELECT (SELECT count(*) FROM orders), "
                                                 "(SELECT count(*) FROM order_items)")[0]
        return {"page_view": sorted((p, m, int(n)) for p, m, n in views),
                "cart": sorted((s, p, int(q)) for s, p, q in carts),
                "purchase": (int(orders[0]), int(orders[1])),
                "processed": self.processed_by_type()}

    def processed_by_type(self) -> Counter[str]:
        return Counter({t: self.processed(g) for t, g in GROUPS.items()})


def sqlite_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    path = url.removeprefix("sqlite:///")
    if not Path(path).exists():
        raise sqlite3.OperationalError("no database yet")
    with closing(sqlite3.connect(path, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def postgres_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server (Debian's binaries) in a temp dir, on a free loopback port; stopped by pid."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"{PG_BIN}/initdb not found: apt-get install -y postgresql-15")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    home = Path(tempfile.mkdtemp(prefix="ecomctl-pg-"))
    if as_user:
        shutil.chown(home, "postgres")
    data, port = home / "data", free_ports(1)[0]
    subprocess.run([*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "start",
                    "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"],
                   check=True, capture_output=True)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        os.kill(pid, signal.SIGINT)  # "fast" shutdown
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists(), f"postgres {pid} did not stop"
        shutil.rmtree(home, ignore_errors=True)


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sqlite_sinks(tmp_path: Path) -> SinkReader:
    return SinkReader({g: f"sqlite:///{tmp_path / 'sinks' / g}.db" for g in GROUPS.values()}, sqlite_query)


def postgres_sinks(server: str) -> SinkReader:
    """One fresh database per group on the test server."""
    urls = {}
    for group in GROUPS.values():
        db = fresh("sink").replace("-", "_")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {db}")
        urls[group] = server.rsplit("/", 1)[0] + f"/{db}"
    return SinkReader(urls, postgres_query)


# tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_mixed_events_land_exactly_once_and_redelivery_adds_nothing(
    kind: str, kafka_bootstrap: str, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    if kind == "sqlite":
        sinks = sqlite_sinks(tmp_path)
    else:
        sinks = postgres_sinks(request.getfixturevalue("postgres_url"))
    topics = {t: fresh(t) for t in GROUPS}
    dlq = fresh("dlq")
    create_topics(kafka_bootstrap, [*topics.values(), dlq])
    events = mixed_events(3000)
    for event_type, topic in topics.items():
        produce(kafka_bootstrap, topic, encoded([e for e in events if e["event_type"] == event_type]))
    expected = expected_state(events)

    def run_workers() -> list[Worker]:
        return [Worker(kafka_bootstrap, group, topics[event_type], dlq, sinks.urls[group], tmp_path)
                for event_type, group in GROUPS.items()]

    workers = run_workers()
    wait_for(lambda: sinks.processed_by_type() == expected["processed"], "3000 events in the sinks")
    wait_for(lambda: all(committed_all(kafka_bootstrap, f"{g}-{topics[t]}", topics[t])
                         for t, g in GROUPS.items()), "offsets committed")
    assert sinks.state() == expected
    processed = sum(metric(w.metrics(), "consumer_events_processed_total") for w in workers)
    assert processed == 3000
    sd_files = [w.sd_file for w in workers]
    assert [w.stop() for w in workers] == [0, 0, 0]
    assert not any(f.exists() for f in sd_files), "discovery files must go with a graceful exit"

    # The same batch again (a producer retrying everything): only duplicates.
    for event_type, topic in topics.items():
        produce(kafka_bootstrap, topic, encoded([e for e in events if e["event_type"] == event_type]))
    workers = run_workers()
    wait_for(lambda: all(committed_all(kafka_bootstrap, f"{g}-{topics[t]}", topics[t])
                         for t, g in GROUPS.items()), "re-produced events consumed")
    duplicates = sum(metric(w.metrics(), "consumer_duplicates_total") for w in workers)
    assert [w.stop() for w in workers] == [0, 0, 0]
    assert duplicates == 3000
    assert sinks.state() == expected


def test_sigkill_mid_stream_then_restart_holds_every_event_once(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic, dlq, group = fresh("pv-kill"), fresh("dlq"), "page-views-aggregator"
    create_topics(kafka_bootstrap, [topic, dlq])
    events = [e for e in mixed_events(6000) if e["event_type"] == "page_view"]
    produce(kafka_bootstrap, topic, encoded(events))
    sinks = sqlite_sinks(tmp_path)
    write_switch(tmp_path / "chaos.json", "consumer_delay_ms", group, 2)  # ~4 s for the 2000 events

    first = Worker(kafka_bootstrap, group, topic, dlq, sinks.urls[group], tmp_path, batch=50)
    wait_for(lambda: sinks.processed(group) >= 300, "the first worker to be mid-stream")
    stale_sd = first.sd_file
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    assert stale_sd.exists()
    assert sinks.processed(group) < len(events), "the kill must land mid-stream"

    write_switch(tmp_path / "chaos.json", "consumer_delay_ms", group, 0)
    second = Worker(kafka_bootstrap, group, topic, dlq, sinks.urls[group], tmp_path)
    wait_for(lambda: committed_all(kafka_bootstrap, f"{group}-{topic}", topic), "the restart to catch up")
    wait_for(lambda: not stale_sd.exists(), "the dead worker's discovery file to be removed")
    assert second.stop() == 0
    assert sinks.processed(group) == len(events)
    views = sinks.rows(group, "SELECT sum(views) FROM page_views_per_minute")[0][0]
    assert views == len(events)
    rows = sinks.rows(group, "SELECT product_id, minute, views FROM page_views_per_minute")
    assert sorted(rows) == expected_state(events)["page_view"]


def test_poison_messages_go_to_the_dlq_and_the_worker_keeps_going(kafka_bootstrap: str,
                                                                  tmp_path: Path) -> None:
    topic, dlq, group = fresh("purchases-poison"), fresh("dlq"), "purchase-processor"
    create_topics(kafka_bootstrap, [topic, dlq], partitions=1)
    good = [e for e in mixed_events(9) if e["event_type"] == "purchase"]  # o-2, o-5, o-8
    same_order = dict(good[0], event_id=str(uuid.uuid4()))  # a second purchase event for order o-2
    invalid = dict(good[1], event_id=str(uuid.uuid4()), payload={"order_id": "o-x"})
    poison = [("k", b"{not json"), *encoded([invalid, same_order])]
    produce(kafka_bootstrap, topic, [*encoded(good[:2]), *poison])
    sinks = sqlite_sinks(tmp_path)
    worker = Worker(kafka_bootstrap, group, topic, dlq, sinks.urls[group], tmp_path)
    wait_for(lambda: committed_all(kafka_bootstrap, f"{group}-{topic}", topic), "the poison batch committed")

    produce(kafka_bootstrap, topic, encoded(good[2:]))  # the worker is still consuming
    wait_for(lambda: sinks.processed(group) == 3, "the event after the poison")
    dead = read_all(kafka_bootstrap, dlq, 3)
    failed = metric(worker.metrics(), "consumer_events_failed_total")
    assert worker.stop() == 0
    assert sorted(d["reason"] for d in dead) == ["decode", "schema", "sink"]
    assert {d["group"] for d in dead} == {group}
    by_reason = {d["reason"]: d for d in dead}
    assert by_reason["decode"]["raw"] == "{not json"
    assert by_reason["sink"]["event"]["event_id"] == same_order["event_id"]
    assert failed == 3
    orders = sinks.rows(group, "SELECT order_id FROM orders ORDER BY order_id")
    assert orders == [("o-2",), ("o-5",), ("o-8",)]
