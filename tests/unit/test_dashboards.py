"""Dashboards and rules as code: generated files, house style, metric names, promtool, --check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from controlplane.cli import app
from dashboards import build, queries, rule_files, rules

REPO = Path(__file__).resolve().parents[2]
METRICS_DOC = REPO / "docs" / "METRICS.md"
MODERN_PANELS = {"row", "timeseries", "stat", "bargauge", "table", "heatmap"}
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
# Series Prometheus itself writes for every scrape target.
PROMETHEUS_BUILTINS = {"up"}


def contract_names() -> set[str]:
    """Every metric name docs/METRICS.md allows, with the series a histogram exposes."""
    names: set[str] = set()
    for line in METRICS_DOC.read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4 or not cells[1].startswith("`"):
            continue
        for name in re.findall(r"`([a-z][a-z0-9_:]*)`", cells[1]):
            names.add(name)
            if cells[2] == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def referenced_metrics(expr: str) -> set[str]:
    """Metric names in a PromQL expression: our prefixes, recording-rule names, Prometheus built-ins."""
    unquoted = re.sub(r'"[^"]*"', '""', expr)
    tokens = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_:]*", unquoted))
    ours = re.compile(r"^(ingest|consumer|kafka|ecomctl)_|:")
    return {t for t in tokens if ours.search(t) or t in PROMETHEUS_BUILTINS}


def models() -> dict[str, Any]:
    return build.load_dashboards(build.SOURCE_DIR)


def all_panels() -> list[tuple[str, dict[str, Any]]]:
    return [(name, panel) for name, model in models().items() for panel in model["panels"]]


def test_committed_files_match_the_code() -> None:
    assert build.check(build.SOURCE_DIR, build.GENERATED_DIR) == []


def test_output_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    build.build(build.SOURCE_DIR, first)
    build.build(build.SOURCE_DIR, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        text = (first / relative).read_text()
        assert text == (second / relative).read_text()
        assert text.endswith("\n")
    model = json.loads((first / "ingest.json").read_text())
    assert json.dumps(model, sort_keys=True, indent=2) + "\n" == (first / "ingest.json").read_text()


def test_the_five_dashboards_exist_with_stable_uids() -> None:
    assert {name: model["uid"] for name, model in models().items()} == {
        "consumers": "ecomctl-consumers",
        "control-plane": "ecomctl-control-plane",
        "ingest": "ecomctl-ingest",
        "kafka-lag": "ecomctl-kafka-lag",
        "overview": "ecomctl-overview",
    }


@pytest.mark.parametrize("name", sorted(models()))
def test_dashboard_uses_a_datasource_variable_and_unique_ids(name: str) -> None:
    model = models()[name]
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    assert model["schemaVersion"] == 36


@pytest.mark.parametrize(
    ("dashboard", "panel"), all_panels(), ids=lambda v: v if isinstance(v, str) else v["title"]
)
def test_panel_follows_house_style(dashboard: str, panel: dict[str, Any]) -> None:
    assert panel["type"] in MODERN_PANELS
    grid = panel["gridPos"]
    assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0
    if panel["type"] == "row":
        return
    assert panel["fieldConfig"]["defaults"]["unit"], f"{dashboard}: {panel['title']} has no unit"
    assert panel["datasource"] == DATASOURCE_REF
    assert panel["targets"]
    for target in panel["targets"]:
        assert target["datasource"] == DATASOURCE_REF
        assert target["expr"]


def test_panels_do_not_overlap() -> None:
    for name, model in models().items():
        cells: dict[tuple[int, int], str] = {}
        for panel in model["panels"]:
            g = panel["gridPos"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']} overlaps {cells[(x, y)]}"
                    cells[(x, y)] = panel["title"]


@pytest.mark.parametrize(
    ("expr", "known", "unknown"),
    [
        ("sum(rate(ingest_events_total[1m]))", {"ingest_events_total"}, set()),
        ('up{job="consumer"} == 0', set(), set()),
        ("rate(ingest_event_total[1m])", {"ingest_events_total"}, {"ingest_event_total"}),
        ("a:b:c > 1", set(), {"a:b:c"}),
        ('x{group="kafka_consumergroup_lag"}', set(), set()),
    ],
)
def test_metric_name_check(expr: str, known: set[str], unknown: set[str]) -> None:
    assert referenced_metrics(expr) - known - PROMETHEUS_BUILTINS == unknown


def test_every_expression_uses_only_contract_names() -> None:
    allowed = contract_names() | {r.record for r in rules.RECORDING.rules if isinstance(r, rules.Recording)}
    assert {"kafka_consumergroup_group_lag_seconds", "ingest_request_duration_seconds_bucket"} <= allowed
    unknown = {
        e.source: sorted(referenced_metrics(e.expr) - allowed - PROMETHEUS_BUILTINS)
        for e in queries.all_expressions()
    }
    assert {k: v for k, v in unknown.items() if v} == {}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(x[$__rate_interval])", "rate(x[1m])"),
        ("increase(x[$__interval])", "increase(x[1m])"),
        ("increase(x[$__range])", "increase(x[1h])"),
        ('x{gateway=~"$gateway"}', 'x{gateway=~".*"}'),
        ('x{group=~"${group}"}', 'x{group=~".*"}'),
        ('x{group=~"${group:regex}"}', 'x{group=~".*"}'),
        ("sum(x)", "sum(x)"),
    ],
)
def test_concrete_substitutes_macros_and_variables(expr: str, expected: str) -> None:
    assert queries.concrete(expr) == expected


def test_expression_list_covers_panels_and_rules() -> None:
    expressions = queries.all_expressions()
    panel_targets = sum(len(p["targets"]) for _, p in all_panels() if p["type"] != "row")
    alerts = [r for r in rules.ALERTS.rules if isinstance(r, rules.Alert)]
    assert len(expressions) == panel_targets + len(rules.RECORDING.rules) + 2 * len(alerts)
    assert not [e for e in expressions if "$" in e.expr]
    assert [e.expect_data for e in expressions].count(False) == len(alerts)


class FakePrometheus:
    """Answers per expression as canned results; raises where the answer is an exception."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def custom_query(self, query: str, params: dict[str, Any] | None = None) -> Any:
        answer = self.answers[query]
        if isinstance(answer, Exception):
            raise answer
        return answer


