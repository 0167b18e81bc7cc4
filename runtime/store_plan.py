"""`flowc plan`: what `flowc run` would change in a store, like a Terraform plan.

It connects to the store, reads the live columns of every table the program persists to,
and diffs them with the compiled schemas (`flowc.compiler.sql.migrate`): tables to create,
columns to add, types to widen, and breaking changes, which are refused unless allowed.
`flowc run` applies exactly this plan at start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import psycopg

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.ddl_timescale import render_continuous_aggregate
from flowc.compiler.sql.migrate import (
    LIVE_COLUMNS_SQL,
    Change,
    ChangeKind,
    Migration,
    live_columns,
    plan_migration,
)
from flowc.compiler.sql.types import Dialect

STORE_ENV = "FLOWC_STORE"


class StoreError(Exception):
    """The store cannot be reached or used; the message says which and why."""


class Inspector(Protocol):
    dialect: Dialect
    description: str

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]: ...


@dataclass
class _Postgres:
    connection: psycopg.Connection[Any]
    dialect: Dialect = "postgres"
    description: str = ""

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())


@dataclass
class _DuckDB:
    connection: duckdb.DuckDBPyConnection
    dialect: Dialect = "duckdb"
    description: str = ""

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(sql, params).fetchall())


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def default_store(program: Path) -> str:
    """FLOWC_STORE, else a DuckDB file under .flowc/ beside the program."""
    return os.environ.get(STORE_ENV) or str(program.parent / ".flowc" / f"{program.stem}.duckdb")


@contextmanager
def inspect_store(url: str, *, create: bool = False) -> Iterator[Inspector]:
    """Connect read-only to a PostgreSQL URL or a DuckDB file path (`duckdb:` prefix optional)."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            connection = psycopg.connect(url, connect_timeout=5, autocommit=True)
        except psycopg.Error as error:
            reason = redact(str(error).strip())
            raise StoreError(f"cannot connect to {redact(url)}: {reason}") from error
        with connection:
            inspector = _Postgres(connection)
            version = inspector.query("SHOW server_version", {})[0][0]
            timescale = inspector.query(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'", {}
            )
            if timescale:
                inspector.dialect = "timescale"
                inspector.description = f"PostgreSQL {version} with TimescaleDB {timescale[0][0]}"
            else:
                inspector.description = (
                    f"PostgreSQL {version} without TimescaleDB: plain tables, so no "
                    "hypertables, compression, retention policies or continuous aggregates"
                )
            yield inspector
        return
    path = Path(url.removeprefix("duckdb://").removeprefix("duckdb:"))
    if not path.exists() and not create:
        # Nothing to read: every table would be created.
        yield _Missing(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        database = duckdb.connect(str(path))
    except duckdb.Error as error:
        raise StoreError(f"cannot open DuckDB file {path}: {error}") from error
    with database:
        yield _DuckDB(database, description=f"DuckDB file {path}")


@dataclass
class _Missing:
    path: Path
    dialect: Dialect = "duckdb"
    description: str = ""

    def __post_init__(self) -> None:
        self.description = f"DuckDB file {self.path} (does not exist yet)"

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return []


@dataclass
class TablePlan:
    pipeline: str
    table: str
    migration: Migration
    continuous_aggregate: bool = False

    @property
    def breaking(self) -> list[Change]:
        return self.migration.breaking


@dataclass
class StorePlan:
    store: str
    dialect: Dialect
    tables: list[TablePlan] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for t in self.tables for c in t.breaking]

    @property
    def statements(self) -> list[str]:
        return [s for t in self.tables for s in t.migration.statements]


def plan_store(compiled: Compiled, inspector: Inspector) -> StorePlan:
    plan = StorePlan(inspector.description, inspector.dialect)
    for name, spec in compiled.tables.items():
        cagg = compiled.continuous.get(name)
        if cagg is not None and inspector.dialect == "timescale":
            exists = inspector.query(
                "SELECT 1 FROM timescaledb_information.continuous_aggregates "
                "WHERE view_name = %(table)s",
                {"table": spec.name},
            )
            changes = (
                []
                if exists
                else [
                    Change(
                        ChangeKind.CREATE_TABLE,
                        None,
                        f"create continuous aggregate {spec.name}",
                        False,
                    )
                ]
            )
            statements = [] if exists else [render_continuous_aggregate(cagg)]
            plan.tables.append(TablePlan(name, spec.name, Migration(statements, changes), True))
            continue
        rows = inspector.query(LIVE_COLUMNS_SQL[inspector.dialect], {"table": spec.name})
        live = live_columns(rows) if rows else None
        migration = plan_migration(live, spec, inspector.dialect)
        plan.tables.append(TablePlan(name, spec.name, migration))
    return plan


_MARKS = {False: "~", True: "!"}


def render_plan(plan: StorePlan, *, allow_breaking: bool) -> str:
    lines = [f"store: {plan.store}"]
    unchanged: list[str] = []
    for table in plan.tables:
        if not table.migration.changes:
            unchanged.append(table.table)
            continue
        for change in table.migration.changes:
            if change.kind is ChangeKind.CREATE_TABLE:
                what = "continuous aggregate" if table.continuous_aggregate else "table"
                lines.append(f"+ create {what} {table.table} (pipeline {table.pipeline})")
            else:
                mark = _MARKS[change.breaking]
                suffix = " [breaking]" if change.breaking else ""
                lines.append(f"{mark} {table.table}: {change.description}{suffix}")
    if unchanged:
        lines.append("  unchanged: " + ", ".join(unchanged))
    if not plan.tables:
        lines.append("  nothing is persisted")
    breaking = plan.breaking
    if breaking and not allow_breaking:
        lines.append(
            f"{len(breaking)} breaking change{'s' if len(breaking) != 1 else ''}: `flowc run` "
            "refuses to start; change the pipeline back, migrate the table by hand, or pass "
            "--allow-breaking to apply the rest anyway"
        )
    return "\n".join(lines)
