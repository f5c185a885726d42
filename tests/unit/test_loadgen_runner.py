"""The runner's accounting against an in-memory HTTP transport (no network)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

import httpx
import pytest

from ingest.contracts import ContractRegistry
from ingest.loadgen.config import LoadgenConfig
from ingest.loadgen.runner import Summary, run_loadgen
from ingest.loadgen.targets import Target

Handler = Callable[[httpx.Request], httpx.Response]


def _events(request: httpx.Request) -> list[dict]:
    body = json.loads(request.content)
    return body if isinstance(body, list) else [body]


def accept_all(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json={"accepted": len(_events(request)), "rejected": []})


def reject_first(request: httpx.Request) -> httpx.Response:
    events = _events(request)
    rejected = [{"index": 0, "event_id": events[0]["event_id"], "error": "schema"}]
    return httpx.Response(202, json={"accepted": len(events) - 1, "rejected": rejected})


def spool_full(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": "1"})


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def plain_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="ok")


class FixedTargets:
    def __init__(self, targets: Sequence[Target]) -> None:
        self._targets = tuple(targets)

    def stale(self, now: float) -> bool:
        return False

    def refresh(self, now: float) -> None:
        """Nothing to look up."""

    def targets(self) -> Sequence[Target]:
        return self._targets


def _run(handler: Handler, seen: list[httpx.Request] | None = None, **overrides: object) -> Summary:
    def recording(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    options: dict[str, object] = {
        "rate": 20_000.0,
        "count": 400,
        "target": "127.0.0.1:1",
        "seed": 9,
        "drain_s": 5.0,
    }
    options.update(overrides)
    return run_loadgen(LoadgenConfig(**options), transport=httpx.MockTransport(recording))  # type: ignore[arg-type]


# rejected_per_request: the gateway rejects the first event of each request.
@pytest.mark.parametrize(
    ("handler", "batch", "rejected_per_request", "reasons"),
    [
        (accept_all, 1, 0, {}),
        (accept_all, 8, 0, {}),
        (plain_ok, 4, 0, {}),
        (reject_first, 10, 1, {}),
        (spool_full, 5, 0, {"503": 400}),
        (refuse, 20, 0, {"ConnectError": 400}),
    ],
)
def test_outcomes_are_counted_in_events_not_requests(
    handler: Handler, batch: int, rejected_per_request: int, reasons: dict[str, int]
) -> None:
    seen: list[httpx.Request] = []
    summary = _run(handler, seen, batch=batch)
    errors = sum(reasons.values())
    rejected = rejected_per_request * summary.requests
    assert summary.sent == 400
    assert (summary.accepted, summary.rejected, summary.errors) == (400 - errors - rejected, rejected, errors)
    assert summary.errors_by_reason == reasons
    # A refused connection is tried a second time (see the keep-alive test below).
    assert len(seen) == summary.requests * (2 if summary.retried else 1)
    assert max(len(_events(r)) for r in seen) == batch
    # Batches fill up to the size; each scheduler tick may end with one partial batch.
    assert 400 // batch <= summary.requests <= 2 * 400 / batch
    assert sum(summary.by_type.values()) == 400
    assert summary.by_target == {"127.0.0.1:1": 400}


def test_requests_carry_the_api_key_and_valid_unique_events() -> None:
    seen: list[httpx.Request] = []
    summary = _run(accept_all, seen, api_key="k-123", batch=25)
    registry = ContractRegistry.load()
    events = [e for r in seen for e in _events(r)]
    assert {r.headers["X-API-Key"] for r in seen} == {"k-123"}
    assert {str(r.url) for r in seen} == {"http://127.0.0.1:1/v1/events"}
    assert len(events) == 400 and len({e["event_id"] for e in events}) == 400
    assert all(registry.validate(e).ok for e in events)
    assert Counter(e["event_type"] for e in events) == summary.by_type
    stamps = [e["occurred_at"] for e in events]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ((100, 0), {"primary": 400}),
        ((0, 100), {"secondary": 400}),
    ],
)
def test_weighted_targets_receive_all_traffic(weights: tuple[int, int], expected: dict[str, int]) -> None:
    hosts: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        hosts[request.url.host] += len(_events(request))
        return accept_all(request)

    source = FixedTargets(
        [
            Target("primary", "http://primary/v1/events", weights[0]),
            Target("secondary", "http://secondary/v1/events", weights[1]),
        ]
    )
    config = LoadgenConfig(rate=20_000.0, count=400, target="unused:1", batch=4)
    summary = run_loadgen(config, source=source, transport=httpx.MockTransport(handler))
    assert summary.by_target == expected
    assert dict(hosts) == expected


def test_a_seed_replays_the_same_bodies() -> None:
    first: list[httpx.Request] = []
    second: list[httpx.Request] = []
    _run(accept_all, first, count=100, batch=1)
    _run(accept_all, second, count=100, batch=1)

    def strip(requests: list[httpx.Request]) -> list[dict]:
        return [{k: v for k, v in e.items() if k != "occurred_at"} for r in requests for e in _events(r)]

    assert strip(first) == strip(second)


def test_progress_reaches_the_total() -> None:
    updates: list[tuple[int, int]] = []
    config = LoadgenConfig(rate=20_000.0, count=300, target="127.0.0.1:1")
    run_loadgen(
        config,
        progress=lambda done, total: updates.append((done, total)),
        transport=httpx.MockTransport(accept_all),
    )
    assert updates[-1] == (300, 300)
    assert [d for d, _ in updates] == sorted(d for d, _ in updates)


@pytest.mark.parametrize(
    ("failures_per_request", "accepted", "errors", "retried"),
    [(0, 400, 0, 0), (1, 400, 0, 400), (2, 0, 400, 400)],
    ids=["never-dropped", "dropped-once-then-answered", "dropped-twice"],
)
def test_a_dropped_keep_alive_connection_is_retried_once(
    failures_per_request: int, accepted: int, errors: int, retried: int
) -> None:
    attempts: dict[bytes, int] = {}

    def flaky(request: httpx.Request) -> httpx.Response:
        body = request.read()
        attempts[body] = attempts.get(body, 0) + 1
        if attempts[body] <= failures_per_request:
            raise httpx.RemoteProtocolError("Server disconnected without a response", request=request)
        return accept_all(request)

    summary = _run(flaky, batch=10)
    assert (summary.accepted, summary.errors, summary.retried) == (accepted, errors, retried)
    assert summary.errors_by_reason == ({"RemoteProtocolError": 400} if errors else {})
