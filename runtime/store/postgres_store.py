"""The production store: PostgreSQL, with TimescaleDB when the extension is installed.

The dialect is read from the database at connection: `timescale` when the `timescaledb`
extension is installed in it (hypertables, compression, retention, continuous
aggregates), else `postgres`, plain tables with the same columns and keys, with a warning
in `warnings` saying what is lost (the caller prints it; a store never prints).

Writes go through binary COPY, encoded column-wise from the frame
(`flowc.runtime.store.postgres_copy`), in chunks of `batch` rows, one transaction per
`write`: when it returns, the batch is durable or not written at all. Idempotence on the
table's key is checked by the database, two ways:

- optimistically, one COPY straight into the table, its data sent a chunk at a time: the
  cheapest way to fill a keyed table, and what a batch of new rows always takes. A row
  whose key exists fails the COPY with a unique violation, and the transaction is rolled
  back;
- then, and for the table's next batches until one adds every row again, each chunk is
  COPY'd into a temporary staging table and moved with `INSERT ... SELECT ... ON CONFLICT
  (key) DO NOTHING`, which skips the rows already stored (and repeated keys in the batch).

Either way a retried batch adds nothing, and concurrent writers of one key are settled by
the unique index. A table without a key gets plain COPY.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import polars as pl
import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.ddl import ddl_statements, unique_key
from flowc.compiler.sql.ddl_timescale import continuous_aggregate_statements
from flowc.compiler.sql.spec import TableSpec
from flowc.compiler.sql.types import Dialect, column_type
from flowc.runtime.store.base import CURSORS, RUNS, BreakingChanges, RunRecord
from flowc.runtime.store.postgres_copy import HEADER, TRAILER, CopyRows, encode_rows
from flowc.runtime.store.state import DEAD_LETTER_TABLE, STATE_TABLES
from flowc.runtime.store_plan import StoreError, StorePlan, inspect_store, plan_store, redact

Connection = psycopg.AsyncConnection[tuple[Any, ...]]

# TimescaleDB before 2.14 lacks `by_range` (2.13) or refuses compression settings applied
# again on a table with compressed chunks, which the start-up script does.
_TIMESCALE_MINIMUM = (2, 14)
# pg_advisory_lock key held while one flowc prepares the database: two nodes starting
# together would race on CREATE TABLE IF NOT EXISTS (it is not atomic in PostgreSQL).
_PREPARE_LOCK = int.from_bytes(hashlib.sha1(b"flowc.prepare").digest()[:8], "big", signed=True)

LOST_WITHOUT_TIMESCALE = (
    "plain tables without chunks (old data is not cheaper to scan or drop), without "
    "compression, without retention policies (old rows are never deleted) and without "
    "continuous aggregates (flowc computes and stores `aggregate` pipelines itself)"
)


class PostgresStore:
    """The Store protocol on PostgreSQL or TimescaleDB; make one with `connect`."""

    dialect: Dialect

    def __init__(
        self,
        url: str,
        pool: AsyncConnectionPool[Connection],
        dialect: Dialect,
        description: str,
        warnings: list[str],
    ) -> None:
        self._url = url  # holds the password: never printed, see `description`
        self._pool = pool
        self.dialect = dialect
        self.description = description
        self.warnings = warnings
        # Tables whose last write met existing keys: they go through staging until a
        # write adds every row again, rather than failing an optimistic COPY each time.
        self._conflicting: set[str] = set()

    @classmethod
    async def connect(cls, url: str, *, max_connections: int = 4) -> PostgresStore:
        """Connect, find out the dialect, and keep a pool of connections for the pipelines.

        Raises StoreError (with the password redacted) when the server cannot be used.
        """
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=10
            ) as connection:
                dialect, description, warnings = await _identify(connection, url)
        except psycopg.Error as error:
            reason = redact(str(error).strip())
            raise StoreError(f"cannot connect to {redact(url)}: {reason}") from error
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            open=False,
            name="flowc-store",
        )
        try:
            await pool.open(wait=True, timeout=30)
        except PoolTimeout as error:
            await pool.close()
            raise StoreError(f"cannot open connections to {redact(url)}: {error}") from error
        return cls(url, pool, dialect, description, warnings)

    # ---- Store ----

    async def prepare(self, compiled: Compiled, *, allow_breaking: bool) -> StorePlan:
        async with self._pool.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock(%s)", [_PREPARE_LOCK])
            try:
                plan = await asyncio.to_thread(self._plan, compiled)
                if plan.breaking and not allow_breaking:
                    raise BreakingChanges(plan)
                for statement in self._script(compiled, plan):
                    await connection.execute(statement)
            finally:
                # A lost connection has released the lock with its session already.
                with contextlib.suppress(psycopg.OperationalError):
                    await connection.execute("SELECT pg_advisory_unlock(%s)", [_PREPARE_LOCK])
        return plan

    def _plan(self, compiled: Compiled) -> StorePlan:
        with inspect_store(self._url) as inspector:
            inspector.dialect = self.dialect
            inspector.description = self.description
            return plan_store(compiled, inspector)

    def _script(self, compiled: Compiled, plan: StorePlan) -> list[str]:
        """The plan's changes, then every table's idempotent DDL (which adds new indexes
        and policies); continuous aggregates after the tables they read."""
        tables = sorted(plan.tables, key=lambda table: table.continuous_aggregate)
        script = [statement for table in tables for statement in table.migration.statements]
        caggs = compiled.continuous if self.dialect == "timescale" else {}
        for spec in [*STATE_TABLES, *(s for n, s in compiled.tables.items() if n not in caggs)]:
            script += ddl_statements(spec, self.dialect)
        for cagg in caggs.values():
            script += continuous_aggregate_statements(cagg)
        return script

    async def write(
        self, table: TableSpec, frame: pl.DataFrame, batch: int, *, upsert: bool = False
    ) -> int:
        if frame.height == 0:
            return 0
        key = unique_key(table)
        batch = max(batch, 1)
        async with self._pool.connection() as connection:
            if upsert and key:
                # The windows of an aggregate, recomputed as records arrive: replace. One
                # row per key, the last: PostgreSQL refuses to update a row twice at once.
                rows = await self._encode(table, _one_row_per_key(frame, key, "last"))
                return await _merge(connection, table, key, rows, batch, replace=True)
            if not key or table.name not in self._conflicting:
                rows = await self._encode(table, frame)
                try:
                    return await _copy(connection, table.name, rows, batch)
                except psycopg.errors.UniqueViolation:
                    if not key:
                        raise
                    self._conflicting.add(table.name)
            # Some keys exist already (a retry), or the batch repeats a key: the first row
            # of each key is inserted, whatever order the database would take them in.
            rows = await self._encode(table, _one_row_per_key(frame, key, "first"))
            added = await _merge(connection, table, key, rows, batch)
        if added == rows.height:
            self._conflicting.discard(table.name)
        return added

    async def _encode(self, table: TableSpec, frame: pl.DataFrame) -> CopyRows:
        return await asyncio.to_thread(encode_rows, frame, table.columns)

    async def fetch(self, query: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of one query with positional parameters, as dicts by column name."""
        async with self._pool.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(query, list(params))
            return await cursor.fetchall()

    async def execute(self, statement: str, params: Sequence[Any]) -> int:
        """Run one statement; the number of rows it changed."""
        async with self._pool.connection() as connection:
            cursor = await connection.execute(statement, list(params))
            return cursor.rowcount

    async def dead_letters(self, letters: pl.DataFrame) -> None:
        if letters.height == 0:
            return
        rows = letters.with_columns(random_ids(letters.height).alias("id"))
        await self.write(DEAD_LETTER_TABLE, rows, 1000)

    async def record_run(self, run: RunRecord) -> None:
        values = [
            run.pipeline, run.started_at, run.finished_at, run.records_in, run.records_out,
            run.rejected, run.stored, run.error,
        ]  # fmt: skip
        query = sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(
            sql.Identifier(RUNS)
        )
        async with self._pool.connection() as connection:
            await connection.execute(query, values)

    async def load_cursor(self, source: str) -> str | None:
        query = sql.SQL(
            "SELECT value FROM {} WHERE source = %s ORDER BY saved_at DESC LIMIT 1"
        ).format(sql.Identifier(CURSORS))
        async with self._pool.connection() as connection:
            cursor = await connection.execute(query, [source])
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def save_cursor(self, source: str, value: str) -> None:
        # The newest row is the cursor: saved_at always moves forward, by a microsecond
        # at least, so the latest save wins even when the clock does not advance.
        query = sql.SQL(
            "INSERT INTO {table} (source, value, saved_at) "
            "SELECT %(source)s, %(value)s, "
            "greatest(%(now)s, max(saved_at) + interval '1 microsecond') "
            "FROM {table} WHERE source = %(source)s"
        ).format(table=sql.Identifier(CURSORS))
        now = dt.datetime.now(dt.UTC)
        async with self._pool.connection() as connection:
            await connection.execute(query, {"source": source, "value": value, "now": now})

    async def close(self) -> None:
        await self._pool.close()


