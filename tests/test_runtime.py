"""The runtime end to end on the embedded store: one batch through the whole contract."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flowc.compiler.checker import check_path
from flowc.runtime.app import Runtime
from flowc.runtime.cli import main
from flowc.runtime.executor import Batch
from flowc.runtime.store.duckdb_store import DuckDBStore

NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)

PROGRAM = """\
source readings: generate {
  count: 20
  batch: 20
  seed: 7
  fields {
    id: { sequence: 1 }
    sensor: { choice: ["kitchen", "attic"] }
    temp: { int_range: { min: -20, max: 60 } }
  }
}

sink out: file {
  path: "out/readings.jsonl"
  format: "jsonl"
}

pipeline cleaned from readings {
  map {
    id = id
    ts = @2026-02-01T11:00:00Z
    sensor = sensor
    temp = float(temp) ?? 0.0
  }
  validate {
    temp between -10.0 and 50.0 else dead_letter
  }
  persist timescale cleaned { time: ts, key: (id, ts) }
  cache 5
  sink out
}

pipeline by_sensor from cleaned {
  aggregate every 1h by sensor {
    n = count()
  }
  persist timescale by_sensor { time: bucket, key: (sensor, bucket) }
}
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "p.flow"
    path.write_text(PROGRAM)
    return path


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_run_once_goes_through_the_whole_contract(program: Path, tmp_path: Path) -> None:
    async def scenario() -> Runtime:
        result = check_path(program)
        store = DuckDBStore(tmp_path / "store.duckdb")
        runtime = await Runtime.start(result, store, clock=lambda: NOW)
        await runtime.run_once()
        runtime_cache = runtime.caches["cleaned"].latest()
        assert runtime_cache is not None
        assert runtime_cache.height == 5  # cache 5: the newest five, newest first
        assert runtime_cache["id"].to_list() == sorted(runtime_cache["id"].to_list(), reverse=True)
        await runtime.close()
        return runtime

    runtime = asyncio.run(scenario())
    metrics = runtime.metrics.of("cleaned")
    store = tmp_path / "store.duckdb"
    [(stored,)] = _query(store, 'SELECT count(*) FROM "cleaned"')
    [(dead,)] = _query(store, "SELECT count(*) FROM flowc_dead_letters WHERE pipeline = 'cleaned'")
    assert metrics.records_in == 20
    assert stored == metrics.stored == metrics.records_out
    assert dead == metrics.dead_lettered > 0  # seed 7 draws temperatures outside the range
    assert stored + dead == 20
    # Downstream: the aggregate saw exactly what `cleaned` published.
    [(total,)] = _query(store, 'SELECT sum(n) FROM "by_sensor"')
    assert total == stored
    # The sink received every published record.
    lines = (tmp_path / "out" / "readings.jsonl").read_text().splitlines()
    assert len(lines) == stored
    # Dead letters keep the reason and the record.
    reason, record = _query(store, "SELECT reason, record FROM flowc_dead_letters LIMIT 1")[0]
    assert "temp between -10.0 and 50.0 failed" in str(reason)
    assert "sensor" in json.loads(str(record))
    # A run was recorded per pipeline that reads the source.
    [(runs,)] = _query(store, "SELECT count(*) FROM flowc_runs WHERE pipeline = 'cleaned'")
    assert runs == 1