SERIES = [{"metric": {"group": "g"}, "value": [1.0, "3"]}]


@pytest.mark.parametrize(
    ("answers", "expect_data", "errors", "empty", "ratio"),
    [
        ({"a": SERIES, "b": SERIES}, [True, True], 0, 0, 1.0),
        ({"a": SERIES, "b": []}, [True, True], 0, 1, 0.5),
        ({"a": SERIES, "b": []}, [True, False], 0, 0, 1.0),
        ({"a": SERIES, "b": ValueError("bad_data: parse error")}, [True, True], 1, 0, 0.5),
        ({"a": [1700000000.0, "42"]}, [True], 0, 0, 1.0),
    ],
)
def test_run_reports_errors_and_data(
    answers: dict[str, Any], expect_data: list[bool], errors: int, empty: int, ratio: float
) -> None:
    expressions = [queries.Expression(k, k, e) for k, e in zip(answers, expect_data, strict=True)]
    report = queries.run(FakePrometheus(answers), expressions)
    assert (len(report.errors), len(report.empty), report.data_ratio) == (errors, empty, ratio)


def test_rule_files_are_the_generated_rules() -> None:
    files = rule_files()
    assert files == sorted((build.GENERATED_DIR / "rules").glob("*.yml"))
    assert all(f.is_file() for f in files)


@pytest.mark.parametrize(
    ("alert", "observed", "limit"),
    [
        ("KafkaConsumerLagGrowing", "{{ $value | humanize }}", "more than 1000 messages"),
        ("KafkaConsumerLagSecondsOverBudget", "{{ $value | humanizeDuration }}", "> budget 30s"),
        ("IngestErrorRatioHigh", "{{ $value | humanizePercentage }}", "> 5%"),
        ("IngestSpoolFilling", "{{ $value | humanizePercentage }}", "> 50%"),
        ("IngestSpoolNearlyFull", "{{ $value | humanizePercentage }}", "> 90%"),
        ("ConsumerDown", "{{ $labels.instance }}", "(up == 0)"),
        ("ConsumerGroupEmpty", "{{ $value }} members", "replicas > 0"),
        ("ControlLoopStuck", "{{ $value | humanizeDuration }}", "> 60s"),
        ("ControlPlaneDown", "{{ $labels.instance }}", "(up == 0)"),
    ],
)
def test_alert_message_shows_observed_value_and_limit(alert: str, observed: str, limit: str) -> None:
    found = [r for r in rules.ALERTS.rules if isinstance(r, rules.Alert) and r.alert == alert]
    assert found
    assert any(observed in a.description and limit in a.description for a in found)


def promtool(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool not found: install the Debian package prometheus (make setup)"
    return subprocess.run([binary, "check", "rules", str(path)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_promtool_accepts_generated_rules(path: Path) -> None:
    result = promtool(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = rules.Group("broken", (rules.Recording("job:x:rate1m", "sum by (job (rate(x[1m]))"),))
    path = tmp_path / "broken.yml"
    path.write_text(rules.render((broken,)))
    assert promtool(path).returncode != 0


def test_rules_yaml_round_trips() -> None:
    for name, text in rules.rendered().items():
        document = yaml.safe_load(text)
        assert [g["name"] for g in document["groups"]] == [g.name for g in rules.RULE_FILES[name]]


# --check on a copy of the dashboards directory -------------------------------------------------

def _ingest_retitled(src: Path, out: Path) -> str:
    path = src / "ingest.dashboard.py"
    path.write_text(path.read_text().replace('title="Ingest"', 'title="Ingest (edited)"'))
    return "ingest.json: differs"


def _generated_file_deleted(src: Path, out: Path) -> str:
    (out / "overview.json").unlink()
    return "overview.json: missing"


def _stray_generated_file(src: Path, out: Path) -> str:
    (out / "old.json").write_text("{}\n")
    return "old.json: extra"


def _new_dashboard(src: Path, out: Path) -> str:
    shutil.copy(src / "overview.dashboard.py", src / "second.dashboard.py")
    return "second.json: missing"


def _rule_file_edited(src: Path, out: Path) -> str:
    path = out / "rules" / "alerts.yml"
    path.write_text(path.read_text().replace("for: 2m", "for: 3m"))
    return "alerts.yml: differs"


@pytest.mark.parametrize(
    "change",
    [_ingest_retitled, _generated_file_deleted, _stray_generated_file, _new_dashboard, _rule_file_edited],
    ids=lambda f: f.__name__.strip("_"),
)
def test_check_fails_naming_the_drifted_file(tmp_path: Path, change: Any) -> None:
    src = tmp_path / "dashboards"
    shutil.copytree(build.SOURCE_DIR, src, ignore=shutil.ignore_patterns("__pycache__", "generated"))
    out = src / "generated"
    runner = CliRunner()
    args = ["dashboards", "build", "--source", str(src), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, [*args, "--check"]).exit_code == 0

    expected = change(src, out)

    result = runner.invoke(app, [*args, "--check"])
    assert result.exit_code == 1
    assert expected in str(result.exception) + result.output
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, [*args, "--check"]).exit_code == 0
