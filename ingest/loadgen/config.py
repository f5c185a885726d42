"""What one load generation run does: profile, rate, bounds, targets and the shopper funnel."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProfileName = Literal["steady", "burst", "flash-sale", "diurnal"]
PROFILES: tuple[ProfileName, ...] = ("steady", "burst", "flash-sale", "diurnal")

# Up to this rate every event travels alone; above it events share requests (see LoadgenConfig.batch_size).
SINGLE_EVENT_RATE = 200.0
# Auto batching aims at about this many requests per second.
AUTO_REQUESTS_PER_S = 200.0
MAX_AUTO_BATCH = 100
# A run bounded by neither count nor duration stops after this long.
DEFAULT_DURATION_S = 60.0


class Funnel(BaseModel):
    """Shopper behaviour, per session: how far shoppers get and how much they browse."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    view_to_cart: float = Field(default=0.3, ge=0, le=1)
    cart_to_purchase: float = Field(default=0.2, ge=0, le=1)
    views_per_session: float = Field(default=4.0, ge=1)
    cart_changes_per_cart: float = Field(default=1.5, ge=1)


# A flash sale: shoppers come for the offer, look less and buy more.
FLASH_SALE_FUNNEL = Funnel(view_to_cart=0.6, cart_to_purchase=0.5, views_per_session=2.0,
                           cart_changes_per_cart=2.0)


def default_funnel(profile: ProfileName) -> Funnel:
    return FLASH_SALE_FUNNEL if profile == "flash-sale" else Funnel()


class Route53Source(BaseModel):
    """Where the weighted ingest record lives (Route 53 or its emulator)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint_url: str | None = None
    region: str = "us-east-1"
    hosted_zone: str = "ecommerce-domain.com"
    record: str = "events.ecommerce-domain.com"


class LoadgenConfig(BaseModel):
    """One run. Exactly one of ``target`` and ``route53``; bounded by ``count`` and/or ``duration``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: ProfileName = "steady"
    rate: float = Field(default=50.0, gt=0, le=1_000_000, description="mean events per second")
    duration: float | None = Field(default=None, gt=0)
    count: int | None = Field(default=None, ge=1)
    target: str | None = None
    route53: Route53Source | None = None
    api_key: str = "dev-key"
    batch: int | None = Field(default=None, ge=1, le=1000, description="events per request; None = auto")
    seed: int = 0
    funnel: Funnel | None = None
    sessions: int = Field(default=50, ge=1, description="shoppers active at once")
    connections: int = Field(default=32, ge=1, description="concurrent requests (and pooled connections)")
    timeout_s: float = Field(default=10.0, gt=0)
    drain_s: float = Field(default=10.0, ge=0, description="wait for answers after the last send")
    catalogue_size: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _one_destination(self) -> LoadgenConfig:
        if (self.target is None) == (self.route53 is None):
            raise ValueError(f"give exactly one of target and route53 (target={self.target!r}, "
                             f"route53={self.route53!r})")
        return self

    @property
    def effective_duration(self) -> float | None:
        """The time bound: as given, none when only a count bounds the run, else the default."""
        if self.duration is None and self.count is None:
            return DEFAULT_DURATION_S
        return self.duration

    @property
    def effective_funnel(self) -> Funnel:
        return self.funnel if self.funnel is not None else default_funnel(self.profile)

    def batch_size(self, peak_rate: float) -> int:
        """Given, or auto: one event per request at low rates, ~AUTO_REQUESTS_PER_S requests above."""
        if self.batch is not None:
            return self.batch
        if peak_rate <= SINGLE_EVENT_RATE:
            return 1
        return min(MAX_AUTO_BATCH, max(1, round(peak_rate / AUTO_REQUESTS_PER_S)))
