"""The embedded store: one DuckDB file, written with Arrow, so nothing needs installing.

DuckDB connections are not safe to share between threads, so every call runs on one
worker thread (through a lock) while the event loop goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl
import sqlglot.expressions as exp

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.ddl import ddl_statements
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
        self.connection = duckdb.connect(str(path))
        self.connection.execute("SET TimeZone = 'UTC'")
        self._lock = threading.Lock()

    # ---- the Inspector protocol of flowc.runtime.store_plan ----

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self.connection.execute(sql, params).fetchall())

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
                self.connection.execute(statement)
            # Every statement is idempotent: re-running the DDL adds what is new.
            for spec in specs:
                for statement in ddl_statements(spec, "duckdb"):
                    self.connection.execute(statement)

        await self._run(apply)
        return plan

    async def write(self, table: TableSpec, frame: pl.DataFrame, batch: int) -> int:
        if frame.height == 0:
            return 0
        columns = ", ".join(_ident(c.name) for c in table.columns)
        # The key's unique index makes a retried batch add nothing.
        conflict = " ON CONFLICT DO NOTHING" if table.key else ""
        sql = (
            f"INSERT INTO {_ident(table.name)} ({columns}) "
            f"SELECT {columns} FROM chunk{conflict}"
        )
        ordered = frame.select([c.name for c in table.columns])

        def insert() -> int:
            before = self._count(table.name)
            for offset in range(0, ordered.height, batch):
                self.connection.register("chunk", ordered.slice(offset, batch).to_arrow())
                try:
                    self.connection.execute(sql)
                finally:
                    self.connection.unregister("chunk")
            return self._count(table.name) - before

        return await self._run(insert)

    def _count(self, table: str) -> int:
        row = self.connection.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()
        return int(row[0]) if row else 0

    async def dead_letters(self, letters: pl.DataFrame) -> None:
        if letters.height == 0:
            return
        ids = pl.Series("id", [str(uuid.uuid4()) for _ in range(letters.height)])
        rows = letters.with_columns(ids).select(
            "id", "pipeline", "rule", "action", "reason", "record", "at"
        )

        def insert() -> None:
            self.connection.register("letters", rows.to_arrow())
            try:
                self.connection.execute(f"INSERT INTO {_ident(DEAD_LETTERS)} SELECT * FROM letters")
            finally:
                self.connection.unregister("letters")

        await self._run(insert)

    async def record_run(self, run: RunRecord) -> None:
        values = [
            run.pipeline, run.started_at, run.finished_at, run.records_in, run.records_out,
            run.rejected, run.stored, run.error,
        ]  # fmt: skip
        sql = f"INSERT INTO {_ident(RUNS)} VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        await self._run(lambda: self.connection.execute(sql, values))

    async def load_cursor(self, source: str) -> str | None:
        sql = (
            f"SELECT value FROM {_ident(CURSORS)} WHERE source = ? "
            "ORDER BY saved_at DESC LIMIT 1"
        )

        def read() -> str | None:
            row = self.connection.execute(sql, [source]).fetchone()
            return str(row[0]) if row else None

        return await self._run(read)

    async def save_cursor(self, source: str, value: str) -> None:
        sql = f"INSERT INTO {_ident(CURSORS)} VALUES (?, ?, ?)"
        now = dt.datetime.now(dt.UTC)
        await self._run(lambda: self.connection.execute(sql, [source, value, now]))

    async def close(self) -> None:
        await self._run(self.connection.close)
