"""Route53WeightActuator against the real moto server of the session stack.

The stack's record events.ecommerce-domain.com starts at primary=100 secondary=0; every test that
moves it puts it back. A throttling front (a loopback proxy that forwards reads to moto and answers
every write with Route 53's Throttling error) shows retries, a FAILED audit entry and no partial write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from controlplane.actuators.aws import boto_client
from controlplane.actuators.base import ActuatorError
from controlplane.actuators.executor import SET_WEIGHTS, Executor
from controlplane.actuators.nop_consumer import NopConsumerScaler
from controlplane.actuators.route53_weight import Route53WeightActuator
from controlplane.audit import AuditLog
from controlplane.model import Result
from controlplane.settings import Settings
from tests.conftest import free_ports

THROTTLED = (b'<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
             b"<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
             b"<RequestId>r-1</RequestId></ErrorResponse>")


@pytest.fixture
def record(stack_settings: Settings, route53_endpoint: str) -> Iterator[str]:
    yield stack_settings.ingest_record
    actuator = Route53WeightActuator.from_settings(stack_settings)
    actuator.start()
    actuator.set_weights(stack_settings.ingest_record, {"primary": 100, "secondary": 0})


def fresh(settings: Settings) -> Route53WeightActuator:
    url, region = settings.route53_url, settings.aws_region
    actuator = Route53WeightActuator(lambda: boto_client("route53", url, region), settings.hosted_zone,
                                     sleep=lambda _s: None)
    actuator.start()
    return actuator


def weights_seen_by_boto3(settings: Settings, record: str) -> dict[str, int]:
    client = boto_client("route53", settings.route53_url, settings.aws_region)
    zone = client.list_hosted_zones_by_name(DNSName=settings.hosted_zone + ".")["HostedZones"][0]["Id"]
    sets = client.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {rs["SetIdentifier"]: rs["Weight"] for rs in sets
            if rs["Name"].rstrip(".") == record and "SetIdentifier" in rs}


def test_weights_round_trip_in_one_change(stack_settings: Settings, record: str) -> None:
    actuator = fresh(stack_settings)
    assert actuator.read(record) == {"primary": 100, "secondary": 0}
    before_sets = {rs["SetIdentifier"]: rs for rs in actuator.record_sets(record)}
    assert actuator.set_weights(record, {"primary": 70, "secondary": 30}) == {"primary": 70, "secondary": 30}
    assert weights_seen_by_boto3(stack_settings, record) == {"primary": 70, "secondary": 30}
    # Type, TTL and values are kept: only the weights moved.
    for name, rs in {rs["SetIdentifier"]: rs for rs in actuator.record_sets(record)}.items():
        assert {k: v for k, v in rs.items() if k != "Weight"} == \
            {k: v for k, v in before_sets[name].items() if k != "Weight"}


@pytest.mark.parametrize(("wanted", "error"), [
    ({"primary": 256}, "outside 0..255"),
    ({"tertiary": 10}, "no weighted set 'tertiary'"),
    ({"primary": 0, "secondary": 0}, "would all be 0"),
])
def test_emulator_never_sees_invalid_weights(stack_settings: Settings, record: str, wanted: dict[str, int],
                                             error: str) -> None:
    with pytest.raises(ActuatorError, match=error):
        fresh(stack_settings).set_weights(record, wanted)
    assert weights_seen_by_boto3(stack_settings, record) == {"primary": 100, "secondary": 0}


class ThrottlingFront(ThreadingHTTPServer):
    """Forwards reads to moto; answers every write 400 Throttling. Counts the writes it refused."""

    def __init__(self, port: int, upstream: str) -> None:
        self.upstream = upstream
        self.writes = 0
        super().__init__(("127.0.0.1", port), _FrontHandler)


class _FrontHandler(BaseHTTPRequestHandler):
    server: ThrottlingFront

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        # moto routes by the signed headers (the service in the credential scope): pass them on.
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        answer = httpx.get(self.server.upstream + self.path, headers=headers, timeout=10)
        self._send(answer.status_code, answer.content)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.writes += 1
        self._send(400, THROTTLED)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return


@pytest.fixture
def throttling_front(route53_endpoint: str) -> Iterator[ThrottlingFront]:
    front = ThrottlingFront(free_ports(1)[0], route53_endpoint)
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    yield front
    front.shutdown()
    front.server_close()


def test_throttled_writes_are_retried_audited_failed_and_change_nothing(
        stack_settings: Settings, record: str, throttling_front: ThrottlingFront, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{throttling_front.server_address[1]}"
    sleeps: list[float] = []
    actuator = Route53WeightActuator(lambda: boto_client("route53", url, stack_settings.aws_region),
                                     stack_settings.hosted_zone, attempts=4, sleep=sleeps.append)
    executor = Executor(actuator, NopConsumerScaler({}))
    executor.start()
    audit = AuditLog(tmp_path / "controlplane.db")
    audit.start()
    result = executor.change("policy:ingest-failover", SET_WEIGHTS, record, {"primary": 0, "secondary": 100},
                             "error ratio 1 > 0.05")
    audit.record(result)
    assert result.result is Result.FAILED and "Throttling" in result.reason
    assert result.before == result.after == {"primary": 100, "secondary": 0}
    assert throttling_front.writes == 4 and len(sleeps) == 3
    assert audit.entries()[0].result == "failed"
    assert weights_seen_by_boto3(stack_settings, record) == {"primary": 100, "secondary": 0}


def test_unreachable_endpoint_fails_after_retries(stack_settings: Settings, record: str) -> None:
    url = f"http://127.0.0.1:{free_ports(1)[0]}"  # nothing listens there
    actuator = Route53WeightActuator(lambda: boto_client("route53", url, stack_settings.aws_region, 2.0),
                                     stack_settings.hosted_zone, attempts=3, sleep=lambda _s: None)
    executor = Executor(actuator, NopConsumerScaler({}))
    executor.start()
    result = executor.change("user:test", SET_WEIGHTS, record, {"primary": 50, "secondary": 50}, "operator")
    assert result.result is Result.FAILED and "Could not connect" in result.reason
