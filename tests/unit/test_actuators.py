"""Actuators: weight validation, one ChangeBatch per write, retries, INSYNC wait, scalers, registry.

No network: boto3 clients are stubbed with botocore's Stubber; sleeps and clocks are injected.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from controlplane.actuators.base import ActuatorError, check_replicas, check_weights
from controlplane.actuators.ecs_consumer import EcsConsumerScaler
from controlplane.actuators.nop_consumer import NopConsumerScaler
from controlplane.actuators.registry import SCALERS, build_scaler
from controlplane.actuators.route53_weight import Route53WeightActuator
from controlplane.settings import Settings, SettingsError

RECORD = "events.ecommerce-domain.com"
ZONE = "ecommerce-domain.com"
ZONE_ID = "Z123"


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x",  # type: ignore[call-overload]
                        aws_secret_access_key="x")  # noqa: S106 - never sent: the client is stubbed


def record_set(name: str, weight: int, value: str) -> dict[str, Any]:
    return {"Name": RECORD + ".", "Type": "CNAME", "SetIdentifier": name, "Weight": weight, "TTL": 5,
            "ResourceRecords": [{"Value": value}]}


SETS = [record_set("primary", 100, "127.0.0.1:18081"), record_set("secondary", 0, "127.0.0.1:18082")]


def zone_lookup(stub: Stubber) -> None:
    stub.add_response("list_hosted_zones_by_name", {
        "HostedZones": [{"Id": f"/hostedzone/{ZONE_ID}", "Name": ZONE + ".", "CallerReference": "r"}],
        "IsTruncated": False, "MaxItems": "100"})


def listing(stub: Stubber, sets: list[dict[str, Any]] = SETS) -> None:
    stub.add_response("list_resource_record_sets", {"ResourceRecordSets": sets, "IsTruncated": False,
                                                    "MaxItems": "300"})


def change_info(status: str) -> dict[str, Any]:
    return {"ChangeInfo": {"Id": "/change/C1", "Status": status, "SubmittedAt": "2026-11-24T00:00:00Z"}}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def actuator(boto: Any, sleeps: Sleeps, **kwargs: Any) -> Route53WeightActuator:
    act = Route53WeightActuator(lambda: boto, ZONE, sleep=sleeps, **kwargs)
    act.start()
    return act


@pytest.mark.parametrize(("wanted", "error"), [
    ({"tertiary": 10}, "no weighted set 'tertiary'"),
    ({"primary": 256}, "primary=256 outside 0..255"),
    ({"primary": -1}, "primary=-1 outside 0..255"),
    ({"primary": "70"}, "primary='70' is not an integer"),
    ({"primary": True}, "primary=True is not an integer"),
    ({"primary": 0}, "would all be 0"),
])
def test_check_weights_refuses_naming_the_item(wanted: dict[str, Any], error: str) -> None:
    with pytest.raises(ActuatorError, match=error):
        check_weights(RECORD, {"primary": 100, "secondary": 0}, wanted)


@pytest.mark.parametrize(("wanted", "merged"), [
    ({"primary": 70, "secondary": 30}, {"primary": 70, "secondary": 30}),
    ({"secondary": 255}, {"primary": 100, "secondary": 255}),  # unnamed sets keep their weight
    ({}, {"primary": 100, "secondary": 0}),
])
def test_check_weights_merges(wanted: dict[str, int], merged: dict[str, int]) -> None:
    assert check_weights(RECORD, {"primary": 100, "secondary": 0}, wanted) == merged


@pytest.mark.parametrize("count", [-1, 1.5, True])
def test_check_replicas_refuses(count: Any) -> None:
    with pytest.raises(ActuatorError, match="must be an integer >= 0"):
        check_replicas("g", count)


def test_read_returns_weights_by_set_identifier() -> None:
    boto = client("route53")
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub, [*SETS, {"Name": "other." + ZONE + ".", "Type": "A", "TTL": 5,
                               "ResourceRecords": [{"Value": "1.2.3.4"}]}])
        assert actuator(boto, Sleeps()).read(RECORD) == {"primary": 100, "secondary": 0}
        stub.assert_no_pending_responses()


def test_write_is_one_batch_of_every_set_keeping_type_ttl_values_after_throttling() -> None:
    boto, sleeps = client("route53"), Sleeps()
    expected_batch = {"Comment": "ecomctl weights primary=70 secondary=30", "Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": SETS[0] | {"Weight": 70}},
        {"Action": "UPSERT", "ResourceRecordSet": SETS[1] | {"Weight": 30}}]}
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub)
        stub.add_client_error("change_resource_record_sets", "Throttling", "Rate exceeded", 400)
        stub.add_client_error("change_resource_record_sets", "PriorRequestNotComplete", "busy", 400)
        stub.add_response("change_resource_record_sets", change_info("PENDING"),
                          {"HostedZoneId": ZONE_ID, "ChangeBatch": expected_batch})
        stub.add_response("get_change", change_info("PENDING"), {"Id": "/change/C1"})
        stub.add_response("get_change", change_info("INSYNC"), {"Id": "/change/C1"})
        after = actuator(boto, sleeps, poll_s=0.5).set_weights(RECORD, {"primary": 70, "secondary": 30})
        stub.assert_no_pending_responses()
    assert after == {"primary": 70, "secondary": 30}
    # Two retry backoffs (with jitter, growing) then two INSYNC polls.
    assert len(sleeps.calls) == 4 and sleeps.calls[2:] == [0.5, 0.5]
    assert 0 < sleeps.calls[0] and 0 < sleeps.calls[1]


def test_throttled_beyond_attempts_fails_with_nothing_written() -> None:
    boto, sleeps = client("route53"), Sleeps()
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub)
        for _ in range(3):
            stub.add_client_error("change_resource_record_sets", "Throttling", "Rate exceeded", 400)
        with pytest.raises(ActuatorError,
                           match="change_resource_record_sets failed after retries: Throttling"):
            actuator(boto, sleeps, attempts=3).set_weights(RECORD, {"primary": 0, "secondary": 100})
        stub.assert_no_pending_responses()
    assert len(sleeps.calls) == 2


def test_non_transient_error_is_not_retried() -> None:
    boto, sleeps = client("route53"), Sleeps()
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub)
        stub.add_client_error("change_resource_record_sets", "InvalidChangeBatch", "bad", 400)
        with pytest.raises(ActuatorError, match="InvalidChangeBatch"):
            actuator(boto, sleeps).set_weights(RECORD, {"primary": 50})
    assert sleeps.calls == []


def test_invalid_weights_never_reach_route53() -> None:
    boto = client("route53")
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub)  # read only: any write would find no stubbed response and fail differently
        with pytest.raises(ActuatorError, match="secondary=300 outside 0..255"):
            actuator(boto, Sleeps()).set_weights(RECORD, {"primary": 0, "secondary": 300})
        stub.assert_no_pending_responses()


def test_unchanged_weights_write_nothing() -> None:
    boto = client("route53")
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub)
        after = actuator(boto, Sleeps()).set_weights(RECORD, {"primary": 100})
        assert after == {"primary": 100, "secondary": 0}
        stub.assert_no_pending_responses()


def test_insync_wait_is_bounded() -> None:
    boto, sleeps = client("route53"), Sleeps()
    clock = iter([0.0, 0.5, 1.0, 1.5, 2.5])
    with Stubber(boto) as stub:
        zone_lookup(stub)
        listing(stub)
        stub.add_response("change_resource_record_sets", change_info("PENDING"))
        for _ in range(3):
            stub.add_response("get_change", change_info("PENDING"))
        act = actuator(boto, sleeps, sync_timeout_s=2.0, poll_s=0.5, monotonic=lambda: next(clock))
        with pytest.raises(ActuatorError, match="still PENDING after 2s"):
            act.set_weights(RECORD, {"primary": 50, "secondary": 50})


def test_missing_zone_is_named() -> None:
    boto = client("route53")
    with Stubber(boto) as stub:
        stub.add_response("list_hosted_zones_by_name", {"HostedZones": [], "IsTruncated": False,
                                                        "MaxItems": "100"})
        with pytest.raises(ActuatorError, match=f"hosted zone {ZONE} not found"):
            actuator(boto, Sleeps()).read(RECORD)


def ecs_service(desired: int, status: str = "ACTIVE") -> dict[str, Any]:
    service = {"serviceName": "consumer-cart-processor", "desiredCount": desired, "status": status}
    return {"services": [service], "failures": []}


def test_ecs_scaler_reads_and_sets_desired_count() -> None:
    boto = client("ecs")
    with Stubber(boto) as stub:
        expected = {"cluster": "ecomctl", "services": ["consumer-cart-processor"]}
        stub.add_response("describe_services", ecs_service(2), expected)
        stub.add_response("describe_services", ecs_service(2), expected)
        stub.add_client_error("update_service", "ThrottlingException", "slow down", 400)
        stub.add_response("update_service", {"service": {"desiredCount": 4}},
                          {"cluster": "ecomctl", "service": "consumer-cart-processor", "desiredCount": 4})
        scaler = EcsConsumerScaler(lambda: boto, sleep=Sleeps())
        scaler.start()
        assert scaler.replicas("cart-processor") == 2
        scaler.set_replicas("cart-processor", 4)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("answer", [ecs_service(1, "INACTIVE"), {"services": [], "failures": []}])
def test_ecs_scaler_names_a_missing_service(answer: dict[str, Any]) -> None:
    boto = client("ecs")
    with Stubber(boto) as stub:
        stub.add_response("describe_services", answer)
        scaler = EcsConsumerScaler(lambda: boto, sleep=Sleeps())
        scaler.start()
        with pytest.raises(ActuatorError, match="consumer-cart-processor not found in cluster ecomctl"):
            scaler.replicas("cart-processor")


def test_nop_scaler_remembers_in_memory() -> None:
    scaler = NopConsumerScaler({"g": 2})
    scaler.set_replicas("g", 3)
    assert (scaler.replicas("g"), scaler.writes) == (3, 1)
    with pytest.raises(ActuatorError, match="replicas of h unknown"):
        scaler.replicas("h")


@pytest.mark.parametrize("backend", sorted(SCALERS))
def test_registry_builds_every_backend_without_connecting(backend: str, tmp_path: Any) -> None:
    scaler = build_scaler(Settings(state_dir=tmp_path, scaling_backend=backend))
    assert type(scaler).__name__.endswith("ConsumerScaler")


def test_registry_refuses_an_unknown_backend(tmp_path: Any) -> None:
    with pytest.raises(SettingsError, match="scaling_backend 'k8s'.*expected one of ecs, local, nop"):
        build_scaler(Settings(state_dir=tmp_path, scaling_backend="k8s"))
