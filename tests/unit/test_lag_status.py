"""Every status rule, table-driven: windows of (committed, lag) observations, oldest first."""

from __future__ import annotations

import pytest

from collectors.lag_status import Observation, evaluate, worst
from collectors.model import LagStatus


def window(*points: tuple[int | None, int]) -> list[Observation]:
    return [Observation(committed, lag) for committed, lag in points]


SIZE = 4


@pytest.mark.parametrize(
    ("name", "observations", "owned", "expected"),
    [
        ("caught up now", window((10, 5), (12, 5), (14, 5), (20, 0)), True, LagStatus.OK),
        ("zero lag earlier in the window", window((10, 0), (10, 3), (10, 6), (10, 9)), True, LagStatus.OK),
        # Burrow's false STOP: an idle partition nobody consumes, lag 0 for ages, is OK.
        ("idle slow topic, no member, lag 0", window((7, 0), (7, 0), (7, 0), (7, 0)), False, LagStatus.OK),
        ("offset went back", window((50, 5), (60, 5), (20, 45), (25, 40)), True, LagStatus.REWIND),
        ("rewind beats stall", window((50, 5), (20, 35), (20, 35), (20, 35)), True, LagStatus.REWIND),
        ("no commit for a full window, no owner", window((10, 5), (10, 5), (10, 8), (10, 9)), False,
         LagStatus.STOP),
        ("no committed offset ever, no owner", window((None, 5), (None, 5), (None, 5), (None, 5)), False,
         LagStatus.STOP),
        ("commits do not move, owner present", window((10, 5), (10, 5), (10, 8), (10, 9)), True,
         LagStatus.STALL),
        ("moves but lag never falls", window((10, 5), (12, 5), (14, 7), (16, 9)), True, LagStatus.WARN),
        ("moves and lag falls once", window((10, 5), (12, 7), (16, 4), (18, 9)), True, LagStatus.OK),
        # Too short to judge time-based rules: no evidence of a problem yet.
        ("unmoved but window not full", window((10, 5), (10, 5), (10, 5)), True, LagStatus.OK),
        ("growing but window not full", window((10, 5), (12, 6), (14, 7)), True, LagStatus.OK),
        ("no observation", [], True, LagStatus.ERR),
    ],
)
def test_rules(name: str, observations: list[Observation], owned: bool, expected: LagStatus) -> None:
    assert evaluate(observations, SIZE, owned) is expected, name


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (Observation(10, 0, error="list_offsets timed out"), LagStatus.ERR),
        (Observation(10, 0), LagStatus.OK),
    ],
)
def test_error_in_latest_round_wins(last: Observation, expected: LagStatus) -> None:
    assert evaluate([Observation(1, 0), last], SIZE, True) is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], LagStatus.OK),
        ([LagStatus.OK, LagStatus.WARN, LagStatus.OK], LagStatus.WARN),
        ([LagStatus.STALL, LagStatus.STOP, LagStatus.WARN], LagStatus.STOP),
        ([LagStatus.ERR, LagStatus.REWIND], LagStatus.ERR),
    ],
)
def test_group_rolls_up_worst(statuses: list[LagStatus], expected: LagStatus) -> None:
    assert worst(statuses) is expected
