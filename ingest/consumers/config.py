"""Worker configuration: validated once at startup; defaults follow the local stack's state dir."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ingest.topics import TopicCatalog


class WorkerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str = Field(min_length=1)
    group_id: str = Field(min_length=1)  # the Kafka group.id: the group's name unless overridden
    bootstrap: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    dlq_topic: str = Field(min_length=1)
    sink_url: str = Field(min_length=1)
    sd_dir: Path | None = None
    chaos_file: Path | None = None
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    batch: int = Field(default=500, ge=1, le=100_000)
    poll_timeout_s: float = Field(default=1.0, gt=0, le=60)
    # Below librdkafka's 45 s: a crashed replica's partitions move to the others sooner.
    session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    producer: dict[str, str | int | bool] = Field(default_factory=dict)


def for_group(
    catalog: TopicCatalog, group: str, bootstrap: str, state_dir: Path, *,
    topic: str | None = None, dlq_topic: str | None = None, sink_url: str | None = None,
    sd_dir: Path | None = None, chaos_file: Path | None = None, metrics_port: int | None = None,
    batch: int = 500, poll_timeout_s: float = 1.0, group_id: str | None = None,
    session_timeout_ms: int = 10_000,
) -> WorkerConfig:
    """The config of ``group`` from the topic catalogue; overrides (tests, benchmarks) win."""
    declared = {t.consumer_group: t for t in catalog.topics if t.consumer_group}
    if group not in declared:
        raise ValueError(f"--group: unknown consumer group {group!r}; known: {sorted(declared)}")
    source = declared[group]
    if source.event_type is None:
        raise ValueError(f"topics.yaml: topic {source.name!r} has consumer_group {group!r} but no event_type")
    dlq = catalog.dlq
    return WorkerConfig(
        group=group, group_id=group_id or group, bootstrap=bootstrap, topic=topic or source.name,
        event_type=source.event_type,
        dlq_topic=dlq_topic or dlq.name,
        sink_url=sink_url or f"sqlite:///{(state_dir / 'sinks' / f'{group}.db').resolve()}",
        sd_dir=sd_dir if sd_dir is not None else state_dir / "prometheus" / "sd",
        chaos_file=chaos_file if chaos_file is not None else state_dir / "chaos.json",
        metrics_port=metrics_port, batch=batch, poll_timeout_s=poll_timeout_s,
        session_timeout_ms=session_timeout_ms,
        producer=catalog.profile_of(dlq).producer,
    )
