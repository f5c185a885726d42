"""Simulated shoppers: funnel ratios, schema validity, unique ids, determinism."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from ingest.contracts import ContractRegistry
from ingest.loadgen.config import FLASH_SALE_FUNNEL, Funnel
from ingest.loadgen.shoppers import Catalogue, QuotaBag, ShopperSim, format_timestamp

TIMESTAMP = "2026-11-24T10:00:00.123Z"


def _events(sim: ShopperSim, n: int) -> list[dict]:
    return [sim.next_event(TIMESTAMP) for _ in range(n)]


@pytest.mark.parametrize(
    ("funnel", "seed"),
    [
        (Funnel(view_to_cart=0.3, cart_to_purchase=0.2), 1),
        (Funnel(view_to_cart=0.5, cart_to_purchase=0.6, views_per_session=2), 2),
        (FLASH_SALE_FUNNEL, 3),
        (Funnel(view_to_cart=0.05, cart_to_purchase=1.0, views_per_session=8), 4),
    ],
)
def test_funnel_ratios_over_many_sessions(funnel: Funnel, seed: int) -> None:
    sim = ShopperSim(funnel, seed=seed, sessions=30)
    events = _events(sim, 60_000)
    stats = sim.stats
    assert stats.sessions > 3000
    assert stats.view_to_cart == pytest.approx(funnel.view_to_cart, rel=0.05)
    assert stats.cart_to_purchase == pytest.approx(funnel.cart_to_purchase, rel=0.05)
    # The same ratios seen from the events alone, as a consumer would count them.
    kinds: dict[str, set[str]] = {}
    for event in events:
        kinds.setdefault(event["session_id"], set()).add(event["event_type"])
    assert all("page_view" in k for k in kinds.values())
    carted = sum("cart" in k for k in kinds.values())
    bought = sum("purchase" in k for k in kinds.values())
    assert carted / len(kinds) == pytest.approx(funnel.view_to_cart, rel=0.1)
    assert bought / carted == pytest.approx(funnel.cart_to_purchase, rel=0.1)


@pytest.mark.parametrize("funnel", [Funnel(), FLASH_SALE_FUNNEL])
def test_every_generated_event_is_valid_against_the_current_schemas(funnel: Funnel) -> None:
    registry = ContractRegistry.load()
    sim = ShopperSim(funnel, seed=7, sessions=20)
    failures = [(e, o.message) for e in _events(sim, 5000) if not (o := registry.validate(e)).ok]
    assert failures == []


def test_purchases_add_up_and_event_ids_are_unique_uuid4() -> None:
    events = _events(ShopperSim(FLASH_SALE_FUNNEL, seed=11), 20_000)
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids
    )
    purchases = [e["payload"] for e in events if e["event_type"] == "purchase"]
    assert purchases
    for payload in purchases:
        assert payload["items"]
        expected = round(sum(i["quantity"] * i["unit_price"] for i in payload["items"]), 2)
        assert payload["total"] == pytest.approx(expected)


def test_flash_sale_mix_leans_towards_carts_and_purchases() -> None:
    normal = Counter(e["event_type"] for e in _events(ShopperSim(Funnel(), seed=5), 20_000))
    sale = Counter(e["event_type"] for e in _events(ShopperSim(FLASH_SALE_FUNNEL, seed=5), 20_000))
    assert sale["cart"] / sale["page_view"] > 2 * normal["cart"] / normal["page_view"]
    assert sale["purchase"] / sale["page_view"] > 4 * normal["purchase"] / normal["page_view"]


@pytest.mark.parametrize(("seed_a", "seed_b", "same"), [(42, 42, True), (42, 43, False)])
def test_a_seed_replays_the_same_events(seed_a: int, seed_b: int, same: bool) -> None:
    a = _events(ShopperSim(Funnel(), seed=seed_a), 500)
    b = _events(ShopperSim(Funnel(), seed=seed_b), 500)
    assert (a == b) is same
    assert (Catalogue.generate(seed_a, 50) == Catalogue.generate(seed_b, 50)) is same


@pytest.mark.parametrize(("probability", "hits"), [(0.0, 0), (0.3, 6), (0.2, 4), (1.0, 20), (0.33, 7)])
def test_quota_bag_hits_exactly_per_block(probability: float, hits: int) -> None:
    bag = QuotaBag(probability, random.Random(1))
    for _ in range(5):
        assert sum(bag.draw() for _ in range(20)) == hits


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1795514400.1234, "2026-11-24T10:00:00.123Z"),
        (1795514400.9996, "2026-11-24T10:00:01.000Z"),
    ],
)
def test_timestamps_are_rfc3339_with_milliseconds(epoch: float, text: str) -> None:
    assert format_timestamp(epoch) == text
