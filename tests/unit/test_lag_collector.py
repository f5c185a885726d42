"""KafkaLagCollector over an in-memory admin client (the real-Kafka checks are in tests/integration)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaError, KafkaException, Node
from confluent_kafka import TopicPartition as KTP
from confluent_kafka.admin import (
    ConsumerGroupDescription,
    ConsumerGroupListing,
    ListConsumerGroupsResult,
    MemberAssignment,
    MemberDescription,
    OffsetSpec,
)

from collectors.kafka_lag import KafkaLagCollector
from collectors.model import GroupLag, LagStatus
from collectors.settings import LagSettings

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TP = tuple[str, int]
COORDINATOR = Node(1, "127.0.0.1", 1)


def done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    if isinstance(value, Exception):
        future.set_exception(value)
    else:
        future.set_result(value)
    return future


def timed_out(what: str) -> KafkaException:
    return KafkaException(KafkaError(KafkaError._TIMED_OUT, f"{what} timed out"))


@dataclass
class Group:
    committed: dict[TP, int]
    members: list[list[TP]] = field(default_factory=list)  # one assignment per member
    state: ConsumerGroupState = ConsumerGroupState.STABLE


@dataclass
class FakeAdmin:
    """Answers like confluent-kafka's AdminClient: futures, one offsets request per group."""

    groups: dict[str, Group]
    ends: dict[TP, int]
    lows: dict[TP, int] = field(default_factory=dict)
    fail_listing: bool = False
    refuse_describe: bool = False  # raise at call time, as the client does for a bad request
    fail_groups: set[str] = field(default_factory=set)
    fail_partitions: set[TP] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def list_consumer_groups(self, *, request_timeout: float) -> Future[Any]:
        self.calls.append("list_consumer_groups")
        if self.fail_listing:
            return done(timed_out("list_consumer_groups"))
        return done(ListConsumerGroupsResult(valid=[ConsumerGroupListing(g, False) for g in self.groups]))

    def describe_consumer_groups(self, group_ids: list[str], /, *,
                                 request_timeout: float) -> dict[str, Future[Any]]:
        self.calls.append("describe_consumer_groups")
        if self.refuse_describe:
            raise KafkaException(KafkaError(KafkaError._INVALID_ARG, "describe refused"))
        result = {}
        for gid in group_ids:
            g = self.groups[gid]
            members = [MemberDescription(f"m{i}", "c", "h", MemberAssignment([KTP(t, p) for t, p in tps]))
                       for i, tps in enumerate(g.members)]
            result[gid] = done(ConsumerGroupDescription(gid, False, members, "range", g.state, COORDINATOR))
        return result

    def list_consumer_group_offsets(self, request: list[ConsumerGroupTopicPartitions], /, *,
                                    request_timeout: float) -> dict[str, Future[Any]]:
        assert len(request) == 1, "the API takes one group per request"
        gid = request[0].group_id
        self.calls.append(f"list_consumer_group_offsets:{gid}")
        if gid in self.fail_groups:
            return {gid: done(timed_out("OffsetFetch"))}
        tps = [KTP(t, p, o) for (t, p), o in self.groups[gid].committed.items()]
        return {gid: done(ConsumerGroupTopicPartitions(gid, tps))}

    def list_offsets(self, request: dict[KTP, OffsetSpec], /, *,
                     request_timeout: float) -> dict[KTP, Future[Any]]:
        self.calls.append(f"list_offsets:{len(request)}")
        out = {}
        for tp, spec in request.items():
            key = (tp.topic, tp.partition)
            source = self.lows if spec == OffsetSpec.earliest() else self.ends
            value = timed_out("ListOffsets") if key in self.fail_partitions else _Info(source.get(key, 0))
            out[tp] = done(value)
        return out


@dataclass
class _Info:
    offset: int


def collector(admin: FakeAdmin, **settings: Any) -> KafkaLagCollector:
    c = KafkaLagCollector("127.0.0.1:1", LagSettings(**settings), admin_factory=lambda config: admin)
    c.start()
    return c


def partitions(group: GroupLag) -> dict[TP, tuple[int | None, int, int]]:
    return {(p.topic, p.partition): (p.committed, p.end_offset, p.lag) for p in group.partitions}


def test_construction_opens_no_connection() -> None:
    opened: list[dict[str, Any]] = []
    c = KafkaLagCollector("127.0.0.1:9", LagSettings(), admin_factory=lambda cfg: opened.append(cfg))  # type: ignore
    assert opened == []
    c.start()
    assert opened == [{"bootstrap.servers": "127.0.0.1:9", "log_level": 2}]


