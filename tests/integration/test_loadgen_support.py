"""Helpers of the loadgen integration tests: loopback processes, Route 53 weights, gateway metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
from prometheus_client.parser import text_string_to_metric_families

from controlplane.stack.ports import free_loopback_ports
from controlplane.stack.route53 import weighted_upserts

ROOT = Path(__file__).resolve().parents[2]
ZONE = "ecommerce-domain.com"
RECORD = "events.ecommerce-domain.com"


def free_port() -> int:
    return free_loopback_ports(1)[0]


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not up after {timeout}s")


@contextmanager
def loopback_process(
    args: list[str], probe_path: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """Start ``args`` (with ``{port}`` filled in) on a free loopback port; stop it by pid afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [a.format(port=port) for a in args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + probe_path, process)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def sink(name: str) -> Iterator[str]:
    """The stand-in gateway of test_loadgen_sink.py, labelled ``name``."""
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.integration.test_loadgen_sink:app",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with loopback_process(args, "/stats", {"SINK_NAME": name}) as (url, _):
        yield url


@contextmanager
def moto_server() -> Iterator[str]:
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"]
    with loopback_process(args, "/moto-api/data.json") as (url, _):
        yield url


def route53(endpoint: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "route53",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def zone_id(client: Any, zone: str = ZONE) -> str:
    wanted = zone.rstrip(".") + "."
    for hosted in client.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]:
        if hosted["Name"] == wanted:
            return str(hosted["Id"])
    return str(client.create_hosted_zone(Name=zone, CallerReference=f"loadgen-{zone}")["HostedZone"]["Id"])


def weighted_records(client: Any, record: str = RECORD, zone: str = ZONE) -> dict[str, dict[str, Any]]:
    name = record.rstrip(".") + "."
    sets = client.list_resource_record_sets(HostedZoneId=zone_id(client, zone))["ResourceRecordSets"]
    return {rs["SetIdentifier"]: rs for rs in sets if rs["Name"] == name and "SetIdentifier" in rs}


def upsert_records(
    client: Any,
    values: Mapping[str, str],
    weights: Mapping[str, int],
    ttl: int,
    record: str = RECORD,
    zone: str = ZONE,
) -> None:
    changes = weighted_upserts(record, dict(values), dict(weights), ttl)
    client.change_resource_record_sets(HostedZoneId=zone_id(client, zone), ChangeBatch={"Changes": changes})


def set_weights(client: Any, weights: Mapping[str, int], record: str = RECORD, zone: str = ZONE) -> None:
    """Change only the weights of the existing records (values and TTL kept)."""
    current = weighted_records(client, record, zone)
    changes = [
        {"Action": "UPSERT", "ResourceRecordSet": {**current[name], "Weight": weight}}
        for name, weight in weights.items()
    ]
    client.change_resource_record_sets(HostedZoneId=zone_id(client, zone), ChangeBatch={"Changes": changes})


def events_total(base_url: str, gateway: str) -> float:
    """Sum of ``ingest_events_total{gateway=...}`` on a gateway's /metrics (accepted and rejected)."""
    text = httpx.get(f"{base_url.rstrip('/')}/metrics", timeout=5.0).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ingest_events_total" and sample.labels.get("gateway") == gateway:
                total += sample.value
    return total


def run_cli(args: list[str], env: Mapping[str, str] | None = None, timeout: float = 120.0) -> dict[str, Any]:
    """``ecomctl <args> --json`` in its own process (its own core); returns the JSON document."""
    done = subprocess.run(
        [sys.executable, "-m", "controlplane.cli", *args, "--json"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    document: dict[str, Any] = json.loads(done.stdout)
    return document
