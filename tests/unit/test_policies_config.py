"""Policy files: the shipped file loads; every error names file, policy, field and value; the CLI check."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controlplane.cli import app
from policies.config import ConsumerLagScalingConfig, IngestTrafficShiftConfig, parse_duration
from policies.loader import DEFAULT_POLICY_FILES, check_policy_files, load_policy_files

LAG = """
  - name: purchases-lag
    kind: consumer_lag_scaling
    group: purchase-processor
    scale_out_above: 1000
    scale_in_below: 10
    for: 30s
    scale_in_for: 300s
    max_replicas: 6
"""


def test_shipped_policies_cover_the_groups_and_the_record() -> None:
    policies = load_policy_files(DEFAULT_POLICY_FILES)
    groups = {p.group for p in policies if isinstance(p, ConsumerLagScalingConfig)}
    assert groups == {"purchase-processor", "cart-processor", "page-views-aggregator"}
    (shift,) = [p for p in policies if isinstance(p, IngestTrafficShiftConfig)]
    assert (shift.record, shift.from_, shift.to) == ("events.ecommerce-domain.com", "primary", "secondary")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("30s", 30), ("120s", 120), ("5m", 300), ("1h", 3600), ("1.5m", 90)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LAG.replace("for: 30s", "for: 30x"), "policy 'purchases-lag' (#0): field 'for' value '30x'"),
        (LAG.replace("for: 30s", "for: 30"), "policy 'purchases-lag' (#0): field 'for' value 30"),
        (
            LAG.replace("kind: consumer_lag_scaling", "kind: autoscale"),
            "policy 'purchases-lag' (#0): field 'kind' value 'autoscale': unknown kind",
        ),
        (LAG.replace("  - name: purchases-lag\n", "  -\n"), "policy #0: field 'name' value"),
        (
            LAG.replace("scale_in_below: 10", "scale_in_below: 2000"),
            "field 'scale_in_below' value 2000: must be below scale_out_above 1000",
        ),
        (LAG.replace("max_replicas: 6", "max_replicas: 0"), "field 'max_replicas' value 0"),
        (
            LAG.replace("max_replicas: 6", "max_replicas: 6\n    min_replicas: 8"),
            "field 'max_replicas' value 6: must be at least min_replicas 8",
        ),
        (
            LAG.replace("max_replicas: 6", "max_replicas: 6\n    metric: offsets"),
            "field 'metric' value 'offsets'",
        ),
        (
            LAG.replace("max_replicas: 6", "max_replicas: 6\n    colldown: 60s"),
            "field 'colldown' value '60s'",
        ),
        (LAG + LAG, "policy 'purchases-lag': field 'name' value 'purchases-lag': name already used in"),
        (LAG.replace("    group: purchase-processor\n", ""), "field 'group' value"),
    ],
)
def test_errors_name_file_policy_field_and_value(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("policies:" + text)
    _, errors = check_policy_files([path])
    messages = [str(e) for e in errors]
    assert any(m.startswith(f"{path}: ") and expected in m for m in messages), messages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policies: [\n", "not valid YAML"),
        ("rules: []\n", "field 'policies' value None: expected a top-level 'policies:' list"),
        ("policies:\n  - 3\n", "policy #0: expected a mapping, got int"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    _, errors = check_policy_files([path])
    assert [expected in str(e) for e in errors] == [True]


def test_cli_check_reports_every_error_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies:" + LAG.replace("for: 30s", "for: soon") + "  - name: x\n    kind: nope\n")
    result = CliRunner().invoke(app, ["policy", "check", str(bad), *map(str, DEFAULT_POLICY_FILES), "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [(e["policy"], e["field"], e["value"]) for e in document["errors"]] == [
        ("'purchases-lag' (#0)", "for", "soon"),
        ("'x' (#1)", "kind", "nope"),
    ]
    assert "ingest-failover" in [p["name"] for p in document["policies"]]


def test_cli_check_passes_the_shipped_file() -> None:
    result = CliRunner().invoke(app, ["policy", "check", *map(str, DEFAULT_POLICY_FILES)])
    assert result.exit_code == 0, result.output
    assert "purchases-lag" in result.stdout
