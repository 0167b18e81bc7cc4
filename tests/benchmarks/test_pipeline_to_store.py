"""Benchmark: records/s from a `generate` source through a pipeline into each store.

The whole runtime path: the generated batches, the compiled plan (a mapping and a
validation rule), dead letters, persistence in chunks of 1000, the cache and the broadcast.
Baselines in the same run: the same rows loaded raw (a binary COPY on PostgreSQL, an Arrow
insert on DuckDB), into a table without a key and into the keyed table. Prints figures and
ratios; asserts only that every record was stored or dead-lettered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import duckdb
import polars as pl

from flowc.compiler.artifacts import compile_unit, table_spec
from flowc.compiler.checker import check_text
from flowc.compiler.manifest import connector_config
from flowc.compiler.polars_plan import PlanModule
from flowc.compiler.sql.ddl import ddl_statements
from flowc.compiler.sql.spec import TableSpec
from flowc.runtime.app import Runtime
from flowc.runtime.sources.generate import Generator
from flowc.runtime.store.base import Store
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store.postgres_store import PostgresStore
from flowc.stdlib.connectors.generate import GenerateSource
from tests.benchmarks.test_store_write import copy_binary, count, recreate
from tests.postgres import fresh_database

ROWS = 1_000_000
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

PROGRAM = f"""\
source gen: generate {{
  count: {ROWS}
  batch: 50000
  seed: 3
  fields {{
    seq: {{ sequence: 1 }}
    sensor: {{ choice: ["kitchen", "attic", "cellar", "garage"] }}
    temp: {{ normal: {{ mean: 20.0, std: 8.0 }} }}
    humidity: {{ int_range: {{ min: 0, max: 100 }}, null_rate: 0.01 }}
  }}
}}

pipeline readings from gen {{
  map {{
    ts = @2026-01-01T00:00:00Z + duration_seconds(seq)
    seq = seq
    sensor = upper(sensor)
    temp_c = round(temp, 2)
    humidity = humidity
  }}
  validate {{
    temp_c between -50.0 and 60.0 else dead_letter
  }}
  persist timescale readings {{ time: ts, key: (sensor, seq, ts) }}
}}
"""


def _runtime_seconds(open_store: Callable[[], Awaitable[Store]]) -> tuple[float, Runtime]:
    async def go() -> tuple[float, Runtime]:
        result = check_text(PROGRAM, "bench.flow")
        assert result.ok, [d.message for d in result.diagnostics]
        store = await open_store()  # in this event loop: a pool belongs to its loop
        runtime = await Runtime.start(result, store, clock=lambda: NOW)
        started = time.perf_counter()
        await runtime.run_once()
        seconds = time.perf_counter() - started
        await runtime.close()
        return seconds, runtime

    return asyncio.run(go())


def _output_rows() -> tuple[TableSpec, pl.DataFrame]:
    """The rows the pipeline stores, computed once, for the raw-load baselines."""
    result = check_text(PROGRAM, "bench.flow")
    compiled = compile_unit(result)
    source = compiled.manifest.sources[0]
    generator = Generator(connector_config(GenerateSource, source.config))
    plan = PlanModule(compiled.files["readings.py"], "readings.py")
    frames = [plan.plan(batch.lazy(), NOW)["persist"].collect() for batch in generator.batches(NOW)]
    spec = table_spec(compiled.pipelines["readings"].persist)  # type: ignore[arg-type]
    return spec, pl.concat(frames)


def _report(label: str, records: int, seconds: float, baseline: float | None = None) -> str:
    rate = records / seconds / 1e6
    ratio = f"  ratio {baseline / seconds:.2f}" if baseline else ""
    return f"  {label:<44} {seconds:6.2f} s  {rate:5.2f} M rows/s{ratio}"


def test_pipeline_into_postgres(postgres_dsn: str) -> None:
    spec, rows = _output_rows()
    unkeyed = TableSpec(spec.name + "_raw", spec.columns, spec.time)
    with fresh_database(postgres_dsn) as url:
        recreate(url, unkeyed, spec)
        started = time.perf_counter()
        copy_binary(url, unkeyed, rows)
        raw = time.perf_counter() - started
        started = time.perf_counter()
        copy_binary(url, spec, rows)
        keyed = time.perf_counter() - started
    with fresh_database(postgres_dsn) as url:
        seconds, runtime = _runtime_seconds(lambda: PostgresStore.connect(url))
        stored = count(url, "readings")
    metrics = runtime.metrics.of("readings")
    assert stored + metrics.dead_lettered == ROWS
    print(f"\n{ROWS:,} generated records through a pipeline into PostgreSQL:")
    print(_report("binary COPY of the output, no key", rows.height, raw))
    print(_report("binary COPY of the output, keyed table", rows.height, keyed))
    print(_report("flowc run --once (plan + store + state)", ROWS, seconds, raw))
    print(f"  against the keyed COPY: ratio {keyed / seconds:.2f}")


def test_pipeline_into_duckdb() -> None:
    spec, rows = _output_rows()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.duckdb"
        with duckdb.connect(str(path)) as conn:
            unkeyed = TableSpec(spec.name + "_raw", spec.columns, spec.time)
            for table in (unkeyed, spec):
                for statement in ddl_statements(table, "duckdb"):
                    conn.execute(statement)
            arrow = rows.to_arrow()  # noqa: F841 - read by DuckDB by name
            started = time.perf_counter()
            conn.execute(f'INSERT INTO "{unkeyed.name}" SELECT * FROM arrow')
            raw = time.perf_counter() - started
            started = time.perf_counter()
            conn.execute(f'INSERT INTO "{spec.name}" SELECT * FROM arrow')
            keyed = time.perf_counter() - started
        store_path = Path(tmp) / "store.duckdb"

        async def open_duckdb() -> Store:
            return DuckDBStore(store_path)

        seconds, runtime = _runtime_seconds(open_duckdb)
    metrics = runtime.metrics.of("readings")
    assert metrics.stored + metrics.dead_lettered == ROWS
    print(f"\n{ROWS:,} generated records through a pipeline into DuckDB:")
    print(_report("Arrow insert of the output, no key", rows.height, raw))
    print(_report("Arrow insert of the output, keyed table", rows.height, keyed))
    print(_report("flowc run --once (plan + store + state)", ROWS, seconds, raw))
    print(f"  against the keyed insert: ratio {keyed / seconds:.2f}")