def test_a_retried_batch_adds_nothing(program: Path, tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        result = check_path(program)
        runtime = await Runtime.start(result, DuckDBStore(tmp_path / "s.duckdb"), clock=lambda: NOW)
        frame = pl.DataFrame({"id": [1, 2], "sensor": ["a", "b"], "temp": [10, 20]})
        first = await runtime.emit("readings", Batch(frame))
        again = await runtime.emit("readings", Batch(frame))
        await runtime.close()
        return first[0].stored, again[0].stored

    assert asyncio.run(scenario()) == (2, 0)


def test_fail_rule_rejects_the_whole_batch(tmp_path: Path) -> None:
    path = tmp_path / "f.flow"
    path.write_text(PROGRAM.replace("else dead_letter", "else fail").replace("  sink out\n", ""))

    async def scenario() -> tuple[int, int, int]:
        runtime = await Runtime.start(check_path(path), DuckDBStore(tmp_path / "f.duckdb"))
        frame = pl.DataFrame({"id": [1, 2, 3], "sensor": ["a", "b", "c"], "temp": [10, 99, 20]})
        [outcome] = await runtime.emit("readings", Batch(frame))
        await runtime.close()
        return outcome.stored, outcome.dead_lettered, outcome.records_out

    stored, dead, out = asyncio.run(scenario())
    assert (stored, dead, out) == (0, 3, 0)


def test_cli_run_once_prints_a_summary(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(program), "--once"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert lines["cleaned"][0] == "20"
    assert (program.parent / ".flowc" / "p.duckdb").exists()


def test_run_refuses_breaking_changes(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(program), "--once"]) == 0
    program.write_text(PROGRAM.replace("    sensor = sensor\n", ""))
    program.write_text(program.read_text().replace("by sensor", "by id"))
    assert main(["run", str(program), "--once"]) == 1
    assert "breaking" in capsys.readouterr().err


def test_run_once_on_postgresql(
    program: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    assert main(["run", str(program), "--once", "--store", pg_url]) == 0
    captured = capsys.readouterr()
    assert "PostgreSQL" in captured.err
    assert "warning:" in captured.err  # no TimescaleDB here: plain tables, and it says so
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute('SELECT count(*) FROM "cleaned"').fetchone()
        dead = conn.execute("SELECT count(*) FROM flowc_dead_letters").fetchone()
        runs = conn.execute("SELECT count(*) FROM flowc_runs").fetchone()
    assert stored is not None
    assert dead is not None
    assert runs is not None
    assert stored[0] + dead[0] == 20
    assert runs[0] == 1
    # Running again adds the same records again: the key (id, ts) makes it a no-op.
    assert main(["run", str(program), "--once", "--store", pg_url]) == 0
    with psycopg.connect(pg_url) as conn:
        again = conn.execute('SELECT count(*) FROM "cleaned"').fetchone()
    assert again == stored


DEDUPE = """\
source s: file {
  path: "in.jsonl"
  schema { device: str, n: int }
}

pipeline once_an_hour from s {
  dedupe by device within 1h
}
"""


def test_dedupe_within_remembers_keys_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "d.flow"
    path.write_text(DEDUPE)
    clock = [NOW]

    async def scenario() -> list[int]:
        runtime = await Runtime.start(
            check_path(path), DuckDBStore(tmp_path / "d.duckdb"), clock=lambda: clock[0]
        )
        outs = []
        for devices, minutes in ((["a", "a", "b"], 0), (["a", "c"], 30), (["a", "b"], 61)):
            clock[0] = NOW + dt.timedelta(minutes=minutes)
            frame = pl.DataFrame({"device": devices, "n": list(range(len(devices)))})
            [outcome] = await runtime.emit("s", Batch(frame))
            outs.append(outcome.records_out)
        await runtime.close()
        return outs

    # 0 min: a, b (the second a repeats in the batch); 30 min: only c (a seen 30 min ago);
    # 61 min: a and b again (seen more than an hour ago).
    assert asyncio.run(scenario()) == [2, 1, 2]


WINDOWS = """\
source s: file {
  path: "in.jsonl"
  schema { sensor: str, temp: float, ts: timestamp }
}

pipeline per_minute from s {
  aggregate every 1m by sensor {
    n = count()
    mean_temp = mean(temp)
  }
  persist timescale per_minute { time: bucket }
}
"""


def test_aggregate_windows_span_batches_and_replace_their_row(tmp_path: Path) -> None:
    path = tmp_path / "w.flow"
    path.write_text(WINDOWS)
    minute = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)

    def batch(temps: list[float], seconds: list[int]) -> Batch:
        return Batch(
            pl.DataFrame(
                {
                    "sensor": ["a"] * len(temps),
                    "temp": temps,
                    "ts": [minute + dt.timedelta(seconds=s) for s in seconds],
                }
            )
        )

    async def scenario() -> tuple[list[int], int]:
        runtime = await Runtime.start(check_path(path), DuckDBStore(tmp_path / "w.duckdb"))
        outs = []
        for temps, seconds in (([1.0, 2.0], [1, 2]), ([3.0], [30]), ([9.0], [130]), ([5.0], [3])):
            [outcome] = await runtime.emit("s", batch(temps, seconds))
            outs.append(outcome.records_out)
        late = runtime.metrics.of("per_minute").dropped
        await runtime.close()
        return outs, late

    outs, late = asyncio.run(scenario())
    # Each batch publishes the recomputed row of the window it touched; the last record
    # belongs to 12:00, two windows behind 12:02: late, so counted and left out.
    assert outs == [1, 1, 1, 0]
    assert late == 1
    rows = _query(
        tmp_path / "w.duckdb", 'SELECT bucket, n, mean_temp FROM "per_minute" ORDER BY bucket'
    )
    assert [(r[1], r[2]) for r in rows] == [(3, 2.0), (1, 9.0)]  # 12:00 whole, 12:02


def test_aggregate_windows_replace_their_row_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    from flowc.runtime.store.postgres_store import PostgresStore

    path = tmp_path / "w.flow"
    path.write_text(WINDOWS)
    minute = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)

    async def scenario() -> None:
        store = await PostgresStore.connect(pg_url)
        runtime = await Runtime.start(check_path(path), store)
        for temps, seconds in (([1.0, 2.0], [1, 2]), ([3.0], [30])):
            frame = pl.DataFrame(
                {
                    "sensor": ["a"] * len(temps),
                    "temp": temps,
                    "ts": [minute + dt.timedelta(seconds=s) for s in seconds],
                }
            )
            await runtime.emit("s", Batch(frame))
        await runtime.close()

    asyncio.run(scenario())
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute('SELECT n, mean_temp FROM "per_minute"').fetchall()
    assert rows == [(3, 2.0)]
