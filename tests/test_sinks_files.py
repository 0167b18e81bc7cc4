"""The stdout and file sinks: what they print and write, rotation, Parquet windows."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flowc.runtime.sinks import files
from flowc.runtime.sinks.base import SinkWorker
from flowc.runtime.sinks.files import FileDestination, window_start
from flowc.runtime.sinks.stdout import StdoutDestination
from flowc.stdlib.connectors.file_sink import FileSink
from flowc.stdlib.connectors.stdout import StdoutSink
from tests.test_sinks import FakeClock, MemoryStore, frame, run, worker

# ---- stdout ----


def test_stdout_prints_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        sink = worker(StdoutDestination(StdoutSink()), MemoryStore())
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.stop()

    run(main())
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 0, "name": "r0"},
        {"id": 1, "name": "r0"},
    ]


def test_stdout_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        config = StdoutSink.model_validate({"format": "table"})
        sink = worker(StdoutDestination(config), MemoryStore())
        sink.start()
        sink.offer("weather", pl.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.5, 19.0]}))
        await sink.stop()

    run(main())
    out = capsys.readouterr().out
    assert out.startswith("weather: 2 records\n")
    assert "Oslo" in out
    assert "19.0" in out
    assert "│" in out


# ---- file ----


def file_sink(tmp_path: Path, clock: Any = None, **config: Any) -> tuple[SinkWorker, MemoryStore]:
    store = MemoryStore()
    dest = FileDestination(FileSink.model_validate(config), tmp_path)
    options = {"clock": clock} if clock else {}
    return worker(dest, store, **options), store


def test_file_appends_json_lines_under_a_relative_path(tmp_path: Path) -> None:
    async def main() -> None:
        sink, _ = file_sink(tmp_path, path="out/deep/alerts.jsonl")
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        sink.offer("p", frame(2, 1))
        await sink.stop()

    run(main())
    written = pl.read_ndjson(tmp_path / "out/deep/alerts.jsonl")
    assert written["id"].to_list() == [0, 1, 2]


def test_file_csv_writes_the_header_once(tmp_path: Path) -> None:
    async def main() -> None:
        sink, store = file_sink(tmp_path, path="out.csv")
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        sink.offer("p", frame(2, 2))
        sink.offer("p", pl.DataFrame({"id": [9], "tags": [["a"]]}))  # CSV cannot hold a list
        await sink.stop()
        assert store.dead_ids() == [9]
        assert "CSV cannot hold the nested field(s) tags" in store.dead["reason"][0]

    run(main())
    text = (tmp_path / "out.csv").read_text()
    assert text.splitlines()[0] == "id,name"
    assert pl.read_csv(tmp_path / "out.csv")["id"].to_list() == [0, 1, 2, 3]


def test_file_rotation_starts_a_new_file_per_window(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2026, 1, 1, 12, 59, 30, tzinfo=dt.UTC))

    async def main() -> None:
        sink, _ = file_sink(tmp_path, clock, path="log/{time}.jsonl", rotate=dt.timedelta(hours=1))
        sink.start()
        sink.offer("p", frame(0, 2))
        clock.now += dt.timedelta(minutes=1)
        sink.offer("p", frame(2, 1))
        await sink.stop()

    run(main())
    assert sorted(p.name for p in (tmp_path / "log").iterdir()) == [
        "20260101T120000Z.jsonl",
        "20260101T130000Z.jsonl",
    ]
    assert pl.read_ndjson(tmp_path / "log/20260101T130000Z.jsonl")["id"].to_list() == [2]
    moment = dt.datetime(2026, 1, 1, 12, 59, 30, tzinfo=dt.UTC)
    assert window_start(moment, dt.timedelta(minutes=15)) == moment.replace(minute=45, second=0)


def test_parquet_files_are_written_per_window_and_never_overwritten(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2026, 1, 1, 12, 10, tzinfo=dt.UTC))

    async def main() -> None:
        sink, _ = file_sink(
            tmp_path, clock, path="archive/r-{time}.parquet", rotate=dt.timedelta(hours=1)
        )
        sink.start()
        sink.offer("p", frame(0, 2))
        sink.offer("p", frame(2, 2))
        await asyncio.sleep(0.05)
        assert not (tmp_path / "archive").exists()  # held until the window ends
        await sink.settled()  # `--once`: flushed early
        sink.offer("p", frame(4, 1))  # the same window again
        await sink.stop()

    run(main())
    archive = tmp_path / "archive"
    assert sorted(p.name for p in archive.iterdir()) == [
        "r-20260101T120000Z-1.parquet",
        "r-20260101T120000Z.parquet",
    ]
    assert pl.read_parquet(archive / "r-20260101T120000Z.parquet")["id"].to_list() == [0, 1, 2, 3]
    assert pl.read_parquet(archive / "r-20260101T120000Z-1.parquet")["id"].to_list() == [4]


def test_parquet_file_is_written_when_its_window_ends(tmp_path: Path) -> None:
    async def main() -> None:
        sink, _ = file_sink(tmp_path, path="w/{time}.parquet", rotate=dt.timedelta(seconds=1))
        sink.start()
        sink.offer("p", frame(0, 3))
        for _ in range(40):  # the window ends within a second
            await asyncio.sleep(0.05)
            if (tmp_path / "w").exists() and list((tmp_path / "w").glob("*.parquet")):
                break
        files = list((tmp_path / "w").glob("*.parquet"))
        assert len(files) == 1
        assert pl.read_parquet(files[0])["id"].to_list() == [0, 1, 2]
        await sink.stop()

    run(main())


def test_a_busy_parquet_window_is_written_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "PARQUET_FILE_ROWS", 3)
    clock = FakeClock(dt.datetime(2026, 1, 1, 12, 10, tzinfo=dt.UTC))

    async def main() -> None:
        sink, _ = file_sink(tmp_path, clock, path="{time}.parquet", rotate=dt.timedelta(hours=1))
        sink.start()
        sink.offer("p", frame(0, 7))
        await asyncio.sleep(0.1)
        assert len(list(tmp_path.glob("*.parquet"))) == 2  # two full parts, without waiting
        await sink.stop()

    run(main())
    parts = [tmp_path / f"20260101T120000Z{suffix}.parquet" for suffix in ("", "-1", "-2")]
    assert [pl.read_parquet(p)["id"].to_list() for p in parts] == [[0, 1, 2], [3, 4, 5], [6]]
