"""Durable local spool: where accepted events wait when Kafka cannot take them.

Append-only segment files of framed records (``length | crc32 | body``), fsync'd in groups: every
append made while a write is in progress joins the next write, so one fsync covers many requests.
A reader cursor (segment, offset), itself fsync'd, marks what Kafka has acknowledged; replay goes
strictly in append order. A torn tail (a crash mid-write) is detected by length/CRC and cut off at
recovery: those bytes were never acknowledged to a producer, since the answer waits for the fsync.
Bounded in bytes: an append that does not fit raises ``SpoolFull`` (the gateway answers 503).
"""

from __future__ import annotations

import asyncio
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

HEADER = struct.Struct(">II")  # body length, crc32 of body
SEGMENT_BYTES = 16 * 1024 * 1024
CURSOR_FILE = "cursor"


class SpoolFull(Exception):
    """The spool has no room for these records."""


@dataclass(frozen=True, slots=True)
class Record:
    """One message for Kafka, exactly as it will be produced."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "t": self.topic,
                "k": self.key.decode("latin-1") if self.key is not None else None,
                "v": self.value.decode("latin-1"),
                "h": [[k, v.decode("latin-1")] for k, v in self.headers],
            }
        )

    @classmethod
    def decode(cls, body: bytes) -> Record:
        raw = orjson.loads(body)
        key = raw["k"].encode("latin-1") if raw["k"] is not None else None
        return cls(
            raw["t"], key, raw["v"].encode("latin-1"), tuple((k, v.encode("latin-1")) for k, v in raw["h"])
        )


def frame(record: Record) -> bytes:
    body = record.encode()
    return HEADER.pack(len(body), zlib.crc32(body)) + body


class DurableSpool:
    """Segments ``<dir>/<seq:012d>.seg`` plus a cursor file. One writer, one replayer."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._pending_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._segments: list[int] = []
        self._sizes: dict[int, int] = {}
        self._cursor = (0, 0)
        self._events = 0

    # state -------------------------------------------------------------------------------------
    def open(self) -> None:
        """Recover segments and cursor; cut torn tails. Call once before use."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._segments = sorted(int(p.stem) for p in self.directory.glob("*.seg"))
        for seq in self._segments:
            self._sizes[seq] = self._recover_segment(self._path(seq))
        cursor_file = self.directory / CURSOR_FILE
        if cursor_file.exists():
            seq, offset = (int(x) for x in cursor_file.read_text().split())
            self._cursor = (seq, offset)
        if self._segments and self._cursor[0] < self._segments[0]:
            self._cursor = (self._segments[0], 0)
        self._events = sum(1 for _ in self.iter_unreplayed())

    def _recover_segment(self, path: Path) -> int:
        data = path.read_bytes()
        good = 0
        while good + HEADER.size <= len(data):
            length, crc = HEADER.unpack_from(data, good)
            body = data[good + HEADER.size : good + HEADER.size + length]
            if len(body) != length or zlib.crc32(body) != crc:
                break
            good += HEADER.size + length
        if good != len(data):
            with path.open("r+b") as handle:
                handle.truncate(good)
                os.fsync(handle.fileno())
        return good

    def _path(self, seq: int) -> Path:
        return self.directory / f"{seq:012d}.seg"

    @property
    def bytes_used(self) -> int:
        """Bytes not yet replayed (what counts against the bound)."""
        seq, offset = self._cursor
        return (
            sum(size - (offset if s == seq else 0) for s, size in self._sizes.items() if s >= seq)
            + self._pending_bytes
        )

    @property
    def events(self) -> int:
        return self._events

    @property
    def empty(self) -> bool:
        return self._events == 0 and not self._pending

    # append (event loop side) --------------------------------------------------------------------
    async def append(self, records: list[Record]) -> None:
        """Durably store ``records`` (returns after fsync) or raise SpoolFull."""
        framed = b"".join(frame(r) for r in records)
        if self.bytes_used + len(framed) > self.max_bytes:
            raise SpoolFull(
                f"spool holds {self.bytes_used} of {self.max_bytes} bytes; {len(framed)} more do not fit"
            )
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((framed, future))
        self._pending_bytes += len(framed)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop())
        await future
        self._events += len(records)

    async def _write_loop(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            data = b"".join(chunk for chunk, _ in batch)
            try:
                await asyncio.to_thread(self._write_sync, data)
            except OSError as exc:
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for _, future in batch:
                    future.set_result(None)
            finally:
                self._pending_bytes -= len(data)

    def _write_sync(self, data: bytes) -> None:
        if not self._segments or self._sizes[self._segments[-1]] >= SEGMENT_BYTES:
            seq = (self._segments[-1] + 1) if self._segments else 1
            self._segments.append(seq)
            self._sizes[seq] = 0
            if self._cursor == (0, 0):
                self._cursor = (seq, 0)
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                self._path(seq).touch()
                os.fsync(dir_fd)  # the new segment's name must survive a crash too
            finally:
                os.close(dir_fd)
        seq = self._segments[-1]
        with self._path(seq).open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self._sizes[seq] += len(data)

    # replay ------------------------------------------------------------------------------------
    def iter_unreplayed(self, limit: int | None = None) -> Iterator[tuple[Record, tuple[int, int]]]:
        """Records after the cursor in order, each with the cursor position just past it."""
        seq0, offset0 = self._cursor
        count = 0
        for seq in [s for s in self._segments if s >= seq0]:
            pos, end = (offset0 if seq == seq0 else 0), self._sizes[seq]
            with self._path(seq).open("rb") as handle:
                # Stream from the cursor: replay reads each byte once, not a segment per batch.
                handle.seek(pos)
                while pos + HEADER.size <= end:
                    length, _ = HEADER.unpack(handle.read(HEADER.size))
                    body = handle.read(length)
                    pos += HEADER.size + length
                    yield Record.decode(body), (seq, pos)
                    count += 1
                    if limit is not None and count >= limit:
                        return

    def advance(self, position: tuple[int, int], replayed: int) -> None:
        """Move the cursor past acknowledged records; delete fully replayed segments."""
        seq, offset = position
        cursor_file = self.directory / CURSOR_FILE
        tmp = cursor_file.with_suffix(".tmp")
        with tmp.open("w") as handle:
            handle.write(f"{seq} {offset}")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(cursor_file)
        self._cursor = position
        self._events = max(0, self._events - replayed)
        for old in [
            s
            for s in self._segments
            if s < seq or (s == seq and offset >= self._sizes[s] and s != self._segments[-1])
        ]:
            self._path(old).unlink(missing_ok=True)
            self._segments.remove(old)
            self._sizes.pop(old, None)
