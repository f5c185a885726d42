"""Where events go: one URL, or the gateways behind the weighted Route 53 ingest record.

Route 53 answers are cached for the record's TTL, as DNS resolvers do, so a weight shift moves the
traffic within about one TTL. Picking follows Route 53: share = weight / sum of weights, and an
even split when every weight is zero.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ingest.loadgen.config import Route53Source

log = logging.getLogger(__name__)

EVENTS_PATH = "/v1/events"
# After a failed lookup, keep the last answer and ask again this soon.
RETRY_AFTER_S = 1.0


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # the events endpoint
    weight: int = 1


def events_url(value: str) -> str:
    """``127.0.0.1:8081``, ``http://host:8081`` or ``http://host:8081/v1/events`` -> the events URL."""
    base = value if "://" in value else f"http://{value}"
    parts = urlsplit(base)
    if not parts.hostname:
        raise ValueError(f"target {value!r} has no host")
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path if path.endswith(EVENTS_PATH) else path + EVENTS_PATH}"


def host_port(url: str) -> str:
    return urlsplit(url).netloc


class TargetSource(Protocol):
    def stale(self, now: float) -> bool: ...

    def refresh(self, now: float) -> None: ...

    def targets(self) -> Sequence[Target]: ...


class StaticTargets:
    """One fixed URL; named by its host:port."""

    def __init__(self, url: str) -> None:
        endpoint = events_url(url)
        self._targets = (Target(name=host_port(endpoint), url=endpoint),)

    def stale(self, now: float) -> bool:
        return False

    def refresh(self, now: float) -> None:
        """Nothing to look up."""

    def targets(self) -> Sequence[Target]:
        return self._targets


def route53_client(source: Route53Source) -> Any:
    loopback = bool(source.endpoint_url) and any(
        host in (source.endpoint_url or "") for host in ("127.0.0.1", "localhost", "[::1]"))
    # The emulator needs some credentials; they never leave loopback. Elsewhere boto3's own chain.
    key, secret = ("testing", "testing") if loopback else (None, None)
    return boto3.client("route53", endpoint_url=source.endpoint_url, region_name=source.region,
                        aws_access_key_id=key, aws_secret_access_key=secret)


class Route53Targets:
    """The weighted records of ``source.record``, one target per set identifier, cached for the TTL."""

    def __init__(self, source: Route53Source, client_factory: Callable[[Route53Source], Any] = route53_client
                 ) -> None:
        self._source = source
        self._client_factory = client_factory
        self._client: Any = None
        self._zone_id: str | None = None
        self._targets: tuple[Target, ...] = ()
        self._expires_at = float("-inf")
        self.lookups = 0
        self.last_error: str | None = None

    def stale(self, now: float) -> bool:
        return now >= self._expires_at

    def targets(self) -> Sequence[Target]:
        return self._targets

    def refresh(self, now: float) -> None:
        """Look the record up again; on failure keep the last answer and retry soon."""
        try:
            targets, ttl = self._lookup()
        except (BotoCoreError, ClientError, LookupError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("route53 lookup of %s failed: %s", self._source.record, self.last_error)
            if not self._targets:
                raise
            self._expires_at = now + RETRY_AFTER_S
            return
        self.lookups += 1
        self.last_error = None
        self._targets = targets
        self._expires_at = now + ttl

    def _lookup(self) -> tuple[tuple[Target, ...], int]:
        if self._client is None:
            self._client = self._client_factory(self._source)
        client = self._client
        zone = self._source.hosted_zone.rstrip(".") + "."
        if self._zone_id is None:
            zones = client.list_hosted_zones_by_name(DNSName=zone)["HostedZones"]
            ids = [z["Id"].rsplit("/", 1)[-1] for z in zones if z["Name"] == zone]
            if not ids:
                raise LookupError(f"hosted zone {zone} not found at {self._source.endpoint_url or 'AWS'}")
            self._zone_id = ids[0]
        record = self._source.record.rstrip(".") + "."
        answer = client.list_resource_record_sets(HostedZoneId=self._zone_id, StartRecordName=record)
        targets: list[Target] = []
        ttls: list[int] = []
        for rs in answer["ResourceRecordSets"]:
            if rs["Name"].rstrip(".") + "." != record or "SetIdentifier" not in rs or "Weight" not in rs:
                continue
            values = [r["Value"] for r in rs.get("ResourceRecords", [])]
            if not values:
                continue
            targets.append(Target(name=rs["SetIdentifier"], url=events_url(values[0]),
                                  weight=int(rs["Weight"])))
            ttls.append(int(rs.get("TTL", 60)))
        if not targets:
            raise LookupError(f"no weighted records named {record} in zone {zone}")
        return tuple(sorted(targets, key=lambda t: t.name)), min(ttls)


class WeightedPicker:
    """Route 53's choice between weighted records, with an injected (seeded) RNG."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def pick(self, targets: Sequence[Target]) -> Target:
        if not targets:
            raise LookupError("no targets to send to")
        weights = [max(t.weight, 0) for t in targets]
        if sum(weights) == 0:
            return self._rng.choice(list(targets))
        return self._rng.choices(list(targets), weights=weights)[0]
