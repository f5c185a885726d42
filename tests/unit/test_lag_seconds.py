"""Lag-seconds estimation: the definition, and a test per known failure of the technique."""

from __future__ import annotations

import pytest

from collectors.lag_seconds import LagSecondsEstimate, OffsetTable


def table(points: list[tuple[int, float]], capacity: int = 100) -> OffsetTable:
    t = OffsetTable(capacity)
    for offset, at in points:
        t.observe(offset, at)
    return t


# 10 msgs/s, observed every 10 s from t=1000: offset 100*k at t=1000+10k.
STEADY = [(100 * k, 1000.0 + 10 * k) for k in range(11)]


@pytest.mark.parametrize(
    ("committed", "now", "expected"),
    [
        # Message 250 was produced at ~1025.05 (mid-slot of 10 msgs/s): 1100 - 1025.05.
        (250, 1100.0, 74.95),
        (0, 1100.0, 99.95),
        (999, 1100.0, 0.05),
    ],
)
def test_interpolates_produce_time(committed: int, now: float, expected: float) -> None:
    estimate = table(STEADY).estimate(committed, now)
    assert estimate is not None and not estimate.lower_bound
    assert estimate.seconds == pytest.approx(expected)


@pytest.mark.parametrize("now", [1100.0, 1100.5, 5000.0])
def test_caught_up_is_exactly_zero(now: float) -> None:
    # Rule 4: committed == end offset is 0 exactly, whenever we look.
    assert table(STEADY).estimate(1000, now) == LagSecondsEstimate(0.0)


@pytest.mark.parametrize("behind", [1, 2, 5])
def test_few_messages_behind_reads_a_few_messages_of_time(behind: int) -> None:
    # Rule 4: not the whole poll interval; continuous with 0 (10 msgs/s: 0.1 s per message).
    estimate = table(STEADY).estimate(1000 - behind, 1100.0)
    assert estimate is not None
    assert estimate.seconds == pytest.approx((behind - 0.5) * 0.1)


@pytest.mark.parametrize("committed", [0, 1, 5000, 9999])
def test_burst_stays_inside_the_observed_interval(committed: int) -> None:
    # Rule 1: 10,000 messages between two polls 10 s apart; whatever the offset inside the burst,
    # the estimate lies within the observed interval, never extrapolated from a rate.
    t = table([(0, 1000.0), (0, 1030.0), (10_000, 1040.0), (10_000, 1050.0)])
    estimate = t.estimate(committed, 1060.0)
    assert estimate is not None and not estimate.lower_bound
    assert 1060.0 - 1040.0 <= estimate.seconds <= 1060.0 - 1030.0


@pytest.mark.parametrize("wait", [1.0, 60.0, 3600.0])
def test_stuck_consumer_on_static_log_ages_with_wall_time_only(wait: float) -> None:
    # Rule 2: end offset static (no new messages), consumer stuck: the oldest unconsumed message
    # gets older at exactly 1 s/s; the static end offset seen again does not move its produce time.
    t = table(STEADY)
    before = t.estimate(500, 1100.0)
    t.observe(1000, 1100.0 + wait)  # polls keep seeing the same end offset
    after = t.estimate(500, 1100.0 + wait)
    assert before is not None and after is not None
    assert after.seconds - before.seconds == pytest.approx(wait)


def test_catching_up_on_static_log_decreases() -> None:
    t = table(STEADY)
    t.observe(1000, 1200.0)
    slow, fast = t.estimate(300, 1200.0), t.estimate(800, 1200.0)
    assert slow is not None and fast is not None
    assert fast.seconds < slow.seconds


@pytest.mark.parametrize(
    ("committed", "now", "expected"),
    [
        (0, 1100.0, 100.0),  # replaying from the start: older than the table's first point
        (0, 2000.0, 1000.0),
        (99, 1100.0, 100.0),
    ],
)
def test_beyond_the_table_is_a_lower_bound(committed: int, now: float, expected: float) -> None:
    # Rule 3: the log started long before we looked (first point offset 100 at t=1000); no "years".
    t = table([(100 + 100 * k, 1000.0 + 10 * k) for k in range(10)])
    assert t.estimate(committed, now) == LagSecondsEstimate(expected, lower_bound=True)


@pytest.mark.parametrize(
    ("points", "committed", "now"),
    [
        ([], 0, 1000.0),  # nothing observed
        ([(500, 1000.0)], 10, 1000.0),  # one look, at this very moment: no time has passed
    ],
)
def test_unknown_until_observed(points: list[tuple[int, float]], committed: int, now: float) -> None:
    assert table(points).estimate(committed, now) is None


@pytest.mark.parametrize("capacity", [2, 3, 10])
def test_full_table_keeps_its_oldest_point_and_valid_bounds(capacity: int) -> None:
    t = table(STEADY, capacity=capacity)
    assert len(t) == capacity
    # Coverage never shrinks: message 0 is still inside the table, not a lower bound.
    oldest = t.estimate(0, 1100.0)
    assert oldest is not None and not oldest.lower_bound
    for committed in range(0, 1000, 37):
        estimate = t.estimate(committed, 1100.0)
        assert estimate is not None
        # Message c exists at the poll where end > c, and not before offset c's time band.
        assert 1100.0 - (1000.0 + 10 * (committed // 100 + 1)) <= estimate.seconds <= 100.0


def test_log_going_backwards_starts_a_new_table() -> None:
    t = table(STEADY)
    t.observe(50, 1110.0)  # topic recreated
    assert t.end_offset == 50
    assert t.estimate(10, 1120.0) == LagSecondsEstimate(10.0, lower_bound=True)


def test_out_of_order_observation_is_ignored() -> None:
    t = table(STEADY)
    t.observe(2000, 900.0)
    assert t.end_offset == 1000


def test_capacity_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity 1 < 2"):
        OffsetTable(1)
