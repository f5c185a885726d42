"""How a policy card words its timer: red only for a real breach."""

from __future__ import annotations

import pytest

from controlplane.console.client import PolicyView
from controlplane.console.views import _breach_line


def view(breached_for_s: float | None, condition: str | None) -> PolicyView:
    return PolicyView(
        name="purchases-lag",
        kind="consumer_lag_scaling",
        target="purchase-processor",
        paused=False,
        dry_run=False,
        verdict="noop",
        reason="",
        metric="lag",
        value=0.0,
        threshold=10.0,
        breached_for_s=breached_for_s,
        condition=condition,
        next_action="none",
    )


@pytest.mark.parametrize(
    ("breached_for_s", "condition", "text", "colour"),
    [
        (42.0, "above", "Breached for 42 s", "text-danger"),
        (26.0, "below", "Below scale-in threshold for 26 s", "text-info"),
        (None, None, "Breached for not breached", "text-success"),
        (12.0, None, "Breached for 12 s", "text-danger"),
    ],
    ids=["scale-out-breach", "scale-in-window", "calm", "unknown-condition-is-a-breach"],
)
def test_breach_line(breached_for_s: float | None, condition: str | None, text: str, colour: str) -> None:
    line = _breach_line(view(breached_for_s, condition))
    label, value = line.children
    assert f"{label.children}{value.children}" == text
    assert value.className == colour
