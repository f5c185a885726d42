"""``ecs`` scaling: the desiredCount of the ECS service ``consumer-<group>`` (boto3 ``update_service``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from controlplane.actuators.aws import boto_client, describe, retrying
from controlplane.actuators.base import ActuatorError, check_replicas
from controlplane.actuators.circus_consumer import watcher_name
from controlplane.settings import Settings

DEFAULT_CLUSTER = "ecomctl"


class EcsConsumerScaler:
    def __init__(self, client_factory: Callable[[], Any], cluster: str = DEFAULT_CLUSTER, *,
                 attempts: int = 5, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client_factory = client_factory
        self._cluster = cluster
        self._attempts = attempts
        self._sleep = sleep
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EcsConsumerScaler:
        return cls(lambda: boto_client("ecs", settings.aws_endpoint_url or settings.route53_url,
                                       settings.aws_region))

    def start(self) -> None:
        if self._client is None:
            self._client = self._client_factory()

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        if self._client is None:
            raise RuntimeError("EcsConsumerScaler used before start()")
        try:
            return retrying(self._attempts, self._sleep)(fn)
        except Exception as exc:  # every boto/network failure becomes one clear line
            raise ActuatorError(f"ecs {what} failed after retries: {describe(exc)}") from exc

    def replicas(self, group: str) -> int:
        service = watcher_name(group)
        answer = self._call("describe_services", lambda: self._client.describe_services(
            cluster=self._cluster, services=[service]))
        for found in answer.get("services", []):
            if found.get("serviceName") == service and found.get("status") != "INACTIVE":
                return int(found["desiredCount"])
        raise ActuatorError(f"ecs service {service} not found in cluster {self._cluster}")

    def set_replicas(self, group: str, count: int) -> None:
        check_replicas(group, count)
        self.replicas(group)  # an unknown service is named as such, not as a generic API error
        self._call("update_service", lambda: self._client.update_service(
            cluster=self._cluster, service=watcher_name(group), desiredCount=count))
