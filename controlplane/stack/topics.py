"""Declared topics (ingest/topics.yaml) against the live cluster: create, diff, apply."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from ingest.topics import TopicCatalog, load_topics

TIMEOUT_S = 15.0


@dataclass(frozen=True)
class TopicDrift:
    topic: str
    field: str
    declared: str
    live: str | None  # None: the topic does not exist


def _brokers(admin: AdminClient) -> int:
    return max(1, len(admin.list_topics(timeout=TIMEOUT_S).brokers))


def diff_topics(admin: AdminClient, catalog: TopicCatalog | None = None) -> list[TopicDrift]:
    catalog = catalog or load_topics()
    metadata = admin.list_topics(timeout=TIMEOUT_S)
    brokers = max(1, len(metadata.brokers))
    drifts: list[TopicDrift] = []
    existing = [t for t in catalog.topics if t.name in metadata.topics]
    for topic in catalog.topics:
        if topic.name not in metadata.topics:
            drifts.append(TopicDrift(topic.name, "exists", "yes", None))
            continue
        live = metadata.topics[topic.name]
        if len(live.partitions) != topic.partitions:
            drifts.append(
                TopicDrift(topic.name, "partitions", str(topic.partitions), str(len(live.partitions)))
            )
    if existing:
        resources = [ConfigResource(ResourceType.TOPIC, t.name) for t in existing]
        futures = admin.describe_configs(resources, request_timeout=TIMEOUT_S)
        for topic, resource in zip(existing, resources, strict=True):
            live_config = futures[resource].result(timeout=TIMEOUT_S)
            _, declared = catalog.effective_config(topic, brokers)
            for key, value in declared.items():
                actual = live_config[key].value if key in live_config else None
                if actual != value:
                    drifts.append(TopicDrift(topic.name, key, value, actual))
    return drifts


def wait_for_leaders(admin: AdminClient, names: list[str], timeout: float = 30.0) -> None:
    """Block until every partition of ``names`` has a leader (new topics need a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        metadata = admin.list_topics(timeout=TIMEOUT_S)
        missing = [
            f"{name}[{pid}]"
            for name in names
            for pid, part in (
                metadata.topics[name].partitions.items() if name in metadata.topics else [(-1, None)]
            )
            if part is None or part.leader < 0
        ]
        if not missing:
            # Metadata can name a leader before that broker serves the partition: ask for offsets.
            request = {
                TopicPartition(name, pid): OffsetSpec.latest()
                for name in names
                for pid in metadata.topics[name].partitions
            }
            try:
                for future in admin.list_offsets(request, request_timeout=TIMEOUT_S).values():
                    future.result()
                return
            except KafkaException as exc:
                missing = [str(exc)]
        if time.monotonic() > deadline:
            raise TimeoutError(f"partitions without a leader after {timeout:g}s: {missing[:5]}")
        time.sleep(0.2)


def apply_topics(admin: AdminClient, catalog: TopicCatalog | None = None) -> list[str]:
    """Create missing topics, grow partitions, set declared configs. Returns the topics created."""
    catalog = catalog or load_topics()
    brokers = _brokers(admin)
    drifts = diff_topics(admin, catalog)
    by_name = {t.name: t for t in catalog.topics}
    missing = sorted({d.topic for d in drifts if d.live is None})
    if missing:
        new = []
        for name in missing:
            replication, config = catalog.effective_config(by_name[name], brokers)
            new.append(
                NewTopic(
                    name,
                    num_partitions=by_name[name].partitions,
                    replication_factor=replication,
                    config=config,
                )
            )
        for future in admin.create_topics(new, request_timeout=TIMEOUT_S).values():
            future.result(timeout=TIMEOUT_S)
    grow = [
        d for d in drifts if d.field == "partitions" and d.live is not None and int(d.declared) > int(d.live)
    ]
    if grow:
        parts = [NewPartitions(d.topic, int(d.declared)) for d in grow]
        for future in admin.create_partitions(parts, request_timeout=TIMEOUT_S).values():
            future.result(timeout=TIMEOUT_S)
    configs = sorted(
        {d.topic for d in drifts if d.live is not None and d.field not in ("partitions", "exists")}
    )
    if configs:
        resources = []
        for name in configs:
            _, config = catalog.effective_config(by_name[name], brokers)
            entries = [
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in config.items()
            ]
            resources.append(ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries))
        for future in admin.incremental_alter_configs(resources, request_timeout=TIMEOUT_S).values():
            future.result(timeout=TIMEOUT_S)
    wait_for_leaders(admin, [t.name for t in catalog.topics])
    return missing
