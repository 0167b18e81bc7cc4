"""The store interface, and the runtime's own tables that live in every store.

A store holds the persisted pipelines' tables and the runtime's state: dead letters, run
history and source cursors. DuckDB (embedded, the default) and PostgreSQL/TimescaleDB
implement it; `open_store` picks one from a URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.spec import TableSpec
from flowc.compiler.sql.types import Dialect
from flowc.runtime.store_plan import StorePlan

DEAD_LETTERS = "flowc_dead_letters"
RUNS = "flowc_runs"
CURSORS = "flowc_cursors"

# The columns of a dead-letter batch handed to `Store.dead_letters`.
DEAD_LETTER_SCHEMA: dict[str, pl.DataType] = {
    "pipeline": pl.String(),
    "rule": pl.String(),
    "action": pl.String(),
    "reason": pl.String(),
    "record": pl.String(),
    "at": pl.Datetime("us", "UTC"),
}


class BreakingChanges(Exception):
    """The store's tables differ from the program in ways flowc will not change by itself."""

    def __init__(self, plan: StorePlan) -> None:
        self.plan = plan
        lines = "\n".join(f"  {c.description}" for c in plan.breaking)
        super().__init__(
            f"the store has breaking differences with the program:\n{lines}\n"
            "run `flowc plan` to see them all; pass --allow-breaking to start anyway"
        )


@dataclass(frozen=True)
class RunRecord:
    pipeline: str
    started_at: dt.datetime
    finished_at: dt.datetime
    records_in: int
    records_out: int
    rejected: int
    stored: int
    error: str | None


class Store(Protocol):
    dialect: Dialect
    description: str  # for people: no password, ever
    warnings: list[str]  # what the store cannot do here (e.g. no TimescaleDB), for `flowc run`

    async def prepare(self, compiled: Compiled, *, allow_breaking: bool) -> StorePlan:
        """Create or migrate the tables (raises BreakingChanges unless allowed)."""
        ...

    async def write(
        self, table: TableSpec, frame: pl.DataFrame, batch: int, *, upsert: bool = False
    ) -> int:
        """Insert in chunks of `batch` rows, skipping rows whose key exists (with `upsert`,
        replacing them: the windows of an aggregate); rows added (or replaced)."""
        ...

    async def dead_letters(self, letters: pl.DataFrame) -> None:
        """Keep rejected or undeliverable records (`DEAD_LETTER_SCHEMA`)."""
        ...

    async def fetch(self, query: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of one query (the API's reads: runs, dead letters, series)."""
        ...

    async def execute(self, statement: str, params: Sequence[Any]) -> int:
        """One statement (the API's replay deletes a dead letter); rows changed."""
        ...

    async def record_run(self, run: RunRecord) -> None: ...

    async def load_cursor(self, source: str) -> str | None: ...

    async def save_cursor(self, source: str, value: str) -> None: ...

    async def close(self) -> None: ...
