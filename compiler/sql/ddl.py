"""DDL for a persisted pipeline's table, in every dialect, from one `TableSpec`.

The table and its indexes are sqlglot expressions rendered per dialect with every
identifier quoted; the TimescaleDB-only statements come from `ddl_timescale`'s templates.
Every statement is idempotent (`IF NOT EXISTS`, `if_not_exists => TRUE`), so the runtime
applies the whole script at every start.

What each store gets:

- timescale: the table, `create_hypertable`, a unique index on the key (plus the time
  column, which a hypertable's unique index must contain), the declared indexes, then
  compression and retention when asked for. TimescaleDB makes the time index itself.
- postgres: the same table and indexes, and a time index named like TimescaleDB's, so the
  two schemas match and a database can later be converted to a hypertable.
- duckdb: the table with the same key as its PRIMARY KEY and nothing else: an ART index
  beside the table makes DuckDB refuse `ALTER COLUMN` on it (schema evolution), and its
  min-max zonemaps already prune time-range scans.
"""

from __future__ import annotations

import hashlib

import sqlglot.expressions as exp

from flowc.compiler.sql.ddl_timescale import (
    hypertable_statements,
    quote_ident,
    render_continuous_aggregate,
)
from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.compiler.sql.types import Dialect, column_type, sqlglot_dialect
from flowc.dsl.types import Kind

__all__ = [
    "ddl_statements",
    "index_name",
    "not_null",
    "render_continuous_aggregate",
    "render_ddl",
    "unique_key",
]

# PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1); two long index names
# that truncate alike would make the second `IF NOT EXISTS` a silent no-op.
_MAX_IDENTIFIER = 63


def render_ddl(spec: TableSpec, dialect: Dialect) -> str:
    """The whole script for the table: statements separated by a blank line, each ending `;`."""
    return ";\n\n".join(ddl_statements(spec, dialect)) + ";\n"


def ddl_statements(spec: TableSpec, dialect: Dialect) -> list[str]:
    """The script's statements, without semicolons, for drivers that run one at a time."""
    check_spec(spec)
    table = _create_table(spec, dialect)
    if dialect == "duckdb":
        return [table]
    # create_hypertable comes right after the table, so every index is made on the
    # hypertable (and so on its chunks); compression and retention come last.
    timescale = hypertable_statements(spec) if dialect == "timescale" else []
    statements = [table, *timescale[:1]]
    if spec.key:
        statements.append(_key_comment(spec) + _unique_index(spec, dialect))
    indexes = [(spec.time,), *spec.indexes] if dialect == "postgres" else list(spec.indexes)
    seen: set[str] = set()
    for columns in indexes:
        name = index_name(spec.name, columns, "idx")
        if name not in seen and tuple(columns) != unique_key(spec):
            seen.add(name)
            statements.append(_index(spec, columns, name, dialect))
    return statements + timescale[1:]


def unique_key(spec: TableSpec) -> tuple[str, ...]:
    """The columns of the table's unique index: the declared key, plus time if it lacks it.

    TimescaleDB requires the time column in every unique index of a hypertable; the other
    stores use the same columns so that "the same row" means the same thing everywhere and
    the runtime's `ON CONFLICT (...)` target is one list. Empty when there is no key.
    """
    if not spec.key:
        return ()
    return spec.key if spec.time in spec.key else (*spec.key, spec.time)


def not_null(spec: TableSpec, column: ColumnSpec) -> bool:
    """Whether the column is declared NOT NULL.

    The time column and the key's columns always are: a hypertable's time column must be,
    DuckDB's primary key columns are anyway, and a null key would defeat idempotent
    inserts. A `json` column never is, since a JSON null is stored as SQL NULL. Otherwise
    it follows the type's `?`.
    """
    if column.name == spec.time or column.name in spec.key:
        return True
    return not column.type.may_be_null


def index_name(table: str, columns: tuple[str, ...], suffix: str) -> str:
    """`<table>_<columns>_<suffix>`, shortened with a hash when PostgreSQL would truncate it.

    Matches TimescaleDB's own naming for the time index (`<table>_<time>_idx`), so the
    plain-PostgreSQL time index and TimescaleDB's default one are the same object.
    """
    name = "_".join((table, *columns, suffix))
    if len(name.encode()) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    head = name.encode()[: _MAX_IDENTIFIER - len(digest) - 1].decode(errors="ignore")
    return f"{head}_{digest}"


def check_spec(spec: TableSpec) -> None:
    """Reject a spec whose time, key or indexes name columns it does not have."""
    names = [c.name for c in spec.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"table {spec.name!r} has duplicate columns")
    for role, columns in [
        ("time", (spec.time,)),
        ("key", spec.key),
        *(("index", index) for index in spec.indexes),
    ]:
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"table {spec.name!r}: {role} column(s) {missing} are not columns")
    time_kind = spec.column(spec.time).type.kind
    if time_kind not in (Kind.TIMESTAMP, Kind.DATE):
        raise ValueError(f"table {spec.name!r}: time column {spec.time!r} is {time_kind}")


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _column(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _create_table(spec: TableSpec, dialect: Dialect) -> str:
    columns: list[exp.Expression] = []
    for column in spec.columns:
        constraints = (
            [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
            if not_null(spec, column)
            else []
        )
        columns.append(
            exp.ColumnDef(
                this=exp.to_identifier(column.name, quoted=True),
                kind=column_type(column.type, dialect),
                constraints=constraints,
            )
        )
    comment = ""
    if dialect == "duckdb":
        if spec.key:
            columns.append(exp.PrimaryKey(expressions=[_column(c) for c in unique_key(spec)]))
            comment = _key_comment(spec)
        if spec.indexes:
            comment += (
                "-- No secondary indexes on DuckDB: an ART index blocks ALTER COLUMN on its\n"
                "-- table, and min-max zonemaps already prune scans.\n"
            )
    create = exp.Create(
        this=exp.Schema(this=_table(spec.name), expressions=columns), kind="TABLE", exists=True
    )
    return comment + create.sql(dialect=sqlglot_dialect(dialect), identify=True, pretty=True)


def _key_comment(spec: TableSpec) -> str:
    """A SQL comment saying why the unique index has a column the key did not declare."""
    if not spec.key or spec.time in spec.key:
        return ""
    key = ", ".join(quote_ident(c) for c in spec.key)
    time = quote_ident(spec.time)
    return (
        f"-- The key ({key}) lacks the time column {time}, so {time} is appended:\n"
        "-- a hypertable's unique index must contain its partitioning column,\n"
        "-- and every store keeps the same key.\n"
    )


def _unique_index(spec: TableSpec, dialect: Dialect) -> str:
    key = unique_key(spec)
    return _index(spec, key, index_name(spec.name, key, "key"), dialect, unique=True)


def _index(
    spec: TableSpec, columns: tuple[str, ...], name: str, dialect: Dialect, unique: bool = False
) -> str:
    """`CREATE [UNIQUE] INDEX IF NOT EXISTS`; the time column alone is indexed newest first."""
    # PostgreSQL's default null order for each direction, so sqlglot writes none.
    desc = columns == (spec.time,)
    ordered = [exp.Ordered(this=_column(c), desc=desc or None, nulls_first=desc) for c in columns]
    create = exp.Create(
        kind="INDEX",
        exists=True,
        unique=unique,
        this=exp.Index(
            this=exp.to_identifier(name, quoted=True),
            table=_table(spec.name),
            params=exp.IndexParameters(columns=ordered),
        ),
    )
    return create.sql(dialect=sqlglot_dialect(dialect), identify=True)
