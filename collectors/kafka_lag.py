"""Consumer lag of every selected group, read from Kafka's admin API; never changes anything in Kafka.

One round costs a fixed number of requests whatever the size: one group listing, one describe for
all groups, one offset fetch per group (all in flight at once: the API takes one group per request),
and one ``list_offsets`` for every partition of every group (plus one for low watermarks when the
earliest reset rule needs them). History lives in memory across rounds: a window of observations per
group partition (status) and an (end offset, time) table per partition (lag in seconds).
Failures become ERR statuses and ``LagReport.errors``, never an exception out of ``collect``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from collectors.lag_seconds import ZERO, LagSecondsEstimate, OffsetTable
from collectors.lag_status import Observation, evaluate, worst
from collectors.model import GroupLag, LagStatus, PartitionLag
from collectors.settings import LagSettings


class LagAdmin(Protocol):
    """The part of confluent-kafka's AdminClient the collector uses (all read-only)."""

    def list_consumer_groups(self, *, request_timeout: float) -> Future[Any]: ...

    def describe_consumer_groups(self, group_ids: list[str], /, *,
                                 request_timeout: float) -> dict[str, Future[Any]]: ...

    def list_consumer_group_offsets(self, request: list[ConsumerGroupTopicPartitions], /, *,
                                    request_timeout: float) -> dict[str, Future[Any]]: ...

    def list_offsets(self, request: dict[TopicPartition, OffsetSpec], /, *,
                     request_timeout: float) -> dict[TopicPartition, Future[Any]]: ...


AdminFactory = Callable[[dict[str, Any]], LagAdmin]
TP = tuple[str, int]

# The broker's own spelling of group states (the client enum names differ).
GROUP_STATES = {
    ConsumerGroupState.UNKNOWN: "Unknown",
    ConsumerGroupState.PREPARING_REBALANCING: "PreparingRebalance",
    ConsumerGroupState.COMPLETING_REBALANCING: "CompletingRebalance",
    ConsumerGroupState.STABLE: "Stable",
    ConsumerGroupState.DEAD: "Dead",
    ConsumerGroupState.EMPTY: "Empty",
}


@dataclass(frozen=True, slots=True)
class LagReport:
    """The latest round: what the exporter, the CLI and the control plane's API show."""

    at: datetime
    groups: tuple[GroupLag, ...]
    errors: dict[str, str] = field(default_factory=dict)
    # (group, topic, partition) whose lag_seconds is only a lower bound (older than the offset table).
    lower_bounds: frozenset[tuple[str, str, int]] = frozenset()

    def to_document(self) -> dict[str, Any]:
        """The `ecomctl lag --json` shape (DESIGN 3.4); extra fields are additions, none renamed."""
        groups = []
        for g in self.groups:
            partitions = [
                {"topic": p.topic, "partition": p.partition, "committed": p.committed,
                 "end_offset": p.end_offset, "lag": p.lag, "lag_seconds": p.lag_seconds,
                 "status": p.status.name, "missing_offset_rule": p.missing_offset_rule,
                 "lag_seconds_lower_bound": (g.group, p.topic, p.partition) in self.lower_bounds}
                for p in g.partitions
            ]
            slowest = max((p for p in g.partitions if p.lag_seconds is not None),
                          key=lambda p: p.lag_seconds or 0.0, default=None)
            groups.append({
                "group": g.group, "state": g.state, "members": g.members, "status": g.status.name,
                "lag": g.lag, "lag_seconds": g.lag_seconds,
                "lag_seconds_lower_bound": slowest is not None
                and (g.group, slowest.topic, slowest.partition) in self.lower_bounds,
                "partitions": partitions,
            })
        return {"at": self.at.isoformat(), "groups": groups, "errors": dict(self.errors)}


@dataclass(frozen=True, slots=True)
class _GroupRead:
    state: str
    members: int
    owned: frozenset[TP]  # partitions assigned to a live member
    committed: Mapping[TP, int | None]


