"""The load generator: an open arrival-rate model on asyncio + httpx, bounded in count and time.

The scheduler wakes every tick, works out which events became due since the last tick (from the
profile, a pure function of time) and sends them without waiting for earlier answers. Each event's
``occurred_at`` is its intended send time, and latency is measured from that intended time, so a
slow gateway shows up as latency rather than as a quietly lower offered rate.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from hdrh.histogram import HdrHistogram

from ingest.loadgen.config import LoadgenConfig
from ingest.loadgen.profiles import Profile, build_profile, due
from ingest.loadgen.shoppers import ShopperSim, format_timestamp
from ingest.loadgen.targets import Route53Targets, StaticTargets, Target, TargetSource, WeightedPicker

# Microseconds, 1 us .. 1 h, 3 significant digits.
_HIST_RANGE = (1, 3_600_000_000, 3)
MIN_TICK_S = 0.002
MAX_TICK_S = 0.05
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Summary:
    """DESIGN.md 3.4 ``loadgen`` shape (plus a few added fields)."""

    sent: int
    accepted: int
    rejected: int
    errors: int
    rate_target: float
    rate_achieved: float
    latency_ms: dict[str, float]
    by_target: dict[str, int]
    by_type: dict[str, int]
    profile: str = "steady"
    duration_s: float = 0.0
    requests: int = 0
    batch: int = 1
    seed: int = 0
    errors_by_reason: dict[str, int] = field(default_factory=dict)
    retried: int = 0  # events sent a second time after a dropped keep-alive connection
    funnel: dict[str, float | int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent, "accepted": self.accepted, "rejected": self.rejected, "errors": self.errors,
            "rate_target": self.rate_target, "rate_achieved": self.rate_achieved,
            "latency_ms": dict(self.latency_ms), "by_target": dict(self.by_target),
            "by_type": dict(self.by_type), "profile": self.profile, "duration_s": self.duration_s,
            "requests": self.requests, "batch": self.batch, "seed": self.seed,
            "errors_by_reason": dict(self.errors_by_reason), "retried": self.retried,
            "funnel": dict(self.funnel),
        }


def expected_events(config: LoadgenConfig, profile: Profile) -> int:
    """How many events the run will offer if the generator keeps up."""
    duration = config.effective_duration
    by_time = due(profile, duration) if duration is not None else math.inf
    by_count = config.count if config.count is not None else math.inf
    return int(min(by_time, by_count))


def target_source(config: LoadgenConfig) -> TargetSource:
    if config.route53 is not None:
        return Route53Targets(config.route53)
    assert config.target is not None  # noqa: S101 (guaranteed by LoadgenConfig's validator)
    return StaticTargets(config.target)


@dataclass(frozen=True)
class _Request:
    target: Target
    body: bytes
    size: int
    intended: float


class _Run:
    def __init__(self, config: LoadgenConfig, source: TargetSource, clock: Callable[[], float],
                 wall: Callable[[], float], progress: ProgressCallback | None,
                 transport: httpx.AsyncBaseTransport | None) -> None:
        self.config = config
        self.transport = transport
        self.source = source
        self.clock = clock
        self.wall = wall
        self.progress = progress
        self.profile = build_profile(config)
        self.sim = ShopperSim(config.effective_funnel, config.seed, config.sessions, config.catalogue_size)
        self.picker = WeightedPicker(random.Random(f"picker-{config.seed}"))
        self.batch = config.batch_size(self.profile.peak_rate)
        self.hist = HdrHistogram(*_HIST_RANGE)
        self.sent = self.accepted = self.rejected = self.errors = self.answered = self.requests = 0
        self.retried = 0
        self.by_target: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.errors_by_reason: Counter[str] = Counter()
        self.start = 0.0
        self.last_answer = 0.0
        self._refreshing: asyncio.Task[None] | None = None

    async def _refresh_if_stale(self, now: float) -> None:
        if self.source.stale(now) and (self._refreshing is None or self._refreshing.done()):
            # boto3 blocks: look up in a thread and keep sending to the previous answer meanwhile.
            self._refreshing = asyncio.create_task(asyncio.to_thread(self.source.refresh, now))

    async def _send(self, client: httpx.AsyncClient, target: Target, body: bytes, size: int,
                    intended: float) -> None:
        try:
            response = await client.post(target.url, content=body)
        except (httpx.RemoteProtocolError, httpx.ConnectError):
            # A pooled keep-alive connection the server closed as we sent: retry once, as a producer
            # SDK would (events keep their event_id, so a rare duplicate is dropped downstream).
            self.retried += size
            try:
                response = await client.post(target.url, content=body)
            except httpx.HTTPError as exc:
                self.errors += size
                self.errors_by_reason[type(exc).__name__] += size
                return
        except httpx.HTTPError as exc:
            self.errors += size
            self.errors_by_reason[type(exc).__name__] += size
            return
        done = self.clock() - self.start
        self.last_answer = max(self.last_answer, done)
        self.answered += size
        self.hist.record_value(max(1, int((done - intended) * 1_000_000)), size)
        if response.status_code // 100 != 2:
            self.errors += size
            self.errors_by_reason[str(response.status_code)] += size
            return
        rejected = 0
        try:
            document = response.json()
            if isinstance(document, dict) and isinstance(document.get("rejected"), list):
                rejected = len(document["rejected"])
        except ValueError:
            pass  # a 2xx without the gateway's body (a plain sink): every event was taken
        self.rejected += rejected
        self.accepted += size - rejected

    def _dispatch(self, events: list[dict[str, Any]], intended: float,
                  queue: asyncio.Queue[_Request]) -> None:
        target = self.picker.pick(self.source.targets())
        self.sent += len(events)
        self.requests += 1
        self.by_target[target.name] += len(events)
        for event in events:
            self.by_type[event["event_type"]] += 1
        body = orjson.dumps(events[0] if len(events) == 1 else events)
        queue.put_nowait(_Request(target, body, len(events), intended))

    async def _worker(self, client: httpx.AsyncClient, queue: asyncio.Queue[_Request]) -> None:
        while True:
            request = await queue.get()
            try:
                await self._send(client, request.target, request.body, request.size, request.intended)
            finally:
                queue.task_done()

    async def run(self) -> Summary:
        config = self.config
        total = expected_events(config, self.profile)
        duration = config.effective_duration
        tick = min(MAX_TICK_S, max(MIN_TICK_S, self.batch / self.profile.peak_rate))
        limits = httpx.Limits(max_connections=config.connections,
                              max_keepalive_connections=config.connections)
        headers = {"X-API-Key": config.api_key, "Content-Type": "application/json"}
        # Requests wait in our queue, not in httpx's pool: its waiting list gets slow when long, and a
        # backlog must show as latency (measured from the intended time), never slow the schedule.
        queue: asyncio.Queue[_Request] = asyncio.Queue()
        # The first answer is needed before anything can be sent.
        await asyncio.to_thread(self.source.refresh, 0.0)
        async with httpx.AsyncClient(limits=limits, headers=headers, timeout=config.timeout_s,
                                     transport=self.transport) as client:
            workers = [asyncio.create_task(self._worker(client, queue)) for _ in range(config.connections)]
            self.start = self.clock()
            start_wall = self.wall()
            emitted, t_prev, c_prev = 0, 0.0, 0.0
            t_end = 0.0
            while emitted < total:
                now = self.clock() - self.start
                if duration is not None:
                    now = min(now, duration)
                await self._refresh_if_stale(now)
                c_now = self.profile.cumulative(now)
                now_due = min(due(self.profile, now), total)
                pending: list[dict[str, Any]] = []
                for index in range(emitted + 1, now_due + 1):
                    # Within one tick the rate is ~constant: interpolate the intended time of event i.
                    share = (index - c_prev) / (c_now - c_prev) if c_now > c_prev else 1.0
                    intended = t_prev + min(1.0, max(0.0, share)) * (now - t_prev)
                    pending.append(self.sim.next_event(format_timestamp(start_wall + intended)))
                    if len(pending) == self.batch or index == now_due:
                        self._dispatch(pending, intended, queue)
                        pending = []
                    t_end = intended
                emitted = max(emitted, now_due)
                if self.progress is not None:
                    self.progress(emitted, total)
                if duration is not None and now >= duration:
                    t_end = duration
                    break
                t_prev, c_prev = now, c_now
                if emitted < total:
                    await asyncio.sleep(tick)
            try:
                await asyncio.wait_for(queue.join(), timeout=config.drain_s)
            except TimeoutError:
                pass  # what is still queued or in flight is counted as unanswered
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self._summary(t_end)

    def _summary(self, t_end: float) -> Summary:
        unanswered = self.sent - self.answered - sum(
            n for reason, n in self.errors_by_reason.items() if not reason.isdigit())
        if unanswered > 0:
            # Still in flight when the drain time ran out.
            self.errors += unanswered
            self.errors_by_reason["unanswered"] += unanswered
        span = max(t_end, 1e-9)
        elapsed = max(self.last_answer, span)
        return Summary(
            sent=self.sent, accepted=self.accepted, rejected=self.rejected, errors=self.errors,
            rate_target=round(self.sent / span if self.sent else 0.0, 2),
            rate_achieved=round(self.answered / elapsed if self.answered else 0.0, 2),
            latency_ms={name: round(self.hist.get_value_at_percentile(p) / 1000, 3)
                        for name, p in (("p50", 50.0), ("p99", 99.0), ("p999", 99.9))},
            by_target=dict(sorted(self.by_target.items())), by_type=dict(sorted(self.by_type.items())),
            profile=self.config.profile, duration_s=round(elapsed, 3), requests=self.requests,
            batch=self.batch, seed=self.config.seed, errors_by_reason=dict(self.errors_by_reason),
            retried=self.retried, funnel=self.sim.stats.as_dict(),
        )


def run_loadgen(config: LoadgenConfig, progress: ProgressCallback | None = None,
                source: TargetSource | None = None, clock: Callable[[], float] = time.monotonic,
                wall: Callable[[], float] = time.time,
                transport: httpx.AsyncBaseTransport | None = None) -> Summary:
    """Run one bounded load generation and return its summary (blocks; owns its event loop).

    ``source``, the clocks and the HTTP ``transport`` are injectable for tests; by default the
    targets come from the config and requests go over the network.
    """
    run = _Run(config, source or target_source(config), clock, wall, progress, transport)
    return asyncio.run(run.run())
