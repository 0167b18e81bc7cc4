"""Schema evolution: the pure diff, table-driven, then real migrations on PostgreSQL and DuckDB.

The real ones read the live columns with the query the runtime will use
(`LIVE_COLUMNS_SQL`), so they also check that what the stores report compares equal to
what our DDL created: a table made from a spec and read back must plan no change at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import duckdb
import psycopg
import pytest

from flowc.compiler.sql.ddl import ddl_statements, render_ddl
from flowc.compiler.sql.migrate import (
    LIVE_COLUMNS_SQL,
    ChangeKind,
    LiveColumn,
    Migration,
    live_columns,
    plan_migration,
)
from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.compiler.sql.types import DIALECTS, Dialect
from flowc.dsl import types as T
from tests.test_ddl import EVENTS, QUOTED, READINGS

BASE = TableSpec(
    "m",
    (
        ColumnSpec("ts", T.TIMESTAMP),
        ColumnSpec("host", T.STR),
        ColumnSpec("cpu", T.INT),
        ColumnSpec("note", T.STR.nullable_()),
    ),
    time="ts",
    key=("host",),
)
BASE_LIVE = [
    LiveColumn("ts", "timestamp with time zone", False),
    LiveColumn("host", "text", False),
    LiveColumn("cpu", "bigint", False),
    LiveColumn("note", "text", True),
]


def with_column(spec: TableSpec, name: str, type_: T.Type) -> TableSpec:
    """`spec` with column `name` retyped, or appended when it is new."""
    columns = [c for c in spec.columns if c.name != name]
    index = next((i for i, c in enumerate(spec.columns) if c.name == name), len(columns))
    columns.insert(index, ColumnSpec(name, type_))
    return dataclasses.replace(spec, columns=tuple(columns))


def live_with(name: str, data_type: str, nullable: bool = False) -> list[LiveColumn]:
    rest = [c for c in BASE_LIVE if c.name != name]
    return [*rest, LiveColumn(name, data_type, nullable)]


def kinds(plan: Migration) -> list[ChangeKind]:
    return [c.kind for c in plan.changes]


# --- the pure diff ---------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_missing_table_plans_the_whole_ddl(dialect: Dialect) -> None:
    plan = plan_migration(None, BASE, dialect)
    assert plan.statements == ddl_statements(BASE, dialect)
    assert kinds(plan) == [ChangeKind.CREATE_TABLE]
    assert plan.breaking == []


def test_matching_table_plans_nothing() -> None:
    plan = plan_migration(BASE_LIVE, BASE, "postgres")
    assert plan == Migration([], [])


def test_safe_changes_become_statements() -> None:
    spec = with_column(BASE, "cpu", T.FLOAT.nullable_())  # widened, and may now be null
    spec = with_column(spec, "load", T.FLOAT)  # new, declared non-null
    spec = with_column(spec, "note", T.STR)  # was nullable, now declared non-null
    plan = plan_migration(BASE_LIVE, spec, "postgres")
    assert plan.statements == [
        'ALTER TABLE "m" ADD COLUMN IF NOT EXISTS "load" DOUBLE PRECISION',
        'ALTER TABLE "m" ALTER COLUMN "cpu" SET DATA TYPE DOUBLE PRECISION',
        'ALTER TABLE "m" ALTER COLUMN "cpu" DROP NOT NULL',
    ]
    assert kinds(plan) == [
        ChangeKind.WIDEN_TYPE,
        ChangeKind.DROP_NOT_NULL,
        ChangeKind.KEEP_NULLABLE,
        ChangeKind.ADD_COLUMN,
    ]
    assert plan.breaking == []
    added = plan.changes[-1].description
    assert added.startswith('add column "load" DOUBLE PRECISION as nullable')


@pytest.mark.parametrize(
    ("live_type", "spec_type", "dialect", "statement"),
    [
        ("integer", T.INT, "postgres", 'ALTER COLUMN "cpu" SET DATA TYPE BIGINT'),
        ("smallint", T.FLOAT, "postgres", 'ALTER COLUMN "cpu" SET DATA TYPE DOUBLE PRECISION'),
        ("real", T.FLOAT, "timescale", 'ALTER COLUMN "cpu" SET DATA TYPE DOUBLE PRECISION'),
        ("character varying", T.STR, "postgres", 'ALTER COLUMN "cpu" SET DATA TYPE TEXT'),
        ("INTEGER", T.FLOAT, "duckdb", 'ALTER COLUMN "cpu" SET DATA TYPE DOUBLE'),
    ],
)
def test_widenings(live_type: str, spec_type: T.Type, dialect: Dialect, statement: str) -> None:
    plan = plan_migration(live_with("cpu", live_type), with_column(BASE, "cpu", spec_type), dialect)
    assert plan.statements == [f'ALTER TABLE "m" {statement}']
    assert kinds(plan) == [ChangeKind.WIDEN_TYPE]


def test_bare_array_matches_any_list() -> None:
    spec = with_column(BASE, "tags", T.list_of(T.STR))
    plan = plan_migration([*BASE_LIVE, LiveColumn("tags", "ARRAY", False)], spec, "postgres")
    assert plan == Migration([], [])


COMPRESSED = dataclasses.replace(BASE, compress_after=dt.timedelta(days=7))
INT_KEY = dataclasses.replace(BASE, key=("cpu",))


@pytest.mark.parametrize(
    ("live", "spec", "dialect", "kind", "message"),
    [
        (
            [*BASE_LIVE, LiveColumn("old", "bigint", True)],
            BASE,
            "postgres",
            ChangeKind.REMOVE_COLUMN,
            'column "old" is in the table but not in the pipeline',
        ),
        (
            live_with("cpu", "double precision"),
            BASE,
            "postgres",
            ChangeKind.CHANGE_TYPE,
            'column "cpu" is double precision in the table but BIGINT in the pipeline: that'
            " narrows it",
        ),
        (
            live_with("cpu", "text"),
            BASE,
            "postgres",
            ChangeKind.CHANGE_TYPE,
            "the types are incompatible",
        ),
        (
            live_with("cpu", "USER-DEFINED"),
            BASE,
            "postgres",
            ChangeKind.CHANGE_TYPE,
            "the types are incompatible",
        ),
        (
            live_with("cpu", "STRUCT(a BIGINT)"),
            with_column(BASE, "cpu", T.struct({"a": T.INT, "b": T.INT})),
            "duckdb",
            ChangeKind.CHANGE_TYPE,
            'column "cpu" is STRUCT(a BIGINT) in the table',
        ),
        (
            [c for c in BASE_LIVE if c.name != "ts"],
            BASE,
            "postgres",
            ChangeKind.NEW_TIME_COLUMN,
            'time column "ts" is not in the table',
        ),
        (
            BASE_LIVE,
            with_column(dataclasses.replace(BASE, key=("host", "dc")), "dc", T.STR),
            "duckdb",
            ChangeKind.NEW_KEY_COLUMN,
            'key column "dc" is not in the table',
        ),
        (
            live_with("cpu", "integer"),
            COMPRESSED,
            "timescale",
            ChangeKind.CHANGE_TYPE,
            "TimescaleDB cannot change a column's type on a hypertable with compression",
        ),
        (
            live_with("cpu", "INTEGER"),
            INT_KEY,
            "duckdb",
            ChangeKind.CHANGE_TYPE,
            "DuckDB cannot change the type of a primary key column",
        ),
    ],
)
def test_breaking_changes_are_refused_with_a_reason(
    live: list[LiveColumn], spec: TableSpec, dialect: Dialect, kind: ChangeKind, message: str
) -> None:
    plan = plan_migration(live, spec, dialect)
    (change,) = plan.breaking
    assert change.kind is kind
    assert message in change.description
    assert change.column is not None
    assert change.column in change.description
    assert plan.statements == []


def test_compression_only_blocks_type_changes_on_timescale() -> None:
    plan = plan_migration(live_with("cpu", "integer"), COMPRESSED, "postgres")
    assert kinds(plan) == [ChangeKind.WIDEN_TYPE]


# --- real stores ------------------------------------------------------------------------------

V1 = TableSpec(
    "metrics",
    (
        ColumnSpec("ts", T.TIMESTAMP),
        ColumnSpec("host", T.STR),
        ColumnSpec("cpu", T.INT),
        ColumnSpec("mem", T.INT.nullable_()),
    ),
    time="ts",
    key=("host",),
    indexes=(("cpu",),),
)
V2 = TableSpec(
    "metrics",
    (
        ColumnSpec("ts", T.TIMESTAMP),
        ColumnSpec("host", T.STR),
        ColumnSpec("cpu", T.FLOAT.nullable_()),  # widened, may be null
        ColumnSpec("mem", T.INT),  # declared non-null: the table keeps NULL allowed
        ColumnSpec("load", T.FLOAT),  # new and non-null: added nullable
        ColumnSpec("tags", T.list_of(T.STR).nullable_()),
    ),
    time="ts",
    key=("host",),
    indexes=(("cpu",), ("load",)),
)
ROUND_TRIP = [READINGS, EVENTS, QUOTED, V1, V2]


def pg_live(conn: psycopg.Connection[tuple[Any, ...]], table: str) -> list[LiveColumn] | None:
    rows = conn.execute(LIVE_COLUMNS_SQL["postgres"], {"table": table}).fetchall()
    return live_columns(rows) or None


def duck_live(conn: duckdb.DuckDBPyConnection, table: str) -> list[LiveColumn] | None:
    rows = conn.execute(LIVE_COLUMNS_SQL["duckdb"], {"table": table}).fetchall()
    return live_columns(rows) or None


def test_postgres_migration(pg_conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    first = plan_migration(pg_live(pg_conn, "metrics"), V1, "postgres")
    for statement in first.statements:
        pg_conn.execute(statement)
    pg_conn.execute(
        "INSERT INTO metrics (ts, host, cpu) VALUES (%s, 'a', 3)",
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC),),
    )
    plan = plan_migration(pg_live(pg_conn, "metrics"), V2, "postgres")
    assert plan.breaking == []
    for statement in plan.statements:
        pg_conn.execute(statement)
    pg_conn.execute(render_ddl(V2, "postgres"))  # as the runtime does at every start
    assert pg_conn.execute("SELECT cpu, load, tags FROM metrics").fetchall() == [(3.0, None, None)]
    again = plan_migration(pg_live(pg_conn, "metrics"), V2, "postgres")
    assert again.statements == []
    assert set(kinds(again)) == {ChangeKind.KEEP_NULLABLE}
    index = "SELECT 1 FROM pg_indexes WHERE indexname = 'metrics_load_idx'"
    assert pg_conn.execute(index).fetchone() == (1,)


def test_duckdb_migration() -> None:
    conn = duckdb.connect()
    for statement in plan_migration(duck_live(conn, "metrics"), V1, "duckdb").statements:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO metrics (ts, host, cpu) VALUES (?, 'a', 3)",
        [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)],
    )
    plan = plan_migration(duck_live(conn, "metrics"), V2, "duckdb")
    assert plan.breaking == []
    assert plan.statements
    for statement in plan.statements:
        conn.execute(statement)
    conn.execute(render_ddl(V2, "duckdb"))
    assert conn.execute("SELECT cpu, load, tags FROM metrics").fetchall() == [(3.0, None, None)]
    again = plan_migration(duck_live(conn, "metrics"), V2, "duckdb")
    assert again.statements == []
    assert set(kinds(again)) == {ChangeKind.KEEP_NULLABLE}


def test_postgres_refuses_what_the_plan_calls_breaking(
    pg_conn: psycopg.Connection[tuple[Any, ...]],
) -> None:
    pg_conn.execute(render_ddl(V2, "postgres"))
    narrowed = with_column(V2, "cpu", T.INT.nullable_())
    plan = plan_migration(pg_live(pg_conn, "metrics"), narrowed, "postgres")
    assert [c.column for c in plan.breaking] == ["cpu"]


@pytest.mark.parametrize("spec", ROUND_TRIP, ids=lambda s: s.name)
def test_postgres_tables_read_back_as_their_spec(
    spec: TableSpec, pg_conn: psycopg.Connection[tuple[Any, ...]]
) -> None:
    pg_conn.execute(render_ddl(spec, "postgres"))
    assert plan_migration(pg_live(pg_conn, spec.name), spec, "postgres") == Migration([], [])


@pytest.mark.parametrize("spec", ROUND_TRIP, ids=lambda s: s.name)
def test_duckdb_tables_read_back_as_their_spec(spec: TableSpec) -> None:
    conn = duckdb.connect()
    conn.execute(render_ddl(spec, "duckdb"))
    assert plan_migration(duck_live(conn, spec.name), spec, "duckdb") == Migration([], [])
