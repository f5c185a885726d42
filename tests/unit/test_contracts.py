"""ContractRegistry: loading the shipped schemas, dispatch, and readable rejections."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ingest.contracts import SCHEMAS_DIR, ContractLoadError, ContractRegistry

EVENT_ID = "0b5d6a2e-3c1f-4f7e-9a59-6f1d2b9c8e11"


def event(event_type: str, payload: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": EVENT_ID,
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": "2026-11-24T10:00:00.123Z",
        "session_id": "s-123",
        "user_id": "u-9",
        "payload": payload,
    }
    base.update(envelope)
    return base


PAGE = {"url": "https://shop.example/p/1", "referrer": None, "product_id": "p-1"}
CART = {"action": "add", "product_id": "p-1", "quantity": 2, "unit_price": 9.99, "currency": "EUR"}
ITEM = {"product_id": "p-1", "quantity": 1, "unit_price": 9.99}
PURCHASE = {"order_id": "o-1", "items": [ITEM], "total": 9.99, "currency": "EUR", "payment_method": "card"}


@pytest.fixture(scope="module")
def registry() -> ContractRegistry:
    return ContractRegistry.load()


def test_shipped_registry_lists_types_and_versions(registry: ContractRegistry) -> None:
    assert registry.event_types() == ("cart", "page_view", "purchase")
    for event_type in registry.event_types():
        versions = registry.versions(event_type)
        assert versions[0] == 1
        assert versions == tuple(range(1, registry.latest(event_type) + 1))


@pytest.mark.parametrize(
    "candidate",
    [
        event("page_view", PAGE),
        event("page_view", {"url": "/"}, user_id=None),
        event("cart", CART),
        event("cart", {**CART, "action": "remove", "quantity": 0, "unit_price": 0}),
        event("purchase", PURCHASE),
        event("purchase", {**PURCHASE, "items": [ITEM, {**ITEM, "product_id": "p-2", "quantity": 3}]}),
        event("cart", CART, occurred_at="2026-11-24T10:00:00+01:00"),
    ],
)
def test_valid_events_are_accepted(registry: ContractRegistry, candidate: dict[str, Any]) -> None:
    outcome = registry.validate(candidate)
    assert outcome.ok, outcome.message
    assert (outcome.event_type, outcome.version, outcome.reason) == (candidate["event_type"], 1, None)


def cart(**changes: Any) -> dict[str, Any]:
    return event("cart", {**CART, **changes})


def purchase(**changes: Any) -> dict[str, Any]:
    return event("purchase", {**PURCHASE, **changes})


def page(**envelope: Any) -> dict[str, Any]:
    return event("page_view", PAGE, **envelope)


ACTIONS = '["add", "remove", "update"]'


@pytest.mark.parametrize(
    ("candidate", "reason", "message"),
    [
        ([CART], "envelope", "event: must be a JSON object, got array"),
        ({"payload": CART}, "envelope", "event_type: must be a string, got nothing (missing)"),
        (event("refund", {}), "unknown_type", 'event_type: unknown event type "refund"'),
        (cart() | {"schema_version": "1"}, "envelope", 'schema_version: must be an integer, got "1"'),
        (cart() | {"schema_version": True}, "envelope", "schema_version: must be an integer, got true"),
        (cart() | {"schema_version": 99}, "unknown_version", "schema_version: cart has no version 99"),
        (cart(quantity=-1), "schema", "payload.quantity: must be >= 0, got -1"),
        (cart(quantity=1.5), "schema", "payload.quantity: must be of type integer, got number"),
        (cart(action="buy"), "schema", f'payload.action: must be one of {ACTIONS}, got "buy"'),
        (cart(currency="eur"), "schema", 'payload.currency: must match ^[A-Z]{3}$, got "eur"'),
        (cart(unit_price=-0.01), "schema", "payload.unit_price: must be >= 0, got -0.01"),
        (cart(coupon="X"), "schema", "payload: unexpected property 'coupon'"),
        (
            event("cart", {k: v for k, v in CART.items() if k != "currency"}),
            "schema",
            "payload: missing required property 'currency'",
        ),
        (purchase(items=[]), "schema", "payload.items: must have at least 1 items, got 0"),
        (
            purchase(items=[{**ITEM, "quantity": 0}]),
            "schema",
            "payload.items[0].quantity: must be >= 1, got 0",
        ),
        (purchase(total="10"), "schema", "payload.total: must be of type number, got string"),
        (page(event_id="not-a-uuid"), "schema", 'event_id: must be a valid uuid, got "not-a-uuid"'),
        (page(occurred_at="yesterday"), "schema", "occurred_at: must be a valid date-time"),
        (page(session_id=""), "schema", "session_id: must be at least 1 characters long, got 0"),
        (page(session_id="s" * 129), "schema", "session_id: must be at most 128 characters long, got 129"),
        (page(user_id=7), "schema", "user_id: must be of type string or null, got integer"),
        (page(extra=1), "schema", "event: unexpected property 'extra'"),
        (
            {k: v for k, v in page().items() if k != "user_id"},
            "schema",
            "event: missing required property 'user_id'",
        ),
    ],
)
def test_invalid_events_are_rejected_with_reason_and_path(
    registry: ContractRegistry, candidate: object, reason: str, message: str
) -> None:
    outcome = registry.validate(candidate)
    assert not outcome.ok
    assert outcome.reason == reason
    assert outcome.message.startswith(message), outcome.message


def test_rejection_echo_of_a_huge_value_is_clipped(registry: ContractRegistry) -> None:
    outcome = registry.validate(event("cart", {**CART, "currency": "X" * 10_000}))
    assert outcome.reason == "schema"
    assert len(outcome.message) < 200


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target)
    return target


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def v1_with(event_type: str, changes: dict[str, Any]) -> str:
    schema = json.loads((SCHEMAS_DIR / event_type / "v1.json").read_text(encoding="utf-8"))
    for field, value in changes.items():
        schema["properties"][field] = value
    return json.dumps(schema)


BAD_TYPE = json.dumps(
    {"type": "no-such-type", "properties": {"event_type": {"const": "cart"}, "schema_version": {"const": 1}}}
)


@pytest.mark.parametrize(
    ("relative", "text", "expected"),
    [
        ("cart/v1.json", "{not json", "cart/v1.json: not valid JSON"),
        ("cart/v1.json", "[]", "cart/v1.json: a JSON Schema must be a JSON object, got array"),
        (
            "cart/v9.json",
            v1_with("cart", {"schema_version": {"const": 9}}),
            "cart/v9.json: version gap, missing v2.json",
        ),
        ("cart/latest.json", "{}", "cart/latest.json: unexpected file"),
        (
            "cart/v1.json",
            v1_with("cart", {"event_type": {"const": "page_view"}}),
            "cart/v1.json: properties.event_type must be",
        ),
        (
            "page_view/v1.json",
            v1_with("page_view", {"schema_version": {"const": 2}}),
            "page_view/v1.json: properties.schema_version must be",
        ),
        ("cart/v1.json", BAD_TYPE, "cart/v1.json: invalid JSON Schema"),
    ],
)
def test_loading_errors_name_the_file(tmp_path: Path, relative: str, text: str, expected: str) -> None:
    root = copy_schemas(tmp_path)
    write(root / relative, text)
    with pytest.raises(ContractLoadError) as caught:
        ContractRegistry.load(root)
    assert str(caught.value).startswith(f"{root}/{expected}"), str(caught.value)


def test_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContractLoadError, match="schemas directory not found"):
        ContractRegistry.load(tmp_path / "nowhere")
