"""The durable spool (runtime/spool.py): appends, replay, torn writes, CRC, compaction."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from flowc.runtime.spool import Spool, SpoolError

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, 30)

    return asyncio.run(bounded())


def pending(spool: Spool) -> list[tuple[int, bytes]]:
    return [(e.seq, e.payload) for e in spool.pending()]


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.seg"))


def test_entries_not_done_are_pending_after_reopening(tmp_path: Path) -> None:
    async def write() -> list[int]:
        spool = Spool.open(tmp_path)
        seqs = [await spool.append(f"entry {i}".encode()) for i in range(5)]
        spool.mark_done(seqs[1])
        spool.mark_done(seqs[3])
        await spool.close()
        return seqs

    seqs = run(write())
    assert seqs == [1, 2, 3, 4, 5]
    spool = Spool.open(tmp_path)
    assert pending(spool) == [(1, b"entry 0"), (3, b"entry 2"), (5, b"entry 4")]
    assert spool.recovery.entries == 5
    assert spool.recovery.pending == 3
    run(spool.close())


def test_sequence_numbers_go_on_after_reopening(tmp_path: Path) -> None:
    async def write(payload: bytes) -> int:
        spool = Spool.open(tmp_path)
        seq = await spool.append(payload)
        await spool.close()
        return seq

    assert run(write(b"a")) == 1
    assert run(write(b"b")) == 2
    spool = Spool.open(tmp_path)
    assert pending(spool) == [(1, b"a"), (2, b"b")]
    run(spool.close())


def test_concurrent_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = 0
    real = os.fdatasync

    def counting(fd: int) -> None:
        nonlocal syncs
        syncs += 1
        real(fd)

    monkeypatch.setattr("flowc.runtime.spool.os.fdatasync", counting)

    async def write() -> list[int]:
        spool = Spool.open(tmp_path)
        seqs = await asyncio.gather(*(spool.append(b"x" * 100) for _ in range(200)))
        await spool.close()
        return list(seqs)

    seqs = run(write())
    assert sorted(seqs) == list(range(1, 201))
    assert 1 <= syncs < 20, syncs  # group commit: one fsync per group, not per append


def test_a_torn_last_entry_is_cut_off_and_never_replayed(tmp_path: Path) -> None:
    async def write() -> None:
        spool = Spool.open(tmp_path)
        for i in range(3):
            await spool.append(f"entry {i}".encode() * 10)
        await spool.close()

    run(write())
    [segment] = segments(tmp_path)
    size = segment.stat().st_size
    with segment.open("r+b") as file:  # a crash in the middle of writing the third entry
        file.truncate(size - 7)
    spool = Spool.open(tmp_path)
    assert [p for _, p in pending(spool)] == [b"entry 0" * 10, b"entry 1" * 10]
    assert spool.recovery.torn_bytes > 0

    async def append_more() -> int:
        seq = await spool.append(b"after")
        await spool.close()
        return seq

    assert run(append_more()) == 3  # the torn entry's number was never acknowledged
    spool = Spool.open(tmp_path)
    assert [p for _, p in pending(spool)] == [b"entry 0" * 10, b"entry 1" * 10, b"after"]
    assert spool.recovery.torn_bytes == 0
    run(spool.close())


@pytest.mark.parametrize("garbage", [b"\x00" * 64, b"FWS1" + b"\xff" * 30, b"F"])
def test_garbage_after_the_last_entry_is_cut_off(tmp_path: Path, garbage: bytes) -> None:
    async def write() -> None:
        spool = Spool.open(tmp_path)
        await spool.append(b"good")
        await spool.close()

    run(write())
    [segment] = segments(tmp_path)
    with segment.open("ab") as file:
        file.write(garbage)
    spool = Spool.open(tmp_path)
    assert pending(spool) == [(1, b"good")]
    assert spool.recovery.torn_bytes == len(garbage)
    run(spool.close())


def test_a_corrupted_entry_fails_its_crc(tmp_path: Path) -> None:
    async def write() -> None:
        spool = Spool.open(tmp_path)
        await spool.append(b"first entry")
        await spool.append(b"second entry")
        await spool.close()

    run(write())
    [segment] = segments(tmp_path)
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0x01  # one bit of the last payload
    segment.write_bytes(bytes(data))
    spool = Spool.open(tmp_path)
    assert pending(spool) == [(1, b"first entry")]
    run(spool.close())


def test_a_damaged_segment_before_the_last_is_kept_aside(tmp_path: Path) -> None:
    async def write() -> None:
        spool = Spool.open(tmp_path, segment_bytes=1)  # one entry per segment
        for payload in (b"one", b"two", b"three"):
            await spool.append(payload)
        await spool.close()

    run(write())
    first = segments(tmp_path)[0]
    data = bytearray(first.read_bytes())
    data[-1] ^= 0xFF
    first.write_bytes(bytes(data))
    spool = Spool.open(tmp_path)
    assert spool.recovery.damaged == [first.name]
    assert [p for _, p in pending(spool)] == [b"two", b"three"]
    for seq, _ in pending(spool):
        spool.mark_done(seq)
    run(spool.close())
    assert first.with_suffix(".damaged").exists()  # kept for a person to look at


def test_a_torn_done_mark_means_a_replay(tmp_path: Path) -> None:
    async def write() -> None:
        spool = Spool.open(tmp_path)
        for payload in (b"a", b"b"):
            await spool.append(payload)
        spool.mark_done(1)
        spool.mark_done(2)
        await spool.close()

    run(write())
    done = tmp_path / "done.log"
    done.write_bytes(done.read_bytes()[:-5])
    spool = Spool.open(tmp_path)
    assert pending(spool) == [(2, b"b")]
    run(spool.close())


def test_fully_done_segments_are_deleted(tmp_path: Path) -> None:
    async def write() -> Spool:
        spool = Spool.open(tmp_path, segment_bytes=50)  # one entry per segment
        seqs = [await spool.append(bytes([i]) * 60) for i in range(10)]
        assert len(segments(tmp_path)) == 10
        for seq in seqs[:-1]:
            spool.mark_done(seq)
        return spool

    spool = run(write())
    # Every segment but the one still written to is done, so deleted.
    assert len(segments(tmp_path)) == 1
    spool.mark_done(10)
    run(spool.close())
    reopened = Spool.open(tmp_path)
    assert pending(reopened) == []
    assert segments(tmp_path) == []  # nothing left to replay: nothing kept
    assert (tmp_path / "done.log").stat().st_size == 0
    run(reopened.close())


def test_the_done_log_is_rewritten_without_deleted_segments(tmp_path: Path) -> None:
    async def write() -> None:
        spool = Spool.open(tmp_path, segment_bytes=64 * 100)
        for _ in range(60):
            seqs = [await spool.append(b"x" * 50) for _ in range(100)]
            for seq in seqs:
                spool.mark_done(seq)
        await spool.close()

    run(write())
    # 6000 marks were written; the log holds only those of segments still on disk.
    assert (tmp_path / "done.log").stat().st_size < 6000 * 12


def test_a_second_process_cannot_open_the_spool(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path)
    with pytest.raises(SpoolError, match="in use by another process"):
        Spool.open(tmp_path)
    run(spool.close())
    run(Spool.open(tmp_path).close())


def test_a_failed_write_leaves_no_half_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write

    def failing(fd: int, data: Any) -> int:
        if len(data) > 1000:
            real(fd, bytes(data[:500]))  # half of it made it to the file
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr("flowc.runtime.spool.os.write", failing)

    async def write() -> None:
        spool = Spool.open(tmp_path)
        await spool.append(b"small")
        with pytest.raises(SpoolError, match="No space left"):
            await spool.append(b"x" * 2000)
        await spool.append(b"after")
        await spool.close()

    run(write())
    monkeypatch.undo()
    spool = Spool.open(tmp_path)
    assert [p for _, p in pending(spool)] == [b"small", b"after"]
    assert spool.recovery.torn_bytes == 0
    run(spool.close())


def test_appending_to_a_closed_spool_fails(tmp_path: Path) -> None:
    async def scenario() -> None:
        spool = Spool.open(tmp_path)
        await spool.close()
        with pytest.raises(SpoolError, match="closed"):
            await spool.append(b"late")

    run(scenario())
