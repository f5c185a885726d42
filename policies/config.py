"""The models of policy entries (DESIGN 3.5), one per kind; ``policies.loader`` reads the files.

Durations are strings with a unit: ``500ms``, ``30s``, ``5m``, ``1h`` (a bare number is refused:
seconds or minutes would be a guess).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
WEIGHT_MAX = 255  # Route 53 weights are 0..255


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    raise ValueError("expected a duration with a unit: 500ms, 30s, 5m or 1h")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def format_duration(value: timedelta) -> str:
    """Whole seconds from 10 s up (what a reader at 3 a.m. needs), tenths below."""
    seconds = value.total_seconds()
    return f"{seconds:.0f}s" if abs(seconds) >= 10 else f"{seconds:.1f}".rstrip("0").rstrip(".") + "s"


class PolicyConfig(BaseModel):
    """Fields every kind shares."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: str
    # Higher wins when two policies want to change the same target in one tick.
    priority: int = 0
    # Decide and report, but let the caller only record the decision (like Argo's per-metric dryRun).
    dry_run: bool = False
    # Start paused (an SRE resumes it); the engine state can pause and resume at run time too.
    paused: bool = False


class ConsumerLagScalingConfig(PolicyConfig):
    kind: Literal["consumer_lag_scaling"] = "consumer_lag_scaling"
    group: str = Field(min_length=1)
    metric: Literal["lag", "lag_seconds"] = "lag"
    scale_out_above: float = Field(gt=0)
    scale_in_below: float = Field(ge=0)
    for_: Duration = Field(alias="for")
    scale_in_for: Duration
    step: int = Field(default=1, ge=1)
    # Size a scale-out to drain the backlog within this time (uses the observed consume rate).
    drain_within: Duration | None = None
    # Compare the mean over this window, not the last value: sawtooth lag no longer resets the timer.
    window: Duration = timedelta(0)
    # Only use replica counts that divide the partition count, so partitions spread evenly.
    partition_friendly: bool = False
    # No scale to zero: a group without consumers shows lag that cannot tell idle from broken.
    min_replicas: int = Field(default=1, ge=1)
    max_replicas: int = Field(ge=1)
    cooldown: Duration = timedelta(seconds=60)

    @property
    def target(self) -> str:
        return self.group

    # Cross-field checks sit on the later field, so the error names the field and value at fault.
    @field_validator("scale_in_below")
    @classmethod
    def _below_out(cls, value: float, info: ValidationInfo) -> float:
        out = info.data.get("scale_out_above")
        if out is not None and value >= out:
            raise ValueError(f"must be below scale_out_above {out:g} (the gap is the hysteresis band)")
        return value

    @field_validator("max_replicas")
    @classmethod
    def _max_over_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_replicas")
        if low is not None and value < low:
            raise ValueError(f"must be at least min_replicas {low}")
        return value

    @field_validator("drain_within")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be positive")
        return value


class IngestTrafficShiftConfig(PolicyConfig):
    kind: Literal["ingest_traffic_shift"] = "ingest_traffic_shift"
    record: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    error_ratio_above: float = Field(gt=0, le=1)
    p99_ms_above: float = Field(gt=0)
    threshold: int = Field(default=3, ge=1)
    step_weight: int = Field(ge=1, le=WEIGHT_MAX)
    max_weight: int = Field(ge=1, le=WEIGHT_MAX)  # the most weight `to` may reach through this policy
    recover_after: Duration
    # Spacing of further steps back once recovering; defaults to recover_after.
    recover_step_every: Duration | None = None
    # At or below this rate (requests/s) of `from`, its error ratio and p99 mean nothing.
    min_rate: float = Field(default=0.0, ge=0)
    # "hold": no traffic is inconclusive. "readiness": judge an idle `from` by /readyz alone, so a
    # gateway drained to weight 0 can still be found healthy and get its traffic back.
    when_no_traffic: Literal["hold", "readiness"] = "hold"

    @property
    def target(self) -> str:
        return self.record

    @property
    def recover_every(self) -> timedelta:
        return self.recover_step_every or self.recover_after

    @field_validator("to")
    @classmethod
    def _distinct(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("from_"):
            raise ValueError("must differ from 'from'")
        return value

    @field_validator("max_weight")
    @classmethod
    def _max_over_step(cls, value: int, info: ValidationInfo) -> int:
        step = info.data.get("step_weight")
        if step is not None and value < step:
            raise ValueError(f"must be at least step_weight {step}")
        return value


AnyPolicyConfig = ConsumerLagScalingConfig | IngestTrafficShiftConfig
