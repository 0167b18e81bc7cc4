"""The embedded store: one DuckDB file, written with Arrow, so nothing needs installing.

DuckDB connections are not safe to share between threads, so every call runs on one
worker thread (through a lock) while the event loop goes on.

A `write` is one statement, so one transaction: `INSERT ... SELECT` from the frame as a
stream of Arrow record batches of `batch` rows, with `ON CONFLICT DO NOTHING` on the key
(the table's primary key). DuckDB reports how many rows it added, so a retried batch adds
nothing and says so. A statement per chunk would cost ~4 ms each (a million rows in
chunks of 1000: 5 s instead of 1 s) for nothing, the batch being one transaction anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import duckdb
import polars as pl
import pyarrow as pa
import sqlglot.expressions as exp

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.ddl import ddl_statements, unique_key
from flowc.compiler.sql.spec import TableSpec
from flowc.compiler.sql.types import Dialect
from flowc.runtime.store.base import CURSORS, DEAD_LETTERS, RUNS, BreakingChanges, RunRecord
from flowc.runtime.store.state import STATE_TABLES
from flowc.runtime.store_plan import StorePlan, plan_store

T = TypeVar("T")


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


class DuckDBStore:
    dialect: Dialect = "duckdb"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.description = f"DuckDB file {path}"
        self.warnings: list[str] = []  # the embedded store has nothing to warn about
        self.connection = duckdb.connect(str(path))
        self._lock = threading.Lock()
        self._execute("SET TimeZone = 'UTC'")

    def _execute(self, sql: str, params: object = None) -> list[tuple[Any, ...]]:
        """Run one statement and read its whole result.

        DuckDB 2 refuses any other work on a connection whose last result was not read to
        the end, so no statement's result (even an INSERT's row count) is left unread.
        """
        return list(self.connection.execute(sql, params).fetchall())

    # ---- the Inspector protocol of flowc.runtime.store_plan ----

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._execute(sql, params)

    async def _run(self, work: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work()

        return await asyncio.to_thread(locked)

    # ---- Store ----

    async def prepare(self, compiled: Compiled, *, allow_breaking: bool) -> StorePlan:
        plan = await asyncio.to_thread(plan_store, compiled, self)
        if plan.breaking and not allow_breaking:
            raise BreakingChanges(plan)
        specs = [*STATE_TABLES, *compiled.tables.values()]

        def apply() -> None:
            for statement in plan.statements:
                self._execute(statement)
            # Every statement is idempotent: re-running the DDL adds what is new.
            for spec in specs:
                for statement in ddl_statements(spec, "duckdb"):
                    self._execute(statement)

        await self._run(apply)
        return plan

    async def write(
        self, table: TableSpec, frame: pl.DataFrame, batch: int, *, upsert: bool = False
    ) -> int:
        if frame.height == 0:
            return 0
        columns = ", ".join(_ident(c.name) for c in table.columns)
        # The key's unique index makes a retried batch add nothing; with `upsert` (the
        # windows of an aggregate, recomputed as records arrive) the new row replaces it.
        conflict = " ON CONFLICT DO NOTHING" if table.key else ""
        key = unique_key(table)
        others = [c.name for c in table.columns if c.name not in key]
        if upsert and table.key and others:
            targets = ", ".join(_ident(k) for k in key)
            updates = ", ".join(f"{_ident(c)} = excluded.{_ident(c)}" for c in others)
            conflict = f" ON CONFLICT ({targets}) DO UPDATE SET {updates}"
        sql = f"INSERT INTO {_ident(table.name)} ({columns}) SELECT {columns} FROM chunk{conflict}"
        ordered = (
            _one_row_per_key(frame, table, upsert)
            .select([c.name for c in table.columns])
            .to_arrow()
        )
        chunks = pa.RecordBatchReader.from_batches(
            ordered.schema, ordered.to_batches(max_chunksize=max(batch, 1))
        )
        return await self._run(lambda: self._insert(sql, chunks))

    def _insert(self, sql: str, chunks: Any) -> int:
        """Run `sql` reading `chunk` (an Arrow table or reader); the rows it inserted
        (rows skipped on a conflict don't count)."""
        self.connection.register("chunk", chunks)
        try:
            rows = self._execute(sql)
        finally:
            # After a failed statement DuckDB may refuse even this; the next register
            # replaces the view anyway, and the statement's own error is the one to report.
            with contextlib.suppress(duckdb.Error):
                self.connection.unregister("chunk")
        return int(rows[0][0]) if rows else 0

    async def dead_letters(self, letters: pl.DataFrame) -> None:
        if letters.height == 0:
            return
        columns = ["pipeline", "rule", "action", "reason", "record", "at"]
        # Ids drawn by DuckDB for the whole batch, not one Python call per row.
        sql = (
            f"INSERT INTO {_ident(DEAD_LETTERS)} (id, {', '.join(map(_ident, columns))}) "
            f"SELECT uuid()::VARCHAR, {', '.join(map(_ident, columns))} FROM chunk"
        )
        chunk = letters.select(columns).to_arrow()
        await self._run(lambda: self._insert(sql, chunk))

    async def record_run(self, run: RunRecord) -> None:
        values = [
            run.pipeline, run.started_at, run.finished_at, run.records_in, run.records_out,
            run.rejected, run.stored, run.error,
        ]  # fmt: skip
        sql = f"INSERT INTO {_ident(RUNS)} VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        await self._run(lambda: self._execute(sql, values))

    async def load_cursor(self, source: str) -> str | None:
        sql = f"SELECT value FROM {_ident(CURSORS)} WHERE source = ? ORDER BY saved_at DESC LIMIT 1"

        def read() -> str | None:
            rows = self._execute(sql, [source])
            return str(rows[0][0]) if rows else None

        return await self._run(read)

    async def save_cursor(self, source: str, value: str) -> None:
        # The newest row is the cursor: saved_at always moves forward, by a microsecond
        # at least, so the latest save wins even when the clock does not advance.
        table = _ident(CURSORS)
        sql = (
            f"INSERT INTO {table} (source, value, saved_at) "
            "SELECT $source, $value, greatest($now, max(saved_at) + INTERVAL 1 MICROSECOND) "
            f"FROM {table} WHERE source = $source"
        )
        params = {"source": source, "value": value, "now": dt.datetime.now(dt.UTC)}
        await self._run(lambda: self._execute(sql, params))

    # ---- queries for the API (reads of the runtime's tables and a pipeline's history) ----

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of one query with `?` parameters, as dicts keyed by column name."""

        def read() -> list[dict[str, Any]]:
            cursor = self.connection.execute(sql, list(params))
            names = [column[0] for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._run(read)

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run one statement with `?` parameters; the number of rows it changed."""
        rows = await self._run(lambda: self._execute(sql, list(params)))
        first = rows[0][0] if rows and len(rows[0]) == 1 else 0
        return first if isinstance(first, int) else 0

    async def close(self) -> None:
        await self._run(self.connection.close)


def _one_row_per_key(frame: pl.DataFrame, table: TableSpec, upsert: bool) -> pl.DataFrame:
    """A batch that repeats a key keeps its first row (its last when upserting), whatever
    order the database would insert them in."""
    if not table.key:
        return frame
    keep: Literal["first", "last"] = "last" if upsert else "first"
    return frame.unique(subset=list(unique_key(table)), keep=keep, maintain_order=True)