def test_lag_is_end_minus_committed_and_never_negative() -> None:
    admin = FakeAdmin({"g": Group({("t", 0): 40, ("t", 1): 120}, members=[[("t", 0), ("t", 1)]])},
                      ends={("t", 0): 100, ("t", 1): 110})
    (group,) = collector(admin).collect(T0)
    # Partition 1 committed past the end we read (commit raced our read): lag 0, not -10.
    assert partitions(group) == {("t", 0): (40, 100, 60), ("t", 1): (120, 110, 0)}
    assert (group.group, group.state, group.members, group.lag) == ("g", "Stable", 1, 60)


def test_one_batched_request_per_kind() -> None:
    groups = {f"g{i}": Group({("t", p): 1 for p in range(50)}) for i in range(20)}
    admin = FakeAdmin(groups, ends={("t", p): 5 for p in range(50)})
    collector(admin).collect(T0)
    assert admin.calls.count("describe_consumer_groups") == 1
    assert [c for c in admin.calls if c.startswith("list_offsets")] == ["list_offsets:50"]
    assert sum(c.startswith("list_consumer_group_offsets") for c in admin.calls) == 20


@pytest.mark.parametrize(
    ("policy", "expected_lag", "expected_seconds"),
    [
        # earliest counts the retained log only: low watermark 30, not offset 0.
        ("earliest", 70, None),
        ("latest", 0, 0.0),
    ],
)
def test_missing_committed_offset_follows_the_declared_rule(
        policy: str, expected_lag: int, expected_seconds: float | None) -> None:
    admin = FakeAdmin({"g": Group({}, members=[[("t", 0)]])}, ends={("t", 0): 100}, lows={("t", 0): 30})
    (group,) = collector(admin, offset_reset_policy=policy).collect(T0)
    (p,) = group.partitions
    assert (p.committed, p.lag, p.lag_seconds, p.missing_offset_rule) == (
        None, expected_lag, expected_seconds, policy)


@pytest.mark.parametrize(
    ("allow", "deny", "expected"),
    [
        ((".*",), (), ["cart-processor", "connect-x", "purchase-processor"]),
        ((".*",), ("^connect-",), ["cart-processor", "purchase-processor"]),
        (("^purchase",), (), ["purchase-processor"]),
    ],
)
def test_allow_and_deny_patterns(allow: tuple[str, ...], deny: tuple[str, ...], expected: list[str]) -> None:
    names = ["purchase-processor", "connect-x", "cart-processor"]
    admin = FakeAdmin({n: Group({("t", 0): 1}) for n in names}, ends={("t", 0): 1})
    assert [g.group for g in collector(admin, allow=allow, deny=deny).collect(T0)] == expected


def rounds(admin: FakeAdmin, c: KafkaLagCollector, steps: list[tuple[int, int]], first: int = 0) -> GroupLag:
    """Step i sets (committed, end) of t[0] for group g and collects at T0 + first + 5 i seconds."""
    result: tuple[GroupLag, ...] = ()
    for i, (committed, end) in enumerate(steps):
        admin.groups["g"].committed[("t", 0)] = committed
        admin.ends[("t", 0)] = end
        result = c.collect(T0 + timedelta(seconds=first + 5 * i))
    return result[0]


@pytest.mark.parametrize(
    ("members", "steps", "expected"),
    [
        ([[("t", 0)]], [(10, 20), (10, 25), (10, 30)], LagStatus.STALL),
        ([], [(10, 20), (10, 25), (10, 30)], LagStatus.STOP),
        ([[("t", 0)]], [(10, 20), (14, 25), (18, 30)], LagStatus.WARN),
        ([[("t", 0)]], [(10, 20), (30, 30), (30, 30)], LagStatus.OK),
        ([[("t", 0)]], [(10, 20), (20, 30), (5, 30)], LagStatus.REWIND),
        ([], [(30, 30), (30, 30), (30, 30)], LagStatus.OK),  # idle, nobody consuming: not STOP
    ],
)
def test_status_from_the_window_of_rounds(members: list[list[TP]], steps: list[tuple[int, int]],
                                          expected: LagStatus) -> None:
    admin = FakeAdmin({"g": Group({}, members=members)}, ends={})
    group = rounds(admin, collector(admin, window=3), steps)
    assert (group.partitions[0].status, group.status) == (expected, expected)


