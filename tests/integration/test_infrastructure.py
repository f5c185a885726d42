"""The foundation on real parts: produce/consume on Kafka, a scraped target in Prometheus, weighted
records through boto3 against the Route 53 emulator."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from controlplane.settings import Settings
from controlplane.stack.route53 import aws_client, find_zone_id
from ingest.topics import load_topics

pytestmark = pytest.mark.integration


def test_declared_topics_exist_with_their_partitions(kafka_bootstrap: str) -> None:
    metadata = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10)
    for topic in load_topics().topics:
        assert topic.name in metadata.topics
        assert len(metadata.topics[topic.name].partitions) == topic.partitions


def test_produce_and_consume_on_the_real_broker(kafka_bootstrap: str) -> None:
    marker = uuid.uuid4().hex
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(20):
        producer.produce("purchases", key=f"o-{i}", value=f"{marker}:{i}".encode())
    assert producer.flush(15) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"t-{marker}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(["purchases"])
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while len(seen) < 20 and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None and msg.value().decode().startswith(marker):
            seen.add(msg.value().decode())
    consumer.close()
    assert len(seen) == 20


def test_prometheus_scrapes_a_target_and_answers_with_data(prometheus_url: str) -> None:
    deadline = time.monotonic() + 30
    result: list[dict[str, object]] = []
    while time.monotonic() < deadline and not result:
        answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": 'up{job="prometheus"}'}).json()
        result = answer["data"]["result"]
        if not result:
            time.sleep(1)
    assert result and result[0]["value"][1] == "1"  # type: ignore[index]


def test_weighted_records_read_and_written_through_boto3(infra: object, stack_settings: Settings) -> None:
    client = aws_client("route53", stack_settings.route53_url, stack_settings.aws_region)
    zone_id = find_zone_id(client, stack_settings.hosted_zone)
    assert zone_id is not None
    records = client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    weights = {r["SetIdentifier"]: r["Weight"] for r in records if "SetIdentifier" in r}
    assert weights == {"primary": 100, "secondary": 0}
    by_id = {r["SetIdentifier"]: r for r in records if "SetIdentifier" in r}
    change = {**by_id["secondary"], "Weight": 30}
    client.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": change}]}
    )
    records = client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert {r["SetIdentifier"]: r["Weight"] for r in records if "SetIdentifier" in r}["secondary"] == 30
    # Put it back: the session's other tests expect the bootstrap weights.
    client.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": by_id["secondary"]}]},
    )
