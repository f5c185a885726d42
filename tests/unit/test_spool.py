"""The durable spool: order, bounds, and recovery from a torn write."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ingest.gateway.spool import DurableSpool, Record, SpoolFull


def records(n: int, start: int = 0) -> list[Record]:
    return [
        Record("purchases", f"k{i}".encode(), f"v{i}".encode(), (("event_id", f"e{i}".encode()),))
        for i in range(start, start + n)
    ]


def test_append_then_replay_in_order_and_advance(tmp_path: Path) -> None:
    spool = DurableSpool(tmp_path, 1 << 20)
    spool.open()
    asyncio.run(spool.append(records(5)))
    asyncio.run(spool.append(records(5, start=5)))
    batch = list(spool.iter_unreplayed(limit=7))
    assert [r.value for r, _ in batch] == [f"v{i}".encode() for i in range(7)]
    spool.advance(batch[-1][1], 7)
    assert [r.value for r, _ in spool.iter_unreplayed()] == [b"v7", b"v8", b"v9"]
    assert spool.events == 3


def test_cursor_and_records_survive_a_restart(tmp_path: Path) -> None:
    spool = DurableSpool(tmp_path, 1 << 20)
    spool.open()
    asyncio.run(spool.append(records(4)))
    first = list(spool.iter_unreplayed(limit=2))
    spool.advance(first[-1][1], 2)
    reopened = DurableSpool(tmp_path, 1 << 20)
    reopened.open()
    assert [r.value for r, _ in reopened.iter_unreplayed()] == [b"v2", b"v3"]
    assert reopened.events == 2


@pytest.mark.parametrize("cut", [1, 5, 9], ids=["header-torn", "body-torn", "last-byte-missing"])
def test_a_torn_tail_is_cut_at_recovery(tmp_path: Path, cut: int) -> None:
    spool = DurableSpool(tmp_path, 1 << 20)
    spool.open()
    asyncio.run(spool.append(records(3)))
    segment = next(tmp_path.glob("*.seg"))
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) - cut])
    reopened = DurableSpool(tmp_path, 1 << 20)
    reopened.open()
    assert [r.value for r, _ in reopened.iter_unreplayed()] == [b"v0", b"v1"]


def test_bound_in_bytes_raises_spool_full(tmp_path: Path) -> None:
    spool = DurableSpool(tmp_path, 300)
    spool.open()
    asyncio.run(spool.append(records(2)))
    with pytest.raises(SpoolFull, match="do not fit"):
        asyncio.run(spool.append(records(10)))
    assert spool.events == 2