def test_lag_seconds_from_history_and_lower_bound_flag() -> None:
    admin = FakeAdmin({"g": Group({}, members=[[("t", 0)]])}, ends={})
    c = collector(admin)
    # The log grows 10 msgs per 5 s; the consumer is stuck at 0, which predates our first look.
    group = rounds(admin, c, [(0, 10), (0, 20), (0, 30)])
    assert group.partitions[0].lag_seconds == pytest.approx(10.0)
    report = c.latest()
    assert report is not None
    assert report.to_document()["groups"][0]["lag_seconds_lower_bound"] is True
    # Now the consumer is inside the table: message 15 was produced between t=0 and t=5.
    group = rounds(admin, c, [(15, 30)], first=15)
    assert group.partitions[0].lag_seconds == pytest.approx(15 - 2.75)


def test_listing_failure_reports_error_and_marks_known_groups_err() -> None:
    admin = FakeAdmin({"g": Group({("t", 0): 5})}, ends={("t", 0): 9})
    c = collector(admin)
    c.collect(T0)
    admin.fail_listing = True
    (group,) = c.collect(T0 + timedelta(seconds=5))
    report = c.latest()
    assert report is not None and "list_consumer_groups failed" in report.errors["kafka"]
    assert group.status is LagStatus.ERR and [p.status for p in group.partitions] == [LagStatus.ERR]


def test_one_failing_group_does_not_hide_the_others() -> None:
    admin = FakeAdmin({"bad": Group({("t", 0): 1}), "good": Group({("t", 0): 4})}, ends={("t", 0): 9},
                      fail_groups={"bad"})
    bad, good = collector(admin).collect(T0)
    assert (bad.status, good.status, good.lag) == (LagStatus.ERR, LagStatus.OK, 5)


def test_requests_refused_at_call_time_make_every_group_err() -> None:
    admin = FakeAdmin({"a": Group({("t", 0): 1}), "b": Group({("t", 0): 1})}, ends={("t", 0): 9},
                      refuse_describe=True)
    c = collector(admin)
    assert [(g.group, g.status) for g in c.collect(T0)] == [("a", LagStatus.ERR), ("b", LagStatus.ERR)]
    report = c.latest()
    assert report is not None and "describe refused" in report.errors["kafka/a"]


def test_failing_partition_is_err_and_named_in_errors() -> None:
    admin = FakeAdmin({"g": Group({("t", 0): 1, ("t", 1): 1})}, ends={("t", 0): 9, ("t", 1): 9},
                      fail_partitions={("t", 1)})
    c = collector(admin)
    (group,) = c.collect(T0)
    assert [p.status for p in group.partitions] == [LagStatus.OK, LagStatus.ERR]
    assert group.status is LagStatus.ERR
    report = c.latest()
    assert report is not None and "t[1]" in report.errors["kafka_offsets"]


def test_removed_groups_and_partitions_disappear() -> None:
    admin = FakeAdmin({"a": Group({("t", 0): 1, ("t", 1): 1}), "b": Group({("t", 0): 1})},
                      ends={("t", 0): 3, ("t", 1): 3})
    c = collector(admin)
    c.collect(T0)
    del admin.groups["b"]
    del admin.groups["a"].committed[("t", 1)]
    (group,) = c.collect(T0 + timedelta(seconds=5))
    assert (group.group, [p.partition for p in group.partitions]) == ("a", [0])


def test_document_has_the_cli_shape() -> None:
    admin = FakeAdmin({"g": Group({("t", 0): 4}, members=[[("t", 0)]])}, ends={("t", 0): 4})
    c = collector(admin)
    c.collect(T0)
    report = c.latest()
    assert report is not None
    (group,) = report.to_document()["groups"]
    assert {k: group[k] for k in ("group", "state", "status", "lag", "lag_seconds")} == {
        "group": "g", "state": "Stable", "status": "OK", "lag": 0, "lag_seconds": 0.0}
    (p,) = group["partitions"]
    assert p == {"topic": "t", "partition": 0, "committed": 4, "end_offset": 4, "lag": 0, "lag_seconds": 0.0,
                 "status": "OK", "missing_offset_rule": None, "lag_seconds_lower_bound": False}


def test_collect_before_start_is_a_programming_error() -> None:
    c = KafkaLagCollector("127.0.0.1:1", LagSettings(), admin_factory=lambda cfg: FakeAdmin({}, {}))
    with pytest.raises(RuntimeError, match="before start"):
        c.collect(T0)
