"""Arrival schedules: pure functions of time since the start of a run.

Each profile gives the event rate at ``t`` and the number of events due by ``t`` (the integral of the
rate). The runner sends exactly what is due, whatever the latency of earlier requests: an open
arrival-rate model, so a slow gateway cannot slow the offered load (no coordinated omission).
Every profile's mean rate over a whole period equals the configured rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from ingest.loadgen.config import LoadgenConfig

# Period of the shaped profiles when the run has no duration to fit them to.
DEFAULT_PERIOD_S = 60.0


class Profile(Protocol):
    def rate_at(self, t: float) -> float: ...

    def cumulative(self, t: float) -> float: ...

    @property
    def peak_rate(self) -> float: ...


def due(profile: Profile, t: float) -> int:
    """Events due by ``t`` seconds after the start."""
    return math.floor(profile.cumulative(max(t, 0.0)) + 1e-9)


@dataclass(frozen=True)
class Steady:
    rate: float

    def rate_at(self, t: float) -> float:
        return self.rate

    def cumulative(self, t: float) -> float:
        return self.rate * t

    @property
    def peak_rate(self) -> float:
        return self.rate


@dataclass(frozen=True)
class Pulse:
    """A base rate with one pulse ``factor`` times higher per period, from ``start`` for ``length``.

    The base is set so that the mean over a period is ``rate``. Bursts are short frequent pulses, a
    flash sale one long sharp pulse over the run.
    """

    rate: float
    period: float
    start: float
    length: float
    factor: float

    def __post_init__(self) -> None:
        if self.start < 0 or self.length <= 0 or self.start + self.length > self.period:
            raise ValueError(f"pulse [{self.start}, {self.start + self.length}) outside period {self.period}")

    @property
    def base(self) -> float:
        share = self.length / self.period
        return self.rate / (1 - share + self.factor * share)

    @property
    def peak_rate(self) -> float:
        return self.base * self.factor

    def rate_at(self, t: float) -> float:
        phase = t % self.period
        return self.peak_rate if self.start <= phase < self.start + self.length else self.base

    def _within_period(self, phase: float) -> float:
        before = min(phase, self.start)
        during = min(max(phase - self.start, 0.0), self.length)
        after = max(phase - self.start - self.length, 0.0)
        return self.base * (before + after) + self.peak_rate * during

    def cumulative(self, t: float) -> float:
        periods, phase = divmod(t, self.period)
        return periods * self.rate * self.period + self._within_period(phase)


@dataclass(frozen=True)
class Diurnal:
    """A day compressed into ``period``: starts at the night trough, peaks mid-period."""

    rate: float
    period: float
    amplitude: float = 0.8

    def rate_at(self, t: float) -> float:
        return self.rate * (1 - self.amplitude * math.cos(2 * math.pi * t / self.period))

    def cumulative(self, t: float) -> float:
        omega = 2 * math.pi / self.period
        return self.rate * (t - self.amplitude * math.sin(omega * t) / omega)

    @property
    def peak_rate(self) -> float:
        return self.rate * (1 + self.amplitude)


def build_profile(config: LoadgenConfig) -> Profile:
    # Shaped profiles fit one period into the run, so the run's mean rate is the configured one.
    period = config.effective_duration or DEFAULT_PERIOD_S
    if config.profile == "steady":
        return Steady(config.rate)
    if config.profile == "burst":
        return Pulse(config.rate, period=10.0, start=8.0, length=2.0, factor=4.0)
    if config.profile == "flash-sale":
        return Pulse(config.rate, period=period, start=0.25 * period, length=0.25 * period, factor=4.0)
    return Diurnal(config.rate, period=period)
