"""Settings of the consumer-lag collector, frozen and validated at load.

Read from ``ECOMCTL_LAG__*`` environment variables (e.g. ``ECOMCTL_LAG__DENY='["^_", "^connect-"]'``)
so that the same model can also be nested as a ``lag`` field of the control plane's settings.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "ECOMCTL_LAG__"


class LagSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    # A group is collected when it matches an allow pattern (re.search) and no deny pattern.
    allow: tuple[str, ...] = (".*",)
    deny: tuple[str, ...] = ()
    # KEDA's offsetResetPolicy: what a partition with no committed offset counts as.
    # earliest: the whole retained log (from the low watermark); latest: nothing.
    offset_reset_policy: Literal["earliest", "latest"] = "latest"
    # Burrow-style sliding window: observations (one per collect) a partition's status is judged on.
    window: int = Field(default=10, ge=2, le=1000)
    # Points of the per-partition (end offset, time) table used to estimate lag in seconds.
    offset_table_size: int = Field(default=120, ge=2, le=100_000)
    # Every admin call is bounded by this, so a sick broker costs one slow round, not a hung loop.
    request_timeout_s: float = Field(default=5.0, gt=0, le=300)

    @field_validator("allow", "deny")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
        return patterns

    def selects(self, group: str) -> bool:
        allowed = any(re.search(p, group) for p in self.allow)
        return allowed and not any(re.search(p, group) for p in self.deny)


class LagSettingsError(Exception):
    """Invalid lag settings, phrased for the person who set the variable."""


def load_lag_settings() -> LagSettings:
    """Load from the environment; errors name the variable, the field and the offending value."""
    try:
        return LagSettings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            lines.append(f"{ENV_PREFIX}{field.split('.')[0].upper()}: field '{field}' "
                         f"value {err.get('input')!r}: {err['msg']}")
        raise LagSettingsError("invalid lag settings:\n  " + "\n  ".join(lines)) from None
