"""Arrival schedules: events due at t, as pure functions of time."""

from __future__ import annotations

import pytest

from ingest.loadgen.config import LoadgenConfig
from ingest.loadgen.profiles import Diurnal, Pulse, Steady, build_profile, due


def _config(profile: str, rate: float, duration: float | None = 20.0) -> LoadgenConfig:
    return LoadgenConfig(profile=profile, rate=rate, duration=duration, target="127.0.0.1:1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("t", "expected"), [(0.0, 0), (0.009, 0), (0.01, 1), (1.0, 100), (2.5, 250), (-1.0, 0)]
)
def test_steady_due(t: float, expected: int) -> None:
    assert due(Steady(100.0), t) == expected


# Burst: base 100 / (0.8 + 4 * 0.2) = 62.5 ev/s for 8 s, then 250 ev/s for 2 s, every 10 s.
@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (4.0, 250),
        (8.0, 500),
        (9.0, 750),
        (10.0, 1000),
        (18.0, 1500),
        (20.0, 2000),
    ],
)
def test_burst_due(t: float, expected: int) -> None:
    profile = build_profile(_config("burst", 100.0))
    assert isinstance(profile, Pulse)
    assert due(profile, t) == expected


@pytest.mark.parametrize(
    ("t", "rate"), [(0.0, 62.5), (7.99, 62.5), (8.0, 250.0), (9.99, 250.0), (10.0, 62.5)]
)
def test_burst_rate(t: float, rate: float) -> None:
    assert build_profile(_config("burst", 100.0)).rate_at(t) == pytest.approx(rate)


# Flash sale over a 20 s run: 4x spike from 5 s to 10 s; base 500 / 1.75.
@pytest.mark.parametrize(
    ("t", "rate"),
    [
        (0.0, 500 / 1.75),
        (4.99, 500 / 1.75),
        (5.0, 2000 / 1.75),
        (9.99, 2000 / 1.75),
        (10.0, 500 / 1.75),
        (19.9, 500 / 1.75),
    ],
)
def test_flash_sale_spike(t: float, rate: float) -> None:
    assert build_profile(_config("flash-sale", 500.0)).rate_at(t) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("t", "rate"), [(0.0, 20.0), (5.0, 100.0), (10.0, 180.0), (15.0, 100.0), (20.0, 20.0)]
)
def test_diurnal_rate(t: float, rate: float) -> None:
    profile = build_profile(_config("diurnal", 100.0))
    assert isinstance(profile, Diurnal)
    assert profile.rate_at(t) == pytest.approx(rate)


@pytest.mark.parametrize("name", ["steady", "burst", "flash-sale", "diurnal"])
@pytest.mark.parametrize("rate", [7.0, 500.0])
def test_every_profile_offers_the_configured_mean_rate_over_the_run(name: str, rate: float) -> None:
    profile = build_profile(_config(name, rate))
    assert due(profile, 20.0) == pytest.approx(rate * 20.0, abs=1)


@pytest.mark.parametrize("name", ["steady", "burst", "flash-sale", "diurnal"])
def test_schedule_is_monotonic_and_matches_the_rate(name: str) -> None:
    profile = build_profile(_config(name, 300.0))
    steps = [i * 0.05 for i in range(400)]
    values = [profile.cumulative(t) for t in steps]
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))
    smooth = [t for t in steps if profile.rate_at(t + 1e-4) == pytest.approx(profile.rate_at(t), rel=1e-3)]
    assert len(smooth) >= len(steps) - 4  # only the edges of a pulse are skipped
    for t in smooth:
        slope = (profile.cumulative(t + 1e-4) - profile.cumulative(t)) / 1e-4
        assert slope == pytest.approx(profile.rate_at(t), rel=1e-2)


@pytest.mark.parametrize(
    ("rate", "batch", "expected"),
    [(50, None, 1), (200, None, 1), (400, None, 2), (5000, None, 25), (10**6, None, 100), (500, 7, 7)],
)
def test_batch_size_auto_above_200_per_second(rate: float, batch: int | None, expected: int) -> None:
    config = LoadgenConfig(rate=rate, batch=batch, target="127.0.0.1:1")
    assert config.batch_size(rate) == expected


@pytest.mark.parametrize("kwargs", [{}, {"target": "a:1", "route53": {}}, {"target": "a:1", "rate": 0}])
def test_config_rejects_bad_runs(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        LoadgenConfig(**kwargs)


@pytest.mark.parametrize(
    ("duration", "count", "bound"), [(None, None, 60.0), (5.0, None, 5.0), (None, 10, None)]
)
def test_runs_are_always_bounded(duration: float | None, count: int | None, bound: float | None) -> None:
    config = LoadgenConfig(duration=duration, count=count, target="a:1")
    assert config.effective_duration == bound
