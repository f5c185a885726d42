"""Targets: URL forms, weighted picking (seeded), Route 53 lookups cached for the TTL (moto in-process)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ingest.loadgen.config import Route53Source
from ingest.loadgen.targets import Route53Targets, StaticTargets, Target, WeightedPicker, events_url

ZONE = "ecommerce-domain.com"
RECORD = "events.ecommerce-domain.com"


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("127.0.0.1:18081", "http://127.0.0.1:18081/v1/events"),
        ("http://127.0.0.1:18081", "http://127.0.0.1:18081/v1/events"),
        ("http://127.0.0.1:18081/", "http://127.0.0.1:18081/v1/events"),
        ("https://gw.example/v1/events", "https://gw.example/v1/events"),
        ("http://gw.example/ingest", "http://gw.example/ingest/v1/events"),
    ],
)
def test_events_url_accepts_host_port_and_urls(value: str, url: str) -> None:
    assert events_url(value) == url


def test_static_target_is_named_by_host_port() -> None:
    source = StaticTargets("http://127.0.0.1:9999")
    assert [t.name for t in source.targets()] == ["127.0.0.1:9999"]
    assert not source.stale(1e9)


@pytest.mark.parametrize(
    ("weights", "expected_share"),
    [
        ((100, 0), {"primary": 1.0}),
        ((0, 100), {"secondary": 1.0}),
        ((70, 30), {"primary": 0.7, "secondary": 0.3}),
        ((1, 3), {"primary": 0.25, "secondary": 0.75}),
        ((0, 0), {"primary": 0.5, "secondary": 0.5}),
    ],
)
def test_weighted_picks_follow_route53_shares(
    weights: tuple[int, int], expected_share: dict[str, float]
) -> None:
    targets = [
        Target("primary", "http://a/v1/events", weights[0]),
        Target("secondary", "http://b/v1/events", weights[1]),
    ]
    picker = WeightedPicker(random.Random(3))
    picks = Counter(picker.pick(targets).name for _ in range(20_000))
    assert set(picks) == set(expected_share)
    for name, share in expected_share.items():
        assert picks[name] / 20_000 == pytest.approx(share, abs=0.015)


def test_picking_from_nothing_is_an_error() -> None:
    with pytest.raises(LookupError):
        WeightedPicker(random.Random(0)).pick([])


@dataclass(frozen=True)
class Zone:
    client: Any
    zone_id: str


@pytest.fixture()
def route53() -> Iterator[Zone]:
    with mock_aws():
        client = boto3.client(
            "route53", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        zone_id = client.create_hosted_zone(Name=ZONE, CallerReference="t")["HostedZone"]["Id"]
        yield Zone(client, zone_id)


def _set_weights(
    zone: Zone, weights: dict[str, int], ttl: int = 5, values: dict[str, str] | None = None
) -> None:
    values = values or {"primary": "127.0.0.1:18081", "secondary": "http://127.0.0.1:18082"}
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": RECORD,
                "Type": "CNAME",
                "SetIdentifier": name,
                "Weight": weight,
                "TTL": ttl,
                "ResourceRecords": [{"Value": values[name]}],
            },
        }
        for name, weight in weights.items()
    ]
    zone.client.change_resource_record_sets(HostedZoneId=zone.zone_id, ChangeBatch={"Changes": changes})


def _source(zone: Zone) -> Route53Targets:
    return Route53Targets(
        Route53Source(hosted_zone=ZONE, record=RECORD), client_factory=lambda _: zone.client
    )


def _weights(source: Route53Targets) -> dict[str, int]:
    return {t.name: t.weight for t in source.targets()}


def test_reads_weighted_records_with_both_value_forms(route53: Zone) -> None:
    _set_weights(route53, {"primary": 100, "secondary": 0})
    source = _source(route53)
    source.refresh(0.0)
    assert [(t.name, t.url, t.weight) for t in source.targets()] == [
        ("primary", "http://127.0.0.1:18081/v1/events", 100),
        ("secondary", "http://127.0.0.1:18082/v1/events", 0),
    ]


@pytest.mark.parametrize(
    ("ttl", "now", "stale"),
    [(5, 0.0, False), (5, 4.99, False), (5, 5.0, True), (30, 29.0, False), (30, 31.0, True)],
)
def test_answers_are_cached_for_the_record_ttl(route53: Zone, ttl: int, now: float, stale: bool) -> None:
    _set_weights(route53, {"primary": 100, "secondary": 0}, ttl=ttl)
    source = _source(route53)
    source.refresh(0.0)
    assert source.stale(now) is stale


def test_a_weight_shift_is_seen_after_one_ttl(route53: Zone) -> None:
    _set_weights(route53, {"primary": 100, "secondary": 0}, ttl=5)
    source = _source(route53)
    source.refresh(0.0)
    _set_weights(route53, {"primary": 0, "secondary": 100}, ttl=5)
    # Within the TTL the cached answer stands (the runner only refreshes when stale).
    assert not source.stale(4.0)
    assert _weights(source) == {"primary": 100, "secondary": 0}
    assert source.stale(5.0)
    source.refresh(5.0)
    assert _weights(source) == {"primary": 0, "secondary": 100}
    assert source.lookups == 2


def test_a_failed_lookup_keeps_the_last_answer_and_retries_soon(route53: Zone) -> None:
    _set_weights(route53, {"primary": 60, "secondary": 40}, ttl=30)
    source = _source(route53)
    source.refresh(0.0)
    route53.client.change_resource_record_sets(
        HostedZoneId=route53.zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "DELETE", "ResourceRecordSet": rs}
                for rs in route53.client.list_resource_record_sets(HostedZoneId=route53.zone_id)[
                    "ResourceRecordSets"
                ]
                if rs.get("SetIdentifier")
            ]
        },
    )
    source.refresh(30.0)
    assert _weights(source) == {"primary": 60, "secondary": 40}
    assert source.last_error is not None and "no weighted records" in source.last_error
    assert not source.stale(30.5) and source.stale(31.0)


def test_first_lookup_failure_is_raised(route53: Zone) -> None:
    source = Route53Targets(
        Route53Source(hosted_zone="other.example", record=RECORD), client_factory=lambda _: route53.client
    )
    with pytest.raises(LookupError, match="other.example"):
        source.refresh(0.0)
