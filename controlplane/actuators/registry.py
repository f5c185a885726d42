"""The consumer scaling backends, registered in one place (``settings.scaling_backend``)."""

from __future__ import annotations

from collections.abc import Callable

from controlplane.actuators.base import ConsumerScaler
from controlplane.actuators.circus_consumer import CircusConsumerScaler
from controlplane.actuators.ecs_consumer import EcsConsumerScaler
from controlplane.actuators.nop_consumer import NopConsumerScaler
from controlplane.settings import Settings, SettingsError

SCALERS: dict[str, Callable[[Settings], ConsumerScaler]] = {
    "local": CircusConsumerScaler.from_settings,
    "ecs": EcsConsumerScaler.from_settings,
    "nop": NopConsumerScaler.from_settings,
}


def build_scaler(settings: Settings) -> ConsumerScaler:
    factory = SCALERS.get(settings.scaling_backend)
    if factory is None:
        raise SettingsError(f"scaling_backend {settings.scaling_backend!r} (ECOMCTL_SCALING_BACKEND) is "
                            f"unknown; expected one of {', '.join(sorted(SCALERS))}")
    return factory(settings)
