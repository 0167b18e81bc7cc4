"""DDL for persisted pipelines: golden text, parsed back, checked against TimescaleDB's
function signatures, and applied to real PostgreSQL and DuckDB.

The TimescaleDB extension cannot be installed here, so its DDL is trusted three ways: the
golden files are reviewed like code; every statement parses with sqlglot; and every
`SELECT fn(...)` is checked against the signatures below, copied from the TimescaleDB 2.x
sources (sql/ddl_api.sql, sql/policy_api.sql) and API docs. The same table then becomes
stub functions in a real PostgreSQL, where the script runs for real: arity, parameter
names, REGCLASS lookups of the quoted table names and types are checked by the server.

Run `pytest --update-golden` to rewrite tests/golden/ddl/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import psycopg
import pytest
import sqlglot
import sqlglot.expressions as exp

from flowc.compiler.sql.ddl import (
    ddl_statements,
    index_name,
    render_continuous_aggregate,
    render_ddl,
    unique_key,
)
from flowc.compiler.sql.ddl_timescale import interval_text
from flowc.compiler.sql.spec import ColumnSpec, ContinuousAggregateSpec, TableSpec
from flowc.compiler.sql.types import DIALECTS, Dialect, column_type, sqlglot_dialect
from flowc.dsl import types as T
from tests.postgres import ThrowawayCluster, find_bindir, fresh_database

GOLDEN = Path(__file__).parent / "golden" / "ddl"

POINT = T.struct({"lat": T.FLOAT, "lon": T.FLOAT}, name="Point")
READINGS = TableSpec(
    "readings",
    (
        ColumnSpec("ts", T.TIMESTAMP),
        ColumnSpec("city", T.STR),
        ColumnSpec("temp", T.FLOAT.nullable_()),
        ColumnSpec("tags", T.list_of(T.STR).nullable_()),
    ),
    time="ts",
    key=("city",),
    retention=dt.timedelta(days=90),
    compress_after=dt.timedelta(days=7),
    indexes=(("temp",),),
)
EVENTS = TableSpec(
    "events",
    (
        ColumnSpec("at", T.TIMESTAMP),
        ColumnSpec("n", T.INT),
        ColumnSpec("x", T.FLOAT),
        ColumnSpec("ok", T.BOOL.nullable_()),
        ColumnSpec("day", T.DATE),
        ColumnSpec("took", T.DURATION.nullable_()),
        ColumnSpec("raw", T.JSON),
        ColumnSpec("ids", T.list_of(T.INT)),
        ColumnSpec("where", POINT.nullable_()),
        ColumnSpec("path", T.list_of(POINT).nullable_()),
    ),
    time="at",
    chunk=dt.timedelta(hours=1),
)
# Names that only survive if every identifier is quoted: case, spaces, keywords, quotes.
QUOTED = TableSpec(
    "Order Lines",
    (
        ColumnSpec("Time", T.TIMESTAMP),
        ColumnSpec("select", T.STR),
        ColumnSpec('say "hi"', T.INT.nullable_()),
    ),
    time="Time",
    key=("select", "Time"),
    chunk=dt.timedelta(minutes=30),
    retention=dt.timedelta(milliseconds=500),
    compress_after=dt.timedelta(hours=12),
    indexes=(('say "hi"', "Time"),),
)
TABLES = {"readings": READINGS, "events": EVENTS, "quoted": QUOTED}

HOURLY_SELECT = (
    exp.select(
        exp.func(
            "time_bucket", exp.Interval(this=exp.Literal.string("1 hour")), exp.column("ts")
        ).as_("bucket"),
        exp.column("city"),
        exp.func("avg", exp.column("temp")).as_("avg_temp"),
    )
    .from_("readings")
    .group_by(exp.column("bucket"), exp.column("city"))
)
AGGREGATES = {
    "readings_hourly": ContinuousAggregateSpec(
        "readings_hourly",
        "readings",
        dt.timedelta(hours=1),
        HOURLY_SELECT,
        start_offset=dt.timedelta(days=3),
    ),
    "readings_open": ContinuousAggregateSpec(
        "readings_open",
        "readings",
        dt.timedelta(hours=1),
        HOURLY_SELECT,
        end_offset=dt.timedelta(minutes=30),
        schedule_interval=dt.timedelta(minutes=15),
    ),
}


# --- TimescaleDB 2.x signatures --------------------------------------------------------------


class Param(NamedTuple):
    name: str
    type: str  # as declared by TimescaleDB; '"any"' is its C-only pseudo-type
    required: bool = False


TIMESCALE_FUNCTIONS: dict[str, tuple[Param, ...]] = {
    # create_hypertable, generalized interface (2.13+)
    "create_hypertable": (
        Param("relation", "REGCLASS", True),
        Param("dimension", "DIMENSION_INFO", True),
        Param("create_default_indexes", "BOOLEAN"),
        Param("if_not_exists", "BOOLEAN"),
        Param("migrate_data", "BOOLEAN"),
    ),
    "by_range": (
        Param("column_name", "NAME", True),
        Param("partition_interval", "ANYELEMENT"),
        Param("partition_func", "REGPROC"),
        Param("partition_origin", '"any"'),
    ),
    "add_compression_policy": (
        Param("hypertable", "REGCLASS", True),
        Param("compress_after", '"any"'),
        Param("if_not_exists", "BOOLEAN"),
        Param("schedule_interval", "INTERVAL"),
        Param("initial_start", "TIMESTAMPTZ"),
        Param("timezone", "TEXT"),
        Param("compress_created_before", "INTERVAL"),
    ),
    "add_retention_policy": (
        Param("relation", "REGCLASS", True),
        Param("drop_after", '"any"'),
        Param("if_not_exists", "BOOLEAN"),
        Param("schedule_interval", "INTERVAL"),
        Param("initial_start", "TIMESTAMPTZ"),
        Param("timezone", "TEXT"),
        Param("drop_created_before", "INTERVAL"),
    ),
    "add_continuous_aggregate_policy": (
        Param("continuous_aggregate", "REGCLASS", True),
        Param("start_offset", '"any"', True),
        Param("end_offset", '"any"', True),
        Param("schedule_interval", "INTERVAL", True),
        Param("if_not_exists", "BOOLEAN"),
        Param("initial_start", "TIMESTAMPTZ"),
        Param("timezone", "TEXT"),
        Param("include_tiered_data", "BOOLEAN"),
        Param("buckets_per_batch", "INTEGER"),
        Param("max_batches_per_execution", "INTEGER"),
        Param("refresh_newest_first", "BOOLEAN"),
    ),
}


def _regclass_ok(arg: exp.Expression) -> bool:
    """A quoted identifier in a string, as a case-preserving REGCLASS argument needs."""
    if not (isinstance(arg, exp.Literal) and arg.is_string):
        return False
    table = sqlglot.parse_one(arg.this, into=exp.Table, read="postgres")
    return bool(table.this.quoted) and arg.this == table.sql("postgres", identify=True)


ARGUMENT_CHECKS: dict[str, Callable[[exp.Expression], bool]] = {
    "REGCLASS": _regclass_ok,
    "NAME": lambda a: isinstance(a, exp.Literal) and a.is_string,
    "BOOLEAN": lambda a: isinstance(a, exp.Boolean),
    "INTERVAL": lambda a: isinstance(a, exp.Interval),
    '"any"': lambda a: isinstance(a, exp.Interval | exp.Null),
    "ANYELEMENT": lambda a: isinstance(a, exp.Interval),
    "DIMENSION_INFO": lambda a: isinstance(a, exp.Anonymous) and a.name == "by_range",
}


def check_call(call: exp.Anonymous) -> None:
    """Arity, named parameters and argument kinds of one call against the table above."""
    name = call.name.lower()
    assert name in TIMESCALE_FUNCTIONS, f"unknown TimescaleDB function {name}"
    params = TIMESCALE_FUNCTIONS[name]
    positional = [a for a in call.expressions if not isinstance(a, exp.Kwarg)]
    named = {a.this.name: a.expression for a in call.expressions if isinstance(a, exp.Kwarg)}
    assert call.expressions[: len(positional)] == positional, "positional after named"
    assert len(positional) <= len(params), f"{name}: too many arguments"
    given = dict(zip((p.name for p in params), positional, strict=False))
    by_name = {p.name: p for p in params}
    for key, value in named.items():
        assert key in by_name, f"{name} has no parameter {key}"
        assert key not in given, f"{name}: {key} given twice"
        given[key] = value
    for param in params:
        if param.required:
            assert param.name in given, f"{name}: {param.name} is required"
        if param.name in given:
            assert ARGUMENT_CHECKS[param.type](given[param.name]), f"{name}.{param.name}"


def timescale_calls(script: str) -> list[exp.Anonymous]:
    calls = []
    for statement in sqlglot.parse(script, read="postgres"):
        assert statement is not None
        if isinstance(statement, exp.Select):
            calls += list(statement.find_all(exp.Anonymous))
    return calls


CAGG = re.compile(
    r'CREATE MATERIALIZED VIEW IF NOT EXISTS (?P<name>"(?:[^"]|"")+")\n'
    r"WITH \(timescaledb\.continuous\) AS\n(?P<select>.*)\nWITH NO DATA;\n\n(?P<policy>.*)",
    re.DOTALL,
)


# --- text ------------------------------------------------------------------------------------


def check_golden(path: Path, text: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs (--update-golden)"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", TABLES)
def test_table_ddl_matches_golden(case: str, dialect: Dialect, update_golden: bool) -> None:
    check_golden(GOLDEN / f"{case}.{dialect}.sql", render_ddl(TABLES[case], dialect), update_golden)


@pytest.mark.parametrize("case", AGGREGATES)
def test_continuous_aggregate_matches_golden(case: str, update_golden: bool) -> None:
    text = render_continuous_aggregate(AGGREGATES[case])
    check_golden(GOLDEN / f"{case}.timescale.sql", text, update_golden)


@pytest.mark.parametrize(
    ("type_", "postgres", "duckdb"),
    [
        (T.INT, "BIGINT", "BIGINT"),
        (T.FLOAT, "DOUBLE PRECISION", "DOUBLE"),
        (T.BOOL, "BOOLEAN", "BOOLEAN"),
        (T.STR, "TEXT", "TEXT"),
        (T.TIMESTAMP, "TIMESTAMPTZ", "TIMESTAMPTZ"),
        (T.DATE, "DATE", "DATE"),
        (T.DURATION, "INTERVAL", "INTERVAL"),
        (T.JSON, "JSONB", "JSON"),
        (T.list_of(T.INT), "BIGINT[]", "BIGINT[]"),
        (T.list_of(T.list_of(T.INT)), "JSONB", "BIGINT[][]"),
        (T.list_of(T.JSON), "JSONB", "JSON[]"),
        (POINT, "JSONB", 'STRUCT("lat" DOUBLE, "lon" DOUBLE)'),
        (T.list_of(POINT), "JSONB", 'STRUCT("lat" DOUBLE, "lon" DOUBLE)[]'),
    ],
)
def test_type_mapping(type_: T.Type, postgres: str, duckdb: str) -> None:
    cases: list[tuple[Dialect, str]] = [
        ("timescale", postgres),
        ("postgres", postgres),
        ("duckdb", duckdb),
    ]
    for dialect, expected in cases:
        rendered = column_type(type_, dialect).sql(sqlglot_dialect(dialect), identify=True)
        assert rendered == expected, dialect


def test_null_type_has_no_column() -> None:
    with pytest.raises(ValueError, match="no column type"):
        column_type(T.NULL, "postgres")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(days=1), "1 day"),
        (dt.timedelta(days=90), "90 days"),
        (dt.timedelta(hours=1), "1 hour"),
        (dt.timedelta(hours=36), "36 hours"),
        (dt.timedelta(minutes=30), "30 minutes"),
        (dt.timedelta(seconds=90), "90 seconds"),
        (dt.timedelta(milliseconds=500), "500 milliseconds"),
        (dt.timedelta(microseconds=1500), "1500 microseconds"),
    ],
)
def test_intervals_are_canonical(delta: dt.timedelta, text: str) -> None:
    assert interval_text(delta) == text


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        interval_text(dt.timedelta(0))


def test_spec_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="key column"):
        render_ddl(TableSpec("t", READINGS.columns, time="ts", key=("nope",)), "postgres")
    with pytest.raises(ValueError, match="time column 'city' is str"):
        render_ddl(TableSpec("t", READINGS.columns, time="city"), "duckdb")


def test_long_index_names_stay_distinct_within_postgres_limit() -> None:
    a = index_name("t" * 40, ("a" * 30, "x"), "idx")
    b = index_name("t" * 40, ("a" * 30, "y"), "idx")
    assert a != b
    assert len(a.encode()) == len(b.encode()) == 63


def test_key_gets_the_time_column() -> None:
    assert unique_key(READINGS) == ("city", "ts")
    assert unique_key(QUOTED) == ("select", "Time")
    assert unique_key(EVENTS) == ()


# --- parsed back -----------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", TABLES)
def test_ddl_parses_back_with_every_identifier_quoted(case: str, dialect: Dialect) -> None:
    spec = TABLES[case]
    for text in ddl_statements(spec, dialect):
        statement = sqlglot.parse_one(text, read=sqlglot_dialect(dialect))
        if isinstance(statement, exp.Alter) and isinstance(
            statement.args["actions"][0], exp.AlterSet
        ):
            continue  # timescaledb.compress options are parameters, not identifiers
        for identifier in statement.find_all(exp.Identifier):
            assert identifier.quoted, f"unquoted {identifier.name} in {text}"
    create = sqlglot.parse_one(ddl_statements(spec, dialect)[0], read=sqlglot_dialect(dialect))
    columns = [c for c in create.find_all(exp.ColumnDef) if c.parent is create.this]
    assert [c.name for c in columns] == [c.name for c in spec.columns]


@pytest.mark.parametrize("case", TABLES)
def test_timescale_calls_match_signatures(case: str) -> None:
    spec = TABLES[case]
    calls = timescale_calls(render_ddl(spec, "timescale"))
    names = [c.name for c in calls]
    assert names[:2] == ["create_hypertable", "by_range"]
    assert ("add_compression_policy" in names) == (spec.compress_after is not None)
    assert ("add_retention_policy" in names) == (spec.retention is not None)
    for call in calls:
        check_call(call)


@pytest.mark.parametrize("case", TABLES)
def test_compression_settings_name_real_columns(case: str) -> None:
    spec = TABLES[case]
    options = {}
    for statement in sqlglot.parse(render_ddl(spec, "timescale"), read="postgres"):
        if isinstance(statement, exp.Alter):
            for option in statement.args["actions"][0].expressions:
                if isinstance(option, exp.EQ):
                    options[option.this.name] = option.expression.this
    if spec.compress_after is None:
        assert options == {}
        return
    segmentby = [c for c in spec.key if c != spec.time]
    if segmentby:  # TimescaleDB parses the setting as a GROUP BY list
        group = sqlglot.parse_one(
            f"SELECT 1 GROUP BY {options['compress_segmentby']}", read="postgres"
        )
        assert [c.name for c in group.find_all(exp.Column)] == segmentby
    else:
        assert "compress_segmentby" not in options
    order = sqlglot.parse_one(f"SELECT 1 ORDER BY {options['compress_orderby']}", read="postgres")
    (ordered,) = order.args["order"].expressions
    assert ordered.this.name == spec.time
    assert ordered.args["desc"]


@pytest.mark.parametrize("case", AGGREGATES)
def test_continuous_aggregate_parses_back(case: str) -> None:
    spec = AGGREGATES[case]
    match = CAGG.fullmatch(render_continuous_aggregate(spec))
    assert match, "the continuous aggregate template changed shape"
    assert sqlglot.parse_one(match["name"], into=exp.Table, read="postgres").name == spec.name
    # Both through the parser, which normalises what it reads (INTERVAL '1 hour' -> '1 HOUR').
    ours = sqlglot.parse_one(spec.select.sql("postgres", identify=True), read="postgres")
    assert sqlglot.parse_one(match["select"], read="postgres") == ours
    (call,) = timescale_calls(match["policy"])
    check_call(call)
    start = call.find(exp.Kwarg)
    assert start is not None
    assert start.this.name == "start_offset"
    assert isinstance(start.expression, exp.Null) == (spec.start_offset is None)


# --- applied ---------------------------------------------------------------------------------

# TimescaleDB's functions as stubs: same names, parameters and defaults; '"any"' (C only)
# becomes interval, the only thing we pass there; dimension_info is a stand-in type.
STUB_TYPES = {'"any"': "interval", "DIMENSION_INFO": "dimension_info"}


def stub_functions() -> str:
    statements = ["CREATE TYPE dimension_info AS (column_name name)"]
    for name, params in TIMESCALE_FUNCTIONS.items():
        args = ", ".join(
            f"{p.name} {STUB_TYPES.get(p.type, p.type)}"
            + (
                ""
                if p.required
                else " DEFAULT NULL" + ("::bigint" if p.type == "ANYELEMENT" else "")
            )
            for p in params
        )
        returns = "dimension_info" if name == "by_range" else "integer"
        body = "SELECT ROW($1)::dimension_info" if name == "by_range" else "SELECT 1"
        statements.append(
            f"CREATE FUNCTION {name}({args}) RETURNS {returns} LANGUAGE sql AS $$ {body} $$"
        )
    statements.append(
        "CREATE FUNCTION time_bucket(width interval, ts timestamptz) RETURNS timestamptz"
        " LANGUAGE sql IMMUTABLE AS $$ SELECT date_bin(width, ts, TIMESTAMPTZ '2000-01-03') $$"
    )
    return ";\n".join(statements)


@pytest.mark.parametrize("case", TABLES)
def test_timescale_script_runs_against_signature_stubs(
    case: str, pg_conn: psycopg.Connection[tuple[Any, ...]]
) -> None:
    pg_conn.execute(stub_functions())
    for _ in range(2):
        for text in ddl_statements(TABLES[case], "timescale"):
            if not text.startswith("ALTER TABLE"):  # timescaledb.* options need the extension
                pg_conn.execute(text)


def test_continuous_aggregate_runs_against_signature_stubs(
    pg_conn: psycopg.Connection[tuple[Any, ...]],
) -> None:
    pg_conn.execute(stub_functions())
    pg_conn.execute(render_ddl(READINGS, "postgres"))
    for spec in AGGREGATES.values():
        script = render_continuous_aggregate(spec).replace("WITH (timescaledb.continuous) AS", "AS")
        pg_conn.execute(script)
        pg_conn.execute(script)


PG_TYPES = {
    "at": "timestamp with time zone", "n": "bigint", "x": "double precision", "ok": "boolean",
    "day": "date", "took": "interval", "raw": "jsonb", "ids": "ARRAY", "where": "jsonb",
    "path": "jsonb",
}  # fmt: skip
DUCKDB_TYPES = {
    "at": "TIMESTAMP WITH TIME ZONE", "n": "BIGINT", "x": "DOUBLE", "ok": "BOOLEAN", "day": "DATE",
    "took": "INTERVAL", "raw": "JSON", "ids": "BIGINT[]", "where": "STRUCT(lat DOUBLE, lon DOUBLE)",
    "path": "STRUCT(lat DOUBLE, lon DOUBLE)[]",
}  # fmt: skip
NULLABLE = {"ok", "took", "raw", "where", "path"}


def test_postgres_ddl_applies_and_holds(pg_conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    for spec in TABLES.values():
        pg_conn.execute(render_ddl(spec, "postgres"))
        pg_conn.execute(render_ddl(spec, "postgres"))  # idempotent
    rows = pg_conn.execute(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
        " WHERE table_name = 'events'"
    ).fetchall()
    assert {r[0]: r[1] for r in rows} == PG_TYPES
    assert {r[0] for r in rows if r[2]} == NULLABLE
    insert = 'INSERT INTO "Order Lines" ("Time", "select") VALUES (%s, %s)'
    pg_conn.execute(insert, (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "a"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg_conn.execute(insert, (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "a"))
    indexes = pg_conn.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'readings' ORDER BY 1"
    ).fetchall()
    assert [i[0] for i in indexes] == [
        "readings_city_ts_key",
        "readings_temp_idx",
        "readings_ts_idx",
    ]


def test_duckdb_ddl_applies_and_holds() -> None:
    conn = duckdb.connect()
    for spec in TABLES.values():
        conn.execute(render_ddl(spec, "duckdb"))
        conn.execute(render_ddl(spec, "duckdb"))  # idempotent
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
        " WHERE table_name = 'events'"
    ).fetchall()
    assert {r[0]: r[1] for r in rows} == DUCKDB_TYPES
    assert {r[0] for r in rows if r[2]} == NULLABLE
    insert = 'INSERT INTO "readings" ("ts", "city", "temp") VALUES (?, ?, ?)'
    conn.execute(insert, [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "Oslo", 1.5])
    with pytest.raises(duckdb.ConstraintException):
        conn.execute(insert, [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "Oslo", 2.5])
    conn.execute(insert, [dt.datetime(2024, 1, 2, tzinfo=dt.UTC), "Oslo", 2.5])


@pytest.mark.skipif(find_bindir() is None, reason="no initdb/pg_ctl on this machine")
def test_throwaway_cluster_fallback() -> None:
    bindir = find_bindir()
    assert bindir is not None
    with ThrowawayCluster(bindir) as cluster:
        root = cluster.root
        with fresh_database(cluster.dsn) as url, psycopg.connect(url, autocommit=True) as conn:
            conn.execute(render_ddl(READINGS, "postgres"))
            assert conn.execute("SELECT count(*) FROM readings").fetchone() == (0,)
    assert not root.exists()
