"""The loadgen command's option handling (no network: failures before anything is sent)."""

from __future__ import annotations

import pytest
import typer
from moto import mock_aws
from typer.testing import CliRunner

from ingest.loadgen.cli import Defaults, make_command
from ingest.loadgen.config import Route53Source


def _app() -> typer.Typer:
    app = typer.Typer()
    defaults = Defaults(route53=Route53Source(hosted_zone="missing.example"), api_key="k")
    app.command()(make_command(lambda: defaults))
    return app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "127.0.0.1:1", "--route53"], "not both"),
        (["--target", "127.0.0.1:1", "--profile", "nope"], "flash-sale"),
        (["--target", "127.0.0.1:1", "--rate", "0"], "rate"),
        (["--target", "127.0.0.1:1", "--view-to-cart", "1.5"], "view_to_cart"),
    ],
)
def test_bad_options_are_refused_before_any_traffic(args: list[str], message: str) -> None:
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_unresolvable_record_is_an_error() -> None:
    with mock_aws():
        result = CliRunner().invoke(_app(), ["--route53", "--count", "1"])
    assert result.exit_code == 2
    assert "missing.example" in result.output
