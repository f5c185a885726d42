"""Topic and producer profiles by criticality, declared in ``ingest/topics.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_TOPICS_FILE = Path(__file__).with_name("topics.yaml")
EventType = Literal["page_view", "cart", "purchase"]


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    producer: dict[str, str | int | bool]
    topic_config: dict[str, str]
    replication_factor: int = Field(ge=1, le=7)


class Topic(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    profile: str
    partitions: int = Field(ge=1, le=10000)
    key: str  # dotted path into the event: the partitioning key keeps per-key order
    event_type: EventType | None = None
    consumer_group: str | None = None


class TopicCatalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    profiles: dict[str, Profile]
    topics: tuple[Topic, ...]

    @model_validator(mode="after")
    def _references(self) -> TopicCatalog:
        for index, topic in enumerate(self.topics):
            if topic.profile not in self.profiles:
                raise ValueError(
                    f"topics[{index}] ({topic.name}): unknown profile {topic.profile!r}; "
                    f"known: {sorted(self.profiles)}"
                )
        types = [t.event_type for t in self.topics if t.event_type]
        if len(types) != len(set(types)):
            raise ValueError("an event_type is routed to more than one topic")
        return self

    def for_event_type(self, event_type: str) -> Topic:
        for topic in self.topics:
            if topic.event_type == event_type:
                return topic
        raise KeyError(event_type)

    @property
    def dlq(self) -> Topic:
        return next(t for t in self.topics if t.event_type is None)

    def profile_of(self, topic: Topic) -> Profile:
        return self.profiles[topic.profile]

    def effective_config(self, topic: Topic, brokers: int) -> tuple[int, dict[str, str]]:
        """Replication factor and topic config for a cluster of ``brokers`` (capped to fit it)."""
        profile = self.profile_of(topic)
        replication = min(profile.replication_factor, brokers)
        config = dict(profile.topic_config)
        if "min.insync.replicas" in config:
            config["min.insync.replicas"] = str(min(int(config["min.insync.replicas"]), replication))
        return replication, config


def load_topics(path: Path = DEFAULT_TOPICS_FILE) -> TopicCatalog:
    """Load and validate the topic catalogue; errors name the file, field and value."""
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read topic catalogue: {exc}") from None
    try:
        return TopicCatalog.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (value {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ValueError(f"{path}: {problems}") from None
