"""An hour of 5 s data for every console figure, and control-plane documents, for the in-memory fakes.

Deterministic (seeded) so screenshots and benchmark inputs are the same on every run.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

from controlplane.console.metrics import SPECS, STEP_S, WINDOW, Matrix

GROUPS = ("page-views-aggregator", "cart-processor", "purchase-processor")
GATEWAYS = ("primary", "secondary")

# figure key -> (label name, label values, base value, wobble)
SERIES: dict[str, tuple[str, tuple[str, ...], tuple[float, ...], float]] = {
    "ingest-rate": ("event_type", ("page_view", "cart", "purchase"), (310.0, 95.0, 12.0), 0.15),
    "error-ratio": ("gateway", GATEWAYS, (0.002, 0.0005), 0.8),
    "latency": ("quantile", ("p50", "p99"), (0.004, 0.031), 0.25),
    "weights": ("set_identifier", GATEWAYS, (100.0, 0.0), 0.0),
    "replicas": ("group", GROUPS, (2.0, 1.0, 1.0), 0.0),
    "spool": ("gateway", GATEWAYS, (0.0, 0.0), 0.0),
    "group-lag": ("group", GROUPS, (420.0, 35.0, 2.0), 0.6),
    "group-lag-seconds": ("group", GROUPS, (1.4, 0.4, 0.1), 0.6),
    "gateway-traffic": ("gateway", GATEWAYS, (140.0, 0.0), 0.15),
    "gateway-p99": ("gateway", GATEWAYS, (0.029, 0.0), 0.25),
    "consumer-rate": ("group", GROUPS, (305.0, 94.0, 12.0), 0.15),
    "consumer-latency": ("group", GROUPS, (0.35, 0.12, 0.08), 0.3),
    "members": ("group", GROUPS, (2.0, 1.0, 1.0), 0.0),
}


def hour_matrices(now: datetime, seed: int = 7) -> dict[str, Matrix]:
    """query -> Prometheus matrix: 720 points per series ending at ``now``."""
    rng = random.Random(seed)
    points = int(WINDOW.total_seconds() // STEP_S)
    start = (now - WINDOW).timestamp()
    out: dict[str, Matrix] = {}
    for key, (label, values, bases, wobble) in SERIES.items():
        matrix = []
        for value, base in zip(values, bases, strict=True):
            phase = rng.random() * math.tau
            samples = []
            for i in range(points):
                wave = 1 + wobble * (0.6 * math.sin(i / 40 + phase) + 0.4 * (rng.random() - 0.5))
                # A burst in the last quarter, the kind of thing a console is looked at for.
                burst = 3.0 if key in ("group-lag", "group-lag-seconds") and 520 < i < 600 else 1.0
                samples.append([start + (i + 1) * STEP_S, repr(max(base * wave * burst, 0.0))])
            matrix.append({"metric": {label: value}, "values": samples})
        out[SPECS[key].query] = matrix
    return out


WEIGHTS = {"primary": 100, "secondary": 0}
REPLICAS = {"page-views-aggregator": 2, "cart-processor": 1, "purchase-processor": 1}


def _policy(name: str, kind: str, target: str, verdict: str, observed: float, limit: float,
            breach_for_s: float | None, next_action: str, reason: str) -> dict[str, Any]:
    return {"name": name, "kind": kind, "target": target, "priority": 0, "paused": False,
            "last": {"verdict": verdict, "reason": reason, "observed": observed, "limit": limit,
                     "breach_for_s": breach_for_s, "next_action": next_action, "result": None,
                     "at": "2026-11-24T10:00:00+00:00"}}


def state_document() -> dict[str, Any]:
    """The ``GET /api/state`` shape (controlplane.loop.ControlLoop.state_document)."""
    return {
        "paused_all": False, "dry_run": False, "last_tick": "2026-11-24T10:00:00+00:00", "interval_s": 5.0,
        "policies": [
            _policy("purchases-lag", "consumer_lag_scaling", "purchase-processor", "noop", 2, 1000, None,
                    "none: lag 2 <= 1000", "lag 2 within 10..1000"),
            _policy("page-views-lag", "consumer_lag_scaling", "page-views-aggregator", "hold", 12500, 10000,
                    42.0, "scale to 3 once breached for 60s (18 s more)",
                    "lag 12500 > 10000 for 42s, needs 60s"),
            _policy("ingest-failover", "ingest_traffic_shift", "events.ecommerce-domain.com", "noop", 0, 3,
                    None, "none: primary healthy", "error ratio 0.002 <= 0.05, p99 31 ms <= 500 ms"),
        ],
    }


def lag_document(now: datetime) -> dict[str, Any]:
    groups = []
    for group, topic, partitions, base in (("page-views-aggregator", "page-views", 6, 70),
                                           ("cart-processor", "cart-events", 3, 12),
                                           ("purchase-processor", "purchases", 3, 1)):
        parts: list[dict[str, Any]] = [{"topic": topic, "partition": p, "committed": 10_000 * (p + 1),
                  "end_offset": 10_000 * (p + 1) + base + p, "lag": base + p,
                  "lag_seconds": round(0.1 * (base + p) / 10, 2), "status": "OK" if p else "WARN",
                  "missing_offset_rule": None, "lag_seconds_lower_bound": False}
                 for p in range(partitions)]
        groups.append({"group": group, "state": "Stable", "members": 1,
                       "status": "WARN" if base > 50 else "OK", "lag": sum(p["lag"] for p in parts),
                       "lag_seconds": max(p["lag_seconds"] for p in parts),
                       "lag_seconds_lower_bound": False, "partitions": parts})
    return {"at": (now - timedelta(seconds=2)).isoformat(), "groups": groups, "errors": {}}
