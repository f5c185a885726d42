"""EcsConsumerScaler against moto's ECS: the same moto server as the session's Route 53 emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controlplane.actuators.aws import boto_client
from controlplane.actuators.base import ActuatorError
from controlplane.actuators.ecs_consumer import EcsConsumerScaler
from controlplane.settings import Settings


@pytest.fixture
def ecs_service(stack_settings: Settings, route53_endpoint: str) -> Iterator[str]:
    """A consumer service in moto's ECS (same server as Route 53), removed afterwards."""
    client = boto_client("ecs", route53_endpoint, stack_settings.aws_region)
    client.create_cluster(clusterName="ecomctl")
    client.register_task_definition(family="consumer", containerDefinitions=[
        {"name": "consumer", "image": "ecomctl/consumer", "memory": 256}])
    client.create_service(cluster="ecomctl", serviceName="consumer-purchase-processor",
                          taskDefinition="consumer", desiredCount=1)
    yield "purchase-processor"
    client.delete_service(cluster="ecomctl", service="consumer-purchase-processor", force=True)
    client.delete_cluster(cluster="ecomctl")


def test_ecs_scaler_sets_desired_count(stack_settings: Settings, ecs_service: str) -> None:
    scaler = EcsConsumerScaler.from_settings(stack_settings)
    scaler.start()
    assert scaler.replicas(ecs_service) == 1
    scaler.set_replicas(ecs_service, 3)
    assert scaler.replicas(ecs_service) == 3
    with pytest.raises(ActuatorError, match="consumer-cart-processor not found in cluster ecomctl"):
        scaler.set_replicas("cart-processor", 2)
