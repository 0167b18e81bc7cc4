"""Benchmark: a million generated records written through the stores, against raw loads.

PostgreSQL (a fresh database on the session's server):

- reference: the rows as one binary COPY into a table without a key, the fastest way in;
- the same COPY into the keyed table: the cost of the unique index alone, the floor of
  any idempotent write;
- `PostgresStore.write` into the keyed table, in chunks of 1000 (the default);
- the same batch again (a retry): every row already stored, nothing added.

DuckDB: `DuckDBStore.write` into the keyed table against a direct Arrow insert
(`INSERT INTO t SELECT * FROM arrow_table`) into a table without a key (the reference),
and into the keyed table (the primary key's cost alone).

Prints records/s and the ratios; asserts only that every write stored what it should.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl
import psycopg
from psycopg import sql

from flowc.compiler.sql.ddl import ddl_statements
from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.dsl import types as t
from flowc.runtime.sources.generate import Generator
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store.postgres_copy import HEADER, TRAILER, encode_rows
from flowc.runtime.store.postgres_store import PostgresStore
from flowc.stdlib.connectors.generate import GenerateSource
from tests.postgres import fresh_database

T = TypeVar("T")
ROWS = 1_000_000
BATCH = 1000
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CITIES = ["Amsterdam", "Zürich", "São Paulo", "Kraków", "Reykjavík", "New York", "Tokyo"]

KEYED = TableSpec(
    name="readings",
    columns=(
        ColumnSpec("ts", t.TIMESTAMP),
        ColumnSpec("sensor", t.STR),
        ColumnSpec("city", t.STR),
        ColumnSpec("seq", t.INT),
        ColumnSpec("temp", t.FLOAT),
        ColumnSpec("humidity", t.INT.nullable_()),
        ColumnSpec("ok", t.BOOL),
        ColumnSpec("note", t.STR.nullable_()),
    ),
    time="ts",
    key=("sensor", "ts"),
)
PLAIN = dataclasses.replace(KEYED, name="readings_plain", key=())


def make_frame() -> pl.DataFrame:
    """What a `generate` source draws, with a time per record (one per millisecond)."""
    config = GenerateSource.model_validate(
        {
            "count": ROWS,
            "batch": ROWS,
            "seed": 7,
            "fields": {
                "seq": {"sequence": 0},
                "sensor": {"choice": [f"sensor-{i:03d}" for i in range(200)]},
                "city": {"choice": CITIES},
                "temp": {"normal": {"mean": 18.0, "std": 9.0}},
                "humidity": {"int_range": {"min": 0, "max": 100}, "null_rate": 0.05},
                "ok": {"choice": [True, False], "weights": [9, 1]},
                "note": {"choice": ["", "recalibrated", "battery low", 'door "open"\t(east)'],
                         "null_rate": 0.7},
            },
        }
    )  # fmt: skip
    frame = Generator(config).next_batch(NOW)
    start = pl.lit(NOW, pl.Datetime("us", "UTC"))
    ts = start + pl.duration(milliseconds=pl.col("seq"))
    return frame.with_columns(ts=ts).select([c.name for c in KEYED.columns])


def line(label: str, seconds: float, note: str = "") -> str:
    figures = f"  {label:<36} {ROWS / seconds / 1e6:5.2f} M records/s ({seconds:6.3f} s)  {note}"
    return figures.rstrip() + "\n"


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# ---- PostgreSQL ----


def copy_binary(url: str, table: TableSpec, frame: pl.DataFrame) -> None:
    """One binary COPY of every row, the rows encoded as the store encodes them."""
    rows = encode_rows(frame, table.columns)
    query = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, rows.columns))
    )
    with psycopg.connect(url) as conn, conn.cursor().copy(query) as copy:
        copy.write(HEADER)
        copy.write(rows.chunk(0, rows.height))
        copy.write(TRAILER)


def recreate(url: str, *tables: TableSpec) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table.name)))
            for statement in ddl_statements(table, "postgres"):
                conn.execute(statement)
        conn.execute("CHECKPOINT")


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(row.fetchone()[0])  # type: ignore[index]


def store_write(url: str, frame: pl.DataFrame) -> tuple[float, int]:
    async def scenario() -> tuple[float, int]:
        store = await PostgresStore.connect(url)
        try:
            started = time.perf_counter()
            added = await store.write(KEYED, frame, BATCH)
            return time.perf_counter() - started, added
        finally:
            await store.close()

    return run(scenario)


def run(work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await work()

    return asyncio.run(main())


def test_postgres_store_write(postgres_dsn: str) -> None:
    frame = make_frame()
    encode_rows(frame.head(1000), KEYED.columns)  # warm up the encoder's imports
    with fresh_database(postgres_dsn) as url:
        recreate(url, PLAIN)
        reference = timed(lambda: copy_binary(url, PLAIN, frame))
        assert count(url, PLAIN.name) == ROWS
        recreate(url, KEYED)
        keyed_copy = timed(lambda: copy_binary(url, KEYED, frame))
        recreate(url, KEYED)
        written, added = store_write(url, frame)
        assert added == ROWS
        retried, again = store_write(url, frame)
        assert again == 0
        assert count(url, KEYED.name) == ROWS
    print(
        f"\nPostgreSQL, {ROWS:,} records of {len(KEYED.columns)} columns, chunks of {BATCH}:\n"
        + line("binary COPY, no key (reference)", reference)
        + line("binary COPY, keyed table", keyed_copy, f"{reference / keyed_copy:.2f} of ref")
        + line(
            "PostgresStore.write, keyed",
            written,
            f"{reference / written:.2f} of ref, {keyed_copy / written:.2f} of the keyed COPY",
        )
        + line("the same batch again (a retry)", retried, "nothing added")
    )


# ---- DuckDB ----


def test_duckdb_store_write() -> None:
    frame = make_frame()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        with duckdb.connect(str(path)) as conn:
            for statement in ddl_statements(PLAIN, "duckdb") + ddl_statements(KEYED, "duckdb"):
                conn.execute(statement)
            conn.register("arrow_table", frame.to_arrow())
            reference = timed(
                lambda: conn.execute('INSERT INTO "readings_plain" SELECT * FROM arrow_table')
            )
            keyed_insert = timed(
                lambda: conn.execute('INSERT INTO "readings" SELECT * FROM arrow_table')
            )
            conn.unregister("arrow_table")
            for table in ("readings_plain", "readings"):
                stored = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                assert stored == (ROWS,)
            conn.execute('DELETE FROM "readings"')
            conn.execute("CHECKPOINT")

        async def scenario() -> tuple[float, int, int]:
            store = DuckDBStore(path)
            try:
                started = time.perf_counter()
                added = await store.write(KEYED, frame, BATCH)
                written = time.perf_counter() - started
                return written, added, await store.write(KEYED, frame.head(BATCH), BATCH)
            finally:
                await store.close()

        written, added, again = run(scenario)
        assert (added, again) == (ROWS, 0)
    print(
        f"\nDuckDB, {ROWS:,} records, chunks of {BATCH}:\n"
        + line("Arrow insert, no key (reference)", reference)
        + line(
            "Arrow insert into the keyed table",
            keyed_insert,
            f"{reference / keyed_insert:.2f} of ref",
        )
        + line(
            "DuckDBStore.write, keyed",
            written,
            f"{reference / written:.2f} of ref, {keyed_insert / written:.2f} of the keyed insert",
        )
    )