class KafkaLagCollector:
    """Kafka consumer-group lag, status and lag in seconds. ``start()`` opens the admin connection."""

    def __init__(self, bootstrap: str, settings: LagSettings,
                 admin_factory: AdminFactory = AdminClient) -> None:
        self._config: dict[str, Any] = {"bootstrap.servers": bootstrap, "log_level": 2}
        self._settings = settings
        self._admin_factory = admin_factory
        self._admin: LagAdmin | None = None
        self._tables: dict[TP, OffsetTable] = {}
        self._windows: dict[tuple[str, str, int], deque[Observation]] = {}
        self._latest: LagReport | None = None

    def start(self) -> None:
        if self._admin is None:
            self._admin = self._admin_factory(self._config)

    def latest(self) -> LagReport | None:
        return self._latest

    def collect(self, now: datetime) -> tuple[GroupLag, ...]:
        if self._admin is None:
            raise RuntimeError("KafkaLagCollector.collect() before start()")
        report = self._round(self._admin, now)
        self._latest = report  # one reference swap: readers on other threads see a whole round
        return report.groups

    # One round ------------------------------------------------------------------------------------
    def _round(self, admin: LagAdmin, now: datetime) -> LagReport:
        timeout = self._settings.request_timeout_s
        deadline = time.monotonic() + timeout
        errors: dict[str, str] = {}
        try:
            listing = admin.list_consumer_groups(request_timeout=timeout).result(timeout=timeout)
        except Exception as exc:  # any failure of the listing is reported, never raised
            errors["kafka"] = f"list_consumer_groups failed: {_describe(exc)}"
            return self._all_failed(now, errors)
        if listing.errors:
            errors["kafka"] = f"list_consumer_groups partial: {_describe(listing.errors[0])}"
        group_ids = sorted(g.group_id for g in listing.valid if self._settings.selects(g.group_id))
        reads = self._read_groups(admin, group_ids, timeout, deadline, errors)

        partitions = sorted({tp for read in reads.values() for tp in (*read.committed, *read.owned)})
        missing = sorted({tp for r in reads.values() for tp in (*r.committed, *r.owned)
                          if r.committed.get(tp) is None})
        if self._settings.offset_reset_policy == "latest":
            missing = []  # latest counts nothing: no low watermark needed
        ends, end_errors, lows, low_errors = self._watermarks(admin, partitions, missing, timeout, deadline)

        at = now.timestamp()
        for tp, end in ends.items():
            self._tables.setdefault(tp, OffsetTable(self._settings.offset_table_size)).observe(end, at)

        groups: list[GroupLag] = []
        lower_bounds: set[tuple[str, str, int]] = set()
        for group in group_ids:
            read = reads.get(group)
            if read is None:
                groups.append(self._failed_group(group))
                continue
            parts = []
            for tp in sorted({*read.committed, *read.owned}):
                part, estimate = self._partition(group, tp, read, ends, end_errors, lows, low_errors, at)
                if estimate is not None and estimate.lower_bound:
                    lower_bounds.add((group, *tp))
                parts.append(part)
            groups.append(GroupLag(group, read.state, read.members, tuple(parts),
                                   worst(p.status for p in parts)))
        failed = {**end_errors, **low_errors}
        if failed:
            (topic, partition), reason = min(failed.items())
            errors["kafka_offsets"] = (f"list_offsets failed for {len(failed)} partition(s), "
                                       f"first {topic}[{partition}]: {reason}")
        self._forget_except(groups, partitions)
        return LagReport(now, tuple(groups), errors, frozenset(lower_bounds))

    def _read_groups(self, admin: LagAdmin, group_ids: list[str], timeout: float, deadline: float,
                     errors: dict[str, str]) -> dict[str, _GroupRead]:
        if not group_ids:
            return {}
        # Everything is in flight before anything is awaited: one slow group costs one timeout, not N.
        try:
            described = admin.describe_consumer_groups(group_ids, request_timeout=timeout)
            offsets = {g: admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)],
                                                            request_timeout=timeout)[g] for g in group_ids}
        except Exception as exc:  # the requests could not even be sent: no group is readable this round
            errors.update({f"kafka/{group}": _describe(exc) for group in group_ids})
            return {}
        reads = {}
        for group in group_ids:
            try:
                description = described[group].result(timeout=_left(deadline))
                listed = offsets[group].result(timeout=_left(deadline))
            except Exception as exc:  # a group that cannot be read is ERR; the others go on
                errors[f"kafka/{group}"] = _describe(exc)
                continue
            committed: dict[TP, int | None] = {}
            for tp in listed.topic_partitions or ():
                # A negative offset (OFFSET_INVALID) means no commit there: counted by the reset rule.
                valid = tp.offset >= 0 and tp.error is None
                committed[(tp.topic, tp.partition)] = tp.offset if valid else None
            owned = frozenset((tp.topic, tp.partition) for m in description.members
                              for tp in (m.assignment.topic_partitions or ()))
            state = GROUP_STATES.get(description.state, str(description.state))
            reads[group] = _GroupRead(state, len(description.members), owned, committed)
        return reads

    def _watermarks(self, admin: LagAdmin, partitions: list[TP], missing: list[TP], timeout: float,
                    deadline: float) -> tuple[dict[TP, int], dict[TP, str], dict[TP, int], dict[TP, str]]:
        # Both requests go out together; each covers every partition of every group in one call.
        latest = self._list_offsets(admin, partitions, OffsetSpec.latest(), timeout)
        earliest = self._list_offsets(admin, missing, OffsetSpec.earliest(), timeout)
        ends, end_errors = _results(latest, deadline)
        lows, low_errors = _results(earliest, deadline)
        return ends, end_errors, lows, low_errors

    @staticmethod
    def _list_offsets(admin: LagAdmin, partitions: list[TP], spec: OffsetSpec,
                      timeout: float) -> dict[TP, Future[Any]]:
        if not partitions:
            return {}
        try:
            futures = admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions},
                                         request_timeout=timeout)
        except Exception as exc:
            # The call itself failed: every partition it covered reports that failure as its ERR.
            failed: Future[Any] = Future()
            failed.set_exception(exc)
            return dict.fromkeys(partitions, failed)
        return {(tp.topic, tp.partition): f for tp, f in futures.items()}

    def _partition(self, group: str, tp: TP, read: _GroupRead, ends: Mapping[TP, int],
                   end_errors: Mapping[TP, str], lows: Mapping[TP, int], low_errors: Mapping[TP, str],
                   at: float) -> tuple[PartitionLag, LagSecondsEstimate | None]:
        committed = read.committed.get(tp)
        table = self._tables.get(tp)
        rule = None if committed is not None else self._settings.offset_reset_policy
        end, low = ends.get(tp), lows.get(tp)
        error = end_errors.get(tp)
        if error is None and rule == "earliest" and low is None:
            error = low_errors.get(tp, "no low watermark")
        if end is None or error is not None:
            # Unreadable this round: show the last known end offset, judged ERR, with no seconds.
            known_end = table.end_offset if table is not None else None
            shown_end = known_end if known_end is not None else (committed or 0)
            lag = max(shown_end - committed, 0) if committed is not None else 0
            self._observe(group, tp, Observation(committed, lag, error or "no end offset"))
            return PartitionLag(*tp, committed, shown_end, lag, None, LagStatus.ERR, rule), None
        estimate: LagSecondsEstimate | None
        if rule == "latest":
            start, estimate = end, ZERO  # KEDA latest: a partition never committed counts nothing
        else:
            # The committed offset; for KEDA earliest the low watermark (retention-deleted ones are not lag).
            start = committed if committed is not None else (low or 0)
            estimate = table.estimate(start, at) if table is not None else None
        lag = max(end - start, 0)
        window = self._observe(group, tp, Observation(committed, lag))
        status = evaluate(window, self._settings.window, owned=tp in read.owned)
        seconds = estimate.seconds if estimate else None
        return PartitionLag(*tp, committed, end, lag, seconds, status, rule), estimate

    def _observe(self, group: str, tp: TP, observation: Observation) -> deque[Observation]:
        window = self._windows.setdefault((group, *tp), deque(maxlen=self._settings.window))
        window.append(observation)
        return window

    # Failures and memory --------------------------------------------------------------------------
    def _failed_group(self, group: str) -> GroupLag:
        """A group that could not be read: its last known partitions, all ERR (values are stale)."""
        previous = self._latest.groups if self._latest else ()
        last = next((g for g in previous if g.group == group), None)
        parts = tuple(replace(p, status=LagStatus.ERR) for p in (last.partitions if last else ()))
        return GroupLag(group, last.state if last else "Unknown", last.members if last else 0, parts,
                        LagStatus.ERR)

    def _all_failed(self, now: datetime, errors: dict[str, str]) -> LagReport:
        previous = self._latest.groups if self._latest else ()
        return LagReport(now, tuple(self._failed_group(g.group) for g in previous), errors)

    def _forget_except(self, groups: Iterable[GroupLag], partitions: Iterable[TP]) -> None:
        # Deleted groups and partitions must not hold memory (nor show up) forever.
        keep_windows = {(g.group, p.topic, p.partition) for g in groups for p in g.partitions}
        keep_tables = set(partitions)
        for key in self._windows.keys() - keep_windows:
            del self._windows[key]
        for tp in self._tables.keys() - keep_tables:
            del self._tables[tp]


def _left(deadline: float) -> float:
    # Never 0: a future already done must still be collected rather than reported as a timeout.
    return max(deadline - time.monotonic(), 0.05)


def _results(futures: dict[TP, Future[Any]], deadline: float) -> tuple[dict[TP, int], dict[TP, str]]:
    values: dict[TP, int] = {}
    errors: dict[TP, str] = {}
    for tp, future in futures.items():
        try:
            values[tp] = future.result(timeout=_left(deadline)).offset
        except Exception as exc:  # one partition's failure is that partition's ERR
            errors[tp] = _describe(exc)
    return values, errors


def _describe(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the request timeout (ECOMCTL_LAG__REQUEST_TIMEOUT_S)"
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
