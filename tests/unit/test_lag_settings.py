"""Lag settings come from ECOMCTL_LAG__* and are checked at load; errors name variable, field and value."""

from __future__ import annotations

import pytest

from collectors.settings import LagSettingsError, load_lag_settings


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({}, "offset_reset_policy", "latest"),
        ({"ECOMCTL_LAG__OFFSET_RESET_POLICY": "earliest"}, "offset_reset_policy", "earliest"),
        ({"ECOMCTL_LAG__DENY": '["^_", "^connect-"]'}, "deny", ("^_", "^connect-")),
        ({"ECOMCTL_LAG__WINDOW": "3"}, "window", 3),
    ],
)
def test_loads_from_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], field: str,
                                expected: object) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert getattr(load_lag_settings(), field) == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ECOMCTL_LAG__ALLOW", '["("]', "ECOMCTL_LAG__ALLOW: field 'allow' value ['(']"),
        ("ECOMCTL_LAG__OFFSET_RESET_POLICY", "oldest", "field 'offset_reset_policy' value 'oldest'"),
        ("ECOMCTL_LAG__WINDOW", "1", "ECOMCTL_LAG__WINDOW: field 'window' value '1'"),
    ],
)
def test_invalid_values_are_named(monkeypatch: pytest.MonkeyPatch, key: str, value: str,
                                  message: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(LagSettingsError) as caught:
        load_lag_settings()
    assert message in str(caught.value)