async def _identify(connection: Connection, url: str) -> tuple[Dialect, str, list[str]]:
    """The dialect, a description without the password, and what the caller should warn."""
    version = await _one(connection, "SHOW server_version")
    timescale = await _one(
        connection, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    )
    where = f"at {redact(url)}"
    if timescale is not None:
        warnings = []
        numbers = tuple(int(part) for part in timescale.split(".")[:2] if part.isdigit())
        if numbers < _TIMESCALE_MINIMUM:
            warnings.append(
                f"TimescaleDB {timescale} is older than 2.14, which flowc's hypertable and "
                "compression statements need: upgrade the extension if they fail"
            )
        return "timescale", f"PostgreSQL {version} with TimescaleDB {timescale} {where}", warnings
    available = await _one(
        connection, "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    warning = (
        f"TimescaleDB is not installed in this database, so flowc makes {LOST_WITHOUT_TIMESCALE}."
    )
    if available is not None:
        warning += (
            f" The server has TimescaleDB {available}: `CREATE EXTENSION timescaledb` in this"
            " database turns it on for the next start."
        )
    return "postgres", f"PostgreSQL {version} without TimescaleDB {where}", [warning]


async def _one(connection: Connection, query: str) -> str | None:
    cursor = await connection.execute(query)
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def _copy(connection: Connection, table: str, rows: CopyRows, batch: int) -> int:
    """COPY the rows straight into the table, a chunk per write; rows added.

    One COPY statement, its data sent a chunk at a time: inside the one transaction a
    statement per chunk would change nothing but cost a round trip and a statement each
    (measured: ~2 ms per chunk, +45% on a million rows in chunks of 1000).
    """
    copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table), _columns(rows.columns)
    )
    async with (
        connection.transaction(),
        connection.cursor() as cursor,
        cursor.copy(copy) as stream,
    ):
        await stream.write(HEADER)
        for start in range(0, rows.height, batch):
            await stream.write(rows.chunk(start, start + batch))
        await stream.write(TRAILER)
    return rows.height


