"""The operator commands through the real CLI app (nop scaling backend, temp state dir, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controlplane.cli import app
from controlplane.commands.output import CommandError
from controlplane.commands.weights import parse_weights


@pytest.mark.parametrize(("items", "error"), [
    (["primary70"], "bad item 'primary70': expected NAME=WEIGHT"),
    (["=70"], "bad item '=70': expected NAME=WEIGHT"),
    (["primary=abc"], "bad item 'primary=abc': weight 'abc' is not an integer 0..255"),
    (["primary=300"], "bad item 'primary=300': weight 300 outside 0..255"),
    (["primary=1", "primary=2"], "bad item 'primary=2': primary given twice"),
    ([], "no weights given"),
])
def test_parse_weights_names_the_bad_item(items: list[str], error: str) -> None:
    with pytest.raises(CommandError, match=error):
        parse_weights(items)


def test_parse_weights() -> None:
    assert parse_weights(["primary=70", "secondary=30"]) == {"primary": 70, "secondary": 30}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ECOMCTL_STATE_DIR", str(tmp_path / ".ecomctl"))
    monkeypatch.setenv("ECOMCTL_SCALING_BACKEND", "nop")
    monkeypatch.setenv("ECOMCTL_CONFIG", str(tmp_path / "absent.yaml"))
    return tmp_path / ".ecomctl"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["scale", "purchase-processor", "7"], 1,
     "replicas 7 outside 0..6 (partitions of purchase-processor: 6)"),
    (["scale", "nope", "1"], 1, "unknown consumer group 'nope'"),
    (["chaos", "gateway-fail", "tertiary", "0.5"], 1, "unknown gateway 'tertiary'"),
    (["policy", "pause"], 2, "give a policy NAME or --all"),
    (["policy", "pause", "no-such-policy"], 1, "unknown policy 'no-such-policy'"),
])
def test_refusals_exit_non_zero_with_the_reason(env: Path, args: list[str], code: int, message: str) -> None:
    # cli.main() turns a CommandError into its message on stderr and its exit code.
    error = CliRunner().invoke(app, args).exception
    assert isinstance(error, CommandError) and message in str(error)
    assert error.exit_code == code


def test_actions_are_audited_as_the_given_user_newest_first(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["scale", "purchase-processor", "2", "--user", "alice"]).exit_code == 0
    chaos = ["chaos", "consumer-delay", "purchase-processor", "50", "--user", "bob"]
    assert runner.invoke(app, chaos).exit_code == 0
    assert runner.invoke(app, ["policy", "pause", "purchases-lag", "--user", "carol"]).exit_code == 0
    out = runner.invoke(app, ["audit", "--json", "--limit", "2"])
    assert out.exit_code == 0
    entries = json.loads(out.stdout)["entries"]
    assert [(e["actor"], e["action"], e["result"]) for e in entries] == [
        ("user:carol", "pause", "applied"), ("user:bob", "chaos", "applied")]
    assert json.loads((env / "chaos.json").read_text())["consumer_delay_ms"] == {"purchase-processor": 50}
    listed = json.loads(runner.invoke(app, ["policy", "list", "--json"]).stdout)
    assert next(p for p in listed["policies"] if p["name"] == "purchases-lag")["paused"] is True


def test_consumers_json_shape(env: Path) -> None:
    out = CliRunner().invoke(app, ["consumers", "--json"])
    assert out.exit_code == 0
    groups = json.loads(out.stdout)["groups"]
    assert groups["purchase-processor"] == {"replicas": 1, "partitions": 6}
    assert set(groups) == {"purchase-processor", "cart-processor", "page-views-aggregator"}
