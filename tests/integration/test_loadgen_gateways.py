"""Acceptance of loadgen against the real gateways (Kafka behind them) and the stack's Route 53."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controlplane.settings import Settings
from ingest.loadgen.config import FLASH_SALE_FUNNEL
from tests.integration.test_loadgen_support import (
    events_total,
    route53,
    run_cli,
    set_weights,
    weighted_records,
)

pytestmark = pytest.mark.integration


def _close(observed: float, wanted: float, rel: float = 0.1) -> bool:
    return abs(observed - wanted) <= rel * wanted


@pytest.fixture()
def restore_weights(stack_settings: Settings, route53_endpoint: str) -> Iterator[None]:
    client = route53(route53_endpoint, stack_settings.aws_region)
    record, zone = stack_settings.ingest_record, stack_settings.hosted_zone
    original = {name: int(rs["Weight"]) for name, rs in weighted_records(client, record, zone).items()}
    yield
    set_weights(client, original, record, zone)


def test_flash_sale_at_500_per_second_for_20s_reaches_the_gateway(
    gateways: dict[str, str], cli_env: dict[str, str]
) -> None:
    before = events_total(gateways["primary"], "primary")
    summary = run_cli(
        [
            "loadgen",
            "--profile",
            "flash-sale",
            "--rate",
            "500",
            "--duration",
            "20",
            "--target",
            gateways["primary"],
            "--seed",
            "20",
        ],
        cli_env,
    )
    assert summary["rate_target"] == pytest.approx(500, rel=0.01)
    assert summary["rate_achieved"] >= 0.95 * summary["rate_target"], summary
    assert summary["errors"] == 0 and summary["rejected"] == 0, summary["errors_by_reason"]
    assert summary["accepted"] == summary["sent"] == pytest.approx(10_000, abs=2)
    funnel = summary["funnel"]
    assert _close(funnel["view_to_cart"], FLASH_SALE_FUNNEL.view_to_cart), funnel
    assert _close(funnel["cart_to_purchase"], FLASH_SALE_FUNNEL.cart_to_purchase), funnel
    # The gateway's own count agrees with what the generator says it delivered.
    assert events_total(gateways["primary"], "primary") - before == summary["accepted"]


@pytest.mark.parametrize(
    ("weights", "winner"),
    [
        ({"primary": 100, "secondary": 0}, "primary"),
        ({"primary": 0, "secondary": 100}, "secondary"),
    ],
)
@pytest.mark.usefixtures("restore_weights")
def test_route53_weights_send_the_traffic_to_the_weighted_gateway(
    gateways: dict[str, str],
    stack_settings: Settings,
    route53_endpoint: str,
    cli_env: dict[str, str],
    weights: dict[str, int],
    winner: str,
) -> None:
    client = route53(route53_endpoint, stack_settings.aws_region)
    set_weights(client, weights, stack_settings.ingest_record, stack_settings.hosted_zone)
    before = {name: events_total(url, name) for name, url in gateways.items()}
    summary = run_cli(["loadgen", "--route53", "--rate", "300", "--count", "900"], cli_env)
    delivered = {name: events_total(url, name) - before[name] for name, url in gateways.items()}
    assert summary["errors"] == 0, summary["errors_by_reason"]
    assert summary["by_target"].get(winner, 0) >= 0.99 * summary["sent"], summary["by_target"]
    assert delivered[winner] >= 0.99 * sum(delivered.values()), delivered
    assert delivered[winner] == summary["accepted"] == summary["sent"]
