"""Route 53 weighted records through boto3: read the weights, write them all in one ChangeBatch.

One ChangeBatch is applied by Route 53 as a whole or not at all, so a failed write leaves the old
weights in force. After the write, ``get_change`` is polled until INSYNC (bounded). Throttling,
``PriorRequestNotComplete`` and transient errors are retried with backoff and jitter. The endpoint
is configuration: the local emulator, or AWS when ``endpoint_url`` is None.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from controlplane.actuators.aws import boto_client, describe, retrying
from controlplane.actuators.base import ActuatorError, check_weights
from controlplane.settings import Settings
from controlplane.stack.route53 import find_zone_id


class Route53WeightActuator:
    def __init__(self, client_factory: Callable[[], Any], zone: str, *, attempts: int = 5,
                 sync_timeout_s: float = 60.0, poll_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._client_factory = client_factory
        self._zone = zone
        self._attempts = attempts
        self._sync_timeout_s = sync_timeout_s
        self._poll_s = poll_s
        self._sleep = sleep
        self._monotonic = monotonic
        self._client: Any = None
        self._zone_id: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Route53WeightActuator:
        return cls(lambda: boto_client("route53", settings.route53_url, settings.aws_region),
                   settings.hosted_zone)

    def start(self) -> None:
        if self._client is None:
            self._client = self._client_factory()

    # --------------------------------------------------------------------------------------- reads
    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        if self._client is None:
            raise RuntimeError("Route53WeightActuator used before start()")
        try:
            return retrying(self._attempts, self._sleep)(fn)
        except ActuatorError:
            raise
        except Exception as exc:  # every boto/network failure becomes one clear line
            raise ActuatorError(f"route53 {what} failed after retries: {describe(exc)}") from exc

    def _zone_of(self) -> str:
        if self._zone_id is None:
            zone_id = self._call("list_hosted_zones_by_name", lambda: find_zone_id(self._client, self._zone))
            if zone_id is None:
                raise ActuatorError(f"hosted zone {self._zone} not found")
            self._zone_id = zone_id
        return self._zone_id

    def record_sets(self, record: str) -> list[dict[str, Any]]:
        """The weighted record sets of ``record`` (every type), as Route 53 returns them."""
        zone_id = self._zone_of()
        name = record.rstrip(".") + "."

        def fetch() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            paginator = self._client.get_paginator("list_resource_record_sets")
            for page in paginator.paginate(HostedZoneId=zone_id, StartRecordName=name):
                for rs in page["ResourceRecordSets"]:
                    if rs["Name"].rstrip(".") + "." != name:
                        continue
                    if "Weight" in rs and "SetIdentifier" in rs:
                        found.append(rs)
            return found

        sets: list[dict[str, Any]] = self._call("list_resource_record_sets", fetch)
        if not sets:
            raise ActuatorError(f"record {record} has no weighted record sets in zone {self._zone}")
        return sets

    def read(self, record: str) -> dict[str, int]:
        return {str(rs["SetIdentifier"]): int(rs["Weight"]) for rs in self.record_sets(record)}

    # -------------------------------------------------------------------------------------- writes
    def set_weights(self, record: str, weights: dict[str, int]) -> dict[str, int]:
        sets = self.record_sets(record)
        current = {str(rs["SetIdentifier"]): int(rs["Weight"]) for rs in sets}
        merged = check_weights(record, current, weights)
        if merged == current:
            return current
        # UPSERT every weighted set, keeping type, TTL and values: the batch states the whole record.
        changes = [{"Action": "UPSERT",
                    "ResourceRecordSet": rs | {"Weight": merged[str(rs["SetIdentifier"])]}} for rs in sets]
        batch = {"Comment": "ecomctl weights " + " ".join(f"{k}={v}" for k, v in sorted(merged.items())),
                 "Changes": changes}
        zone_id = self._zone_of()
        answer = self._call("change_resource_record_sets", lambda: self._client.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch=batch))
        self._wait_insync(str(answer["ChangeInfo"]["Id"]), str(answer["ChangeInfo"]["Status"]))
        return merged

    def _wait_insync(self, change_id: str, status: str) -> None:
        deadline = self._monotonic() + self._sync_timeout_s
        while status != "INSYNC":
            if self._monotonic() >= deadline:
                # Route 53 accepted the batch and will apply it whole: late, never half.
                raise ActuatorError(f"change {change_id} still {status} after {self._sync_timeout_s:g}s "
                                    "(accepted; Route 53 applies it whole when in sync)")
            self._sleep(self._poll_s)
            answer = self._call("get_change", lambda: self._client.get_change(Id=change_id))
            status = str(answer["ChangeInfo"]["Status"])