async def _merge(
    connection: Connection,
    table: TableSpec,
    key: Sequence[str],
    rows: CopyRows,
    batch: int,
    *,
    replace: bool = False,
) -> int:
    """Each chunk through a staging table, skipping keys already stored (or, with
    `replace`, updating their other columns); rows added or updated."""
    staging = sql.Identifier(_staging_name(table))
    columns = _columns(rows.columns)
    create = sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
        staging,
        sql.SQL(", ").join(
            sql.SQL("{} {}").format(
                sql.Identifier(c.name), sql.SQL(column_type(c.type, "postgres").sql("postgres"))
            )
            for c in table.columns
        ),
    )
    copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(staging, columns)
    others = [c.name for c in table.columns if c.name not in key]
    action: sql.Composable = sql.SQL("DO NOTHING")
    if replace and others:
        action = sql.SQL("DO UPDATE SET {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in others
            )
        )
    insert = sql.SQL(
        "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "
        "ON CONFLICT ({key}) {action}"
    ).format(
        table=sql.Identifier(table.name),
        columns=columns,
        staging=staging,
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        action=action,
    )
    truncate = sql.SQL("TRUNCATE {}").format(staging)
    added = 0
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(create)
        for start in range(0, rows.height, batch):
            if start:
                await cursor.execute(truncate)
            async with cursor.copy(copy) as stream:
                await stream.write(HEADER)
                await stream.write(rows.chunk(start, start + batch))
                await stream.write(TRAILER)
            await cursor.execute(insert)
            added += max(cursor.rowcount, 0)
    return added


def _columns(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _staging_name(table: TableSpec) -> str:
    """A temporary table per table and column list: a changed table gets a new one."""
    shape = "\x00".join(f"{c.name}\x00{c.type}" for c in table.columns)
    digest = hashlib.sha1(f"{table.name}\x00{shape}".encode()).hexdigest()[:16]
    return f"flowc_staging_{digest}"


def random_ids(count: int) -> pl.Series:
    """`count` random UUIDs (version 4) as text, drawn in bulk (no Python per id)."""
    raw = np.frombuffer(os.urandom(16 * count), np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    binary = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), count, [None, pa.py_buffer(raw)])
    hexes = pl.Series(binary.cast(pa.large_binary())).bin.encode("hex")
    parts = [hexes.str.slice(start, length) for start, length in _UUID_GROUPS]
    return pl.select(pl.concat_str(parts, separator="-")).to_series().alias("id")


_UUID_GROUPS = ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))


def _one_row_per_key(
    frame: pl.DataFrame, key: Sequence[str], keep: Literal["first", "last"]
) -> pl.DataFrame:
    return frame.unique(subset=list(key), keep=keep, maintain_order=True)
