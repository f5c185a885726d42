"""Simulated shoppers: sessions that browse, change carts and buy, as v1 events (DESIGN.md 3.1).

Everything comes from one seeded ``random.Random``, event ids included, so a seed replays the same
events. Funnel decisions are drawn from shuffled quota bags rather than independent coin flips:
every block of ``BAG_SIZE`` sessions converts exactly at the configured rates, so short runs
show the configured funnel instead of sampling noise.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ingest.loadgen.config import Funnel

BAG_SIZE = 20
CURRENCY = "USD"
SHOP_URL = "https://shop.ecommerce-domain.com"
CATEGORIES = ("shoes", "shirts", "jackets", "bags", "watches", "toys", "books", "kitchen")
PAYMENT_METHODS = ("card", "paypal", "apple_pay", "gift_card")
EXTERNAL_REFERRERS = ("https://www.google.com/", "https://www.instagram.com/", None, None)
# Sessions never grow beyond this many page views, however the funnel is set.
MAX_VIEWS = 50


def format_timestamp(epoch_s: float) -> str:
    """RFC 3339, UTC, millisecond precision, ``Z`` suffix."""
    millis = int(round(epoch_s * 1000))
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


@dataclass(frozen=True)
class Product:
    product_id: str
    category: str
    unit_price: float


@dataclass(frozen=True)
class Catalogue:
    products: tuple[Product, ...]

    @classmethod
    def generate(cls, seed: int, size: int) -> Catalogue:
        rng = random.Random(f"catalogue-{seed}")
        products = tuple(
            Product(
                product_id=f"p-{index:05d}",
                category=rng.choice(CATEGORIES),
                # Log-normal prices: many cheap items, a few expensive ones (median ~30).
                unit_price=round(min(5000.0, max(0.99, rng.lognormvariate(math.log(30), 0.9))), 2),
            )
            for index in range(size)
        )
        return cls(products)


class QuotaBag:
    """Draws True for exactly round(probability * BAG_SIZE) of every BAG_SIZE draws, in random order."""

    def __init__(self, probability: float, rng: random.Random) -> None:
        self._hits = round(probability * BAG_SIZE)
        self._rng = rng
        self._tokens: list[bool] = []

    def draw(self) -> bool:
        if not self._tokens:
            self._tokens = [True] * self._hits + [False] * (BAG_SIZE - self._hits)
            self._rng.shuffle(self._tokens)
        return self._tokens.pop()


@dataclass
class FunnelStats:
    """Completed sessions only: a session still running at the end of a run has not decided yet."""

    sessions: int = 0
    carted: int = 0
    purchased: int = 0

    @property
    def view_to_cart(self) -> float:
        return self.carted / self.sessions if self.sessions else 0.0

    @property
    def cart_to_purchase(self) -> float:
        return self.purchased / self.carted if self.carted else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"sessions": self.sessions, "view_to_cart": round(self.view_to_cart, 4),
                "cart_to_purchase": round(self.cart_to_purchase, 4)}


@dataclass
class Session:
    session_id: str
    user_id: str | None
    steps: list[str]
    carts: bool
    buys: bool
    cart: dict[str, tuple[int, float]] = field(default_factory=dict)
    last_url: str | None = None
    last_product: Product | None = None


class ShopperSim:
    """An endless, seeded stream of events from ``sessions`` shoppers active at once."""

    def __init__(self, funnel: Funnel, seed: int, sessions: int = 50, catalogue_size: int = 200) -> None:
        self.funnel = funnel
        self.catalogue = Catalogue.generate(seed, catalogue_size)
        self.stats = FunnelStats()
        self._rng = random.Random(f"shoppers-{seed}")
        self._cart_bag = QuotaBag(funnel.view_to_cart, self._rng)
        self._purchase_bag = QuotaBag(funnel.cart_to_purchase, self._rng)
        self._active = [self._new_session() for _ in range(sessions)]

    # Session plans ------------------------------------------------------------------------------
    def _geometric(self, mean: float) -> int:
        """1 + a geometric count of extra steps, so that the mean is ``mean``."""
        count = 1
        while count < MAX_VIEWS and self._rng.random() > 1 / mean:
            count += 1
        return count

    def _new_session(self) -> Session:
        rng = self._rng
        steps = ["view"] * self._geometric(self.funnel.views_per_session)
        carts = self._cart_bag.draw()
        buys = False
        if carts:
            steps.append("add")
            for _ in range(self._geometric(self.funnel.cart_changes_per_cart) - 1):
                steps.append(rng.choice(("add", "update", "remove")))
            buys = self._purchase_bag.draw()
        steps.append("purchase" if buys else "view")
        steps.reverse()  # popped from the end
        user = f"u-{rng.randrange(1, 100_000)}" if rng.random() < 0.6 else None
        return Session(session_id=f"s-{rng.getrandbits(64):016x}", user_id=user, steps=steps,
                       carts=carts, buys=buys)

    # Events -------------------------------------------------------------------------------------
    def next_event(self, occurred_at: str) -> dict[str, Any]:
        index = self._rng.randrange(len(self._active))
        session = self._active[index]
        event = self._step(session, session.steps.pop(), occurred_at)
        if not session.steps:
            self.stats.sessions += 1
            self.stats.carted += session.carts
            self.stats.purchased += session.buys
            self._active[index] = self._new_session()
        return event

    def _envelope(self, session: Session, event_type: str, occurred_at: str,
                  payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "event_id": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": occurred_at,
            "session_id": session.session_id,
            "user_id": session.user_id,
            "payload": payload,
        }

    def _step(self, session: Session, kind: str, occurred_at: str) -> dict[str, Any]:
        if kind == "view":
            return self._view(session, occurred_at)
        if kind == "purchase":
            return self._purchase(session, occurred_at)
        return self._cart(session, kind, occurred_at)

    def _view(self, session: Session, occurred_at: str) -> dict[str, Any]:
        rng = self._rng
        product: Product | None = None
        if session.last_url is None:
            url = rng.choice((f"{SHOP_URL}/", f"{SHOP_URL}/c/{rng.choice(CATEGORIES)}"))
            referrer = rng.choice(EXTERNAL_REFERRERS)
        else:
            product = rng.choice(self.catalogue.products)
            url = f"{SHOP_URL}/p/{product.product_id}"
            referrer = session.last_url
            session.last_product = product
        session.last_url = url
        payload = {"url": url, "referrer": referrer, "product_id": product.product_id if product else None}
        return self._envelope(session, "page_view", occurred_at, payload)

    def _cart(self, session: Session, action: str, occurred_at: str) -> dict[str, Any]:
        rng = self._rng
        if action != "add" and not session.cart:
            action = "add"
        if action == "remove" and len(session.cart) == 1:
            # Keep a line in the cart so that a planned purchase has something to buy.
            action = "update"
        if action == "add":
            product = session.last_product if session.last_product and session.last_product.product_id \
                not in session.cart else rng.choice(self.catalogue.products)
            quantity = session.cart.get(product.product_id, (0, 0.0))[0] + rng.randint(1, 3)
            product_id, unit_price = product.product_id, product.unit_price
        else:
            product_id = rng.choice(sorted(session.cart))
            unit_price = session.cart[product_id][1]
            quantity = rng.randint(1, 5) if action == "update" else 0
        if quantity:
            session.cart[product_id] = (quantity, unit_price)
        else:
            del session.cart[product_id]
        payload = {"action": action, "product_id": product_id, "quantity": quantity,
                   "unit_price": unit_price, "currency": CURRENCY}
        return self._envelope(session, "cart", occurred_at, payload)

    def _purchase(self, session: Session, occurred_at: str) -> dict[str, Any]:
        items = [{"product_id": pid, "quantity": qty, "unit_price": price}
                 for pid, (qty, price) in sorted(session.cart.items())]
        total = round(sum(qty * price for qty, price in session.cart.values()), 2)
        payload = {"order_id": f"o-{self._rng.getrandbits(64):016x}", "items": items, "total": total,
                   "currency": CURRENCY, "payment_method": self._rng.choice(PAYMENT_METHODS)}
        session.cart.clear()
        return self._envelope(session, "purchase", occurred_at, payload)
