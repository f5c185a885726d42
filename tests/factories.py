"""Valid events of DESIGN.md 3.1 for tests (the loadgen has the realistic shopper model)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

EVENT_TYPES = ("page_view", "cart", "purchase")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_event(
    event_type: str, rng: random.Random | None = None, session: str | None = None
) -> dict[str, Any]:
    rng = rng or random.Random()
    product = f"p-{rng.randint(1, 50)}"
    payloads: dict[str, dict[str, Any]] = {
        "page_view": {"url": f"/products/{product}", "referrer": None, "product_id": product},
        "cart": {
            "action": rng.choice(["add", "remove", "update"]),
            "product_id": product,
            "quantity": rng.randint(0, 5),
            "unit_price": round(rng.uniform(1, 200), 2),
            "currency": "EUR",
        },
        "purchase": {
            "order_id": f"o-{uuid.uuid4().hex[:12]}",
            "items": [{"product_id": product, "quantity": rng.randint(1, 3), "unit_price": 19.99}],
            "total": 59.97,
            "currency": "EUR",
            "payment_method": "card",
        },
    }
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": now_iso(),
        "session_id": session or f"s-{rng.randint(1, 400)}",
        "user_id": rng.choice([None, f"u-{rng.randint(1, 100)}"]),
        "payload": payloads[event_type],
    }


def mixed_events(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [make_event(EVENT_TYPES[i % 3], rng) for i in range(count)]
