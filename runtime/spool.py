"""The durable spool: where accepted webhook records wait until the runtime has processed them.

A webhook is answered 2xx only once its records are here, so a crash (kill -9, power loss)
between the answer and the store loses nothing: at the next start the entries not marked
done are replayed. The layout is the classic write-ahead log:

- `<first seq>.seg` segment files, append-only. An entry is a 20-byte header (magic,
  payload length, CRC-32 of length + sequence number + payload, sequence number) and the
  payload. A crash can only tear the end of the last segment; opening the spool cuts such
  a tail off, and the CRC makes sure a torn or corrupted entry is never replayed.
- `done.log`, append-only: the sequence numbers of processed entries, each with its CRC.
  It is written without fsync: the page cache survives a killed process, and a mark lost
  with the machine only means a replay, which the store's keys make harmless.
- Group commit: `append` calls that arrive while a write is in progress are written and
  fsync'ed together, so concurrent requests share one fsync.
- Compaction: a segment that is no longer written to and whose entries are all done is
  deleted; `done.log` is rewritten without the marks of deleted segments.

A lock file keeps a second process from opening the same spool.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"FWS1"
_HEADER = struct.Struct("<4sIIQ")  # magic, payload length, crc32, seq
_DONE = struct.Struct("<QI")  # seq, crc32 of the seq
_SUFFIX = ".seg"


class SpoolError(Exception):
    """The spool cannot take entries (disk full, closed, or used by another process)."""


@dataclass(frozen=True)
class Entry:
    seq: int
    payload: bytes


@dataclass
class Recovery:
    """What opening the spool found."""

    segments: int = 0
    entries: int = 0  # readable entries in the segments
    pending: int = 0  # of which not done: they are to be replayed
    torn_bytes: int = 0  # cut from the end of the last segment (an interrupted write)
    damaged: list[str] = field(default_factory=list)  # segments unreadable before their end


@dataclass
class _Segment:
    first: int
    path: Path
    size: int = 0
    live: int = 0  # entries not done yet
    sealed: bool = False  # no longer written to
    damaged: bool = False
    done: set[int] = field(default_factory=set)


def _crc(length: int, seq: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(struct.pack("<IQ", length, seq)))


def _entry_bytes(seq: int, payload: bytes) -> bytes:
    length = len(payload)
    return _HEADER.pack(MAGIC, length, _crc(length, seq, payload), seq) + payload


def _scan(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """The readable entries of a segment as (seq, payload offset, length), and where the
    readable part ends."""
    entries: list[tuple[int, int, int]] = []
    pos = 0
    while pos + _HEADER.size <= len(data):
        magic, length, crc, seq = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        end = start + length
        if magic != MAGIC or end > len(data) or _crc(length, seq, data[start:end]) != crc:
            break
        entries.append((seq, start, length))
        pos = end
    return entries, pos


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """An append-only, crash-safe queue of byte payloads in a directory.

    Use `Spool.open(directory)`, then `await append(payload)` (returns the entry's sequence
    number once it is on disk), `mark_done(seq)` once it is processed, `pending()` at start
    to find what to replay, and `await close()`.
    """

    def __init__(self, directory: Path, segment_bytes: int, fsync: bool) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.recovery = Recovery()
        self._segments: list[_Segment] = []
        self._where: dict[int, tuple[_Segment, int, int]] = {}  # pending seq -> location
        self._next = 1
        self._active: _Segment | None = None
        self._active_fd = -1
        self._done_fd = -1
        self._done_garbage = 0  # marks in done.log for deleted segments
        self._lock_fd = -1
        self._queue: list[tuple[bytes, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._broken: str | None = None
        self._closed = False

    @classmethod
    def open(cls, directory: Path, *, segment_bytes: int = 16 << 20, fsync: bool = True) -> Spool:
        """Open (or create) the spool in `directory`, recovering from any crash."""
        directory.mkdir(parents=True, exist_ok=True)
        spool = cls(directory, segment_bytes, fsync)
        spool._lock()
        spool._recover()
        return spool

    # ---- opening ----

    def _lock(self) -> None:
        self._lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolError(f"the spool {self.directory} is in use by another process") from None

    def _recover(self) -> None:
        done = self._read_done()
        paths = sorted(self.directory.glob(f"*{_SUFFIX}"), key=lambda p: int(p.stem))
        recovery = self.recovery
        for number, path in enumerate(paths):
            data = path.read_bytes()
            entries, end = _scan(data)
            if not entries and end == len(data) == 0:
                path.unlink()  # created, then a crash before the first write
                continue
            segment = _Segment(int(path.stem), path, size=end, sealed=True)
            if end < len(data):
                if number == len(paths) - 1:  # a torn tail: the write was never acknowledged
                    recovery.torn_bytes = len(data) - end
                    with path.open("r+b") as file:
                        file.truncate(end)
                        os.fsync(file.fileno())
                else:
                    segment.damaged = True
                    recovery.damaged.append(path.name)
                    log.error("spool segment %s is damaged after %d bytes", path, end)
            for seq, offset, length in entries:
                self._next = max(self._next, seq + 1)
                if seq in done:
                    segment.done.add(seq)
                else:
                    segment.live += 1
                    self._where[seq] = (segment, offset, length)
            recovery.entries += len(entries)
            self._segments.append(segment)
        recovery.segments = len(self._segments)
        recovery.pending = len(self._where)
        for segment in list(self._segments):
            self._compact(segment)
        self._rewrite_done()

    def _read_done(self) -> set[int]:
        path = self.directory / "done.log"
        data = path.read_bytes() if path.exists() else b""
        done: set[int] = set()
        for pos in range(0, len(data) - _DONE.size + 1, _DONE.size):
            seq, crc = _DONE.unpack_from(data, pos)
            if zlib.crc32(struct.pack("<Q", seq)) != crc:
                break  # a torn mark: the entry is replayed, which is safe
            done.add(seq)
        return done

    def _rewrite_done(self) -> None:
        """Write done.log afresh with the marks of the segments still on disk."""
        if self._done_fd >= 0:
            os.close(self._done_fd)
        marks = sorted(seq for s in self._segments for seq in s.done)
        data = b"".join(_DONE.pack(seq, zlib.crc32(struct.pack("<Q", seq))) for seq in marks)
        temporary = self.directory / "done.log.tmp"
        temporary.write_bytes(data)
        with temporary.open("rb") as file:
            os.fsync(file.fileno())
        temporary.replace(self.directory / "done.log")
        _fsync_dir(self.directory)
        self._done_garbage = 0
        self._done_fd = os.open(self.directory / "done.log", os.O_WRONLY | os.O_APPEND)

    # ---- reading ----

    def pending(self) -> Iterator[Entry]:
        """The entries not marked done, oldest first (read from disk as they are needed)."""
        for seq in sorted(self._where):
            location = self._where.get(seq)
            if location is None:
                continue
            segment, offset, length = location
            with segment.path.open("rb") as file:
                file.seek(offset)
                payload = file.read(length)
            yield Entry(seq, payload)

    @property
    def pending_count(self) -> int:
        return len(self._where)

    # ---- writing ----

    async def append(self, payload: bytes) -> int:
        """Write one entry; returns its sequence number once it is durable (fsync'ed).

        Entries appended while another group is being written go into the next group, so
        that concurrent callers share one fsync.
        """
        if self._closed or self._broken is not None:
            raise SpoolError(self._broken or "the spool is closed")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((payload, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        return await future

    async def _write_groups(self) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            try:
                await self._write_group(group)
            except BaseException as error:
                failure = error if isinstance(error, Exception) else SpoolError("cancelled")
                for _, future in group:
                    if not future.done():
                        future.set_exception(SpoolError(f"could not write the spool: {failure}"))
                if not isinstance(error, Exception):
                    raise

    async def _write_group(self, group: list[tuple[bytes, asyncio.Future[int]]]) -> None:
        if self._active is None or self._active.size >= self.segment_bytes:
            await self._rotate()
        segment = self._active
        assert segment is not None
        first = self._next
        self._next += len(group)
        chunks = [_entry_bytes(first + i, payload) for i, (payload, _) in enumerate(group)]
        start = segment.size
        await asyncio.to_thread(self._write, b"".join(chunks), start)
        offset = start
        for i, (_, future) in enumerate(group):
            seq = first + i
            self._where[seq] = (segment, offset + _HEADER.size, len(chunks[i]) - _HEADER.size)
            segment.live += 1
            offset += len(chunks[i])
            if not future.done():
                future.set_result(seq)
        segment.size = offset

    def _write(self, data: bytes, start: int) -> None:
        """Write and fsync; on failure cut the segment back, so no half entry stays."""
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._active_fd, view)
                view = view[written:]
            if self.fsync:
                os.fdatasync(self._active_fd)
        except OSError as error:
            try:
                os.ftruncate(self._active_fd, start)
            except OSError:
                self._broken = f"the spool {self.directory} is unusable: {error}"
            raise

    async def _rotate(self) -> None:
        """Start a new segment (the first write, or the active one is full)."""
        path = self.directory / f"{self._next:020d}{_SUFFIX}"
        fd = await asyncio.to_thread(self._create, path)
        if self._active_fd >= 0:
            os.close(self._active_fd)
        previous = self._active
        self._active_fd = fd
        self._active = _Segment(self._next, path)
        self._segments.append(self._active)
        if previous is not None:
            previous.sealed = True
            self._compact(previous)

    def _create(self, path: Path) -> int:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        if self.fsync:
            _fsync_dir(self.directory)  # the new file's name must survive a crash too
        return fd

    def mark_done(self, seq: int) -> None:
        """Record that an entry is processed; it will not be replayed."""
        location = self._where.pop(seq, None)
        if location is None:
            return
        segment = location[0]
        segment.live -= 1
        segment.done.add(seq)
        if self._done_fd >= 0:
            os.write(self._done_fd, _DONE.pack(seq, zlib.crc32(struct.pack("<Q", seq))))
        self._compact(segment)

    def _compact(self, segment: _Segment) -> None:
        if not segment.sealed or segment.live > 0 or segment not in self._segments:
            return
        self._segments.remove(segment)
        self._done_garbage += len(segment.done)
        if segment.damaged:  # keep what could not be read, for a person to look at
            segment.path.rename(segment.path.with_suffix(".damaged"))
        else:
            segment.path.unlink(missing_ok=True)
        live_marks = sum(len(s.done) for s in self._segments)
        if self._done_fd >= 0 and self._done_garbage > max(4096, live_marks):
            self._rewrite_done()

    async def close(self) -> None:
        """Finish the writes in progress, then release the files and the lock."""
        self._closed = True
        if self._writer is not None:
            try:
                await asyncio.shield(self._writer)
            except Exception:  # its callers have been told
                log.exception("the last spool write failed")
        for fd in (self._active_fd, self._done_fd):
            if fd >= 0:
                if self.fsync:
                    os.fsync(fd)
                os.close(fd)
        self._active_fd = self._done_fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
