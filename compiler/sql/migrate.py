"""Schema evolution: what to change in a live table so it matches a pipeline's new spec.

A pure diff, no I/O: the runtime reads the live columns (with `LIVE_COLUMNS_SQL`), calls
`plan_migration`, refuses to start if the plan has breaking changes, and otherwise runs
`statements` and then the table's DDL script as at every start (which creates any index
or policy that is new, since every DDL statement is idempotent).

The rules, chosen so that no data is ever lost or rewritten behind the user's back:

- A new column is added, always as nullable: existing rows have no value for it. When the
  pipeline declares it non-null, the table still allows NULL; flowc's validation keeps
  nulls out of new rows, and the plan says so (kind `keep_nullable`, not breaking).
- For the same reason a column that was nullable and is now declared non-null stays
  nullable in the table (`keep_nullable`): tightening would fail on any existing NULL,
  and refusing to start would make the previous rule refuse every later start.
- A type is only changed when the new one holds every old value (`widen_type`):
  smallint → integer → bigint → double precision, real → double precision,
  varchar → text. Everything else is breaking.
- A column declared nullable that was NOT NULL loses its constraint (`drop_not_null`).
- Breaking, never applied: a column removed from the pipeline (flowc never drops data), a
  narrowed or unrelated type, a time column or key column the table does not have (a
  hypertable cannot change its partitioning column, and a unique key cannot change in
  place), a type change on a TimescaleDB hypertable with compression enabled, or on a
  DuckDB primary-key column, which those stores refuse.

Not detected: a change of key among existing columns, or of indexes (the DDL re-run adds
new indexes but leaves old ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlglot.errors
import sqlglot.expressions as exp

from flowc.compiler.sql.ddl import ddl_statements, not_null, unique_key
from flowc.compiler.sql.ddl_timescale import quote_ident
from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.compiler.sql.types import Dialect, column_type, normalized, sqlglot_dialect

_POSTGRES_LIVE_COLUMNS = """\
SELECT
  c.column_name,
  CASE
    WHEN c.data_type = 'ARRAY' THEN coalesce(
      format_type(to_regtype(quote_ident(c.udt_schema) || '.' || quote_ident(c.udt_name)), NULL),
      'ARRAY')
    ELSE c.data_type
  END AS data_type,
  c.is_nullable = 'YES' AS is_nullable
FROM information_schema.columns AS c
WHERE c.table_schema = current_schema() AND c.table_name = %(table)s
ORDER BY c.ordinal_position"""

_DUCKDB_LIVE_COLUMNS = """\
SELECT column_name, data_type, is_nullable = 'YES' AS is_nullable
FROM information_schema.columns
WHERE table_catalog = current_database() AND table_schema = current_schema()
  AND table_name = $table
ORDER BY ordinal_position"""

LIVE_COLUMNS_SQL: Mapping[Dialect, str] = {
    "timescale": _POSTGRES_LIVE_COLUMNS,
    "postgres": _POSTGRES_LIVE_COLUMNS,
    "duckdb": _DUCKDB_LIVE_COLUMNS,
}
"""The query that reads a table's columns, per dialect, in its driver's parameter style:
run it with `{"table": name}` (psycopg's `%(table)s`, DuckDB's `$table`) and pass the rows
to `live_columns`. No rows means no table: plan with `live=None`. On PostgreSQL an
array's element type comes from the catalog, since information_schema only says 'ARRAY'."""


@dataclass(frozen=True, slots=True)
class LiveColumn:
    """A column of the table as the store reports it (information_schema's spelling)."""

    name: str
    data_type: str  # 'bigint', 'double precision', 'timestamp with time zone', 'BIGINT[]', ...
    is_nullable: bool


def live_columns(rows: Iterable[Sequence[object]]) -> list[LiveColumn]:
    """LiveColumns from the rows of `LIVE_COLUMNS_SQL` (name, data_type, is_nullable)."""
    return [LiveColumn(str(name), str(type_), bool(null)) for name, type_, null in rows]


class ChangeKind(StrEnum):
    CREATE_TABLE = "create_table"
    ADD_COLUMN = "add_column"
    WIDEN_TYPE = "widen_type"
    DROP_NOT_NULL = "drop_not_null"
    KEEP_NULLABLE = "keep_nullable"
    # breaking ones
    REMOVE_COLUMN = "remove_column"
    CHANGE_TYPE = "change_type"
    NEW_TIME_COLUMN = "new_time_column"
    NEW_KEY_COLUMN = "new_key_column"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the table and the spec; `description` names the column."""

    kind: ChangeKind
    column: str | None  # None for the whole table
    description: str
    breaking: bool


@dataclass(frozen=True, slots=True)
class Migration:
    """What to run (in order) and why. Apply nothing when `breaking` is not empty."""

    statements: list[str]
    changes: list[Change]

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]


_T = exp.DType

# (from, to) pairs where every value of `from` converts to `to` without error; PostgreSQL
# and DuckDB both convert these implicitly in `ALTER COLUMN ... TYPE`.
_WIDENINGS: frozenset[tuple[exp.DType, exp.DType]] = frozenset(
    {
        (_T.SMALLINT, _T.INT),
        (_T.SMALLINT, _T.BIGINT),
        (_T.INT, _T.BIGINT),
        (_T.SMALLINT, _T.DOUBLE),
        (_T.INT, _T.DOUBLE),
        (_T.BIGINT, _T.DOUBLE),
        (_T.FLOAT, _T.DOUBLE),
        (_T.VARCHAR, _T.TEXT),
        (_T.CHAR, _T.TEXT),
    }
)


def plan_migration(
    live: Sequence[LiveColumn] | None, spec: TableSpec, dialect: Dialect
) -> Migration:
    """The statements that take the live table to `spec`, and every difference found.

    `live=None` means the table does not exist: the plan is the table's whole DDL.
    """
    if live is None:
        created = Change(
            ChangeKind.CREATE_TABLE, None, f"create table {quote_ident(spec.name)}", False
        )
        return Migration(ddl_statements(spec, dialect), [created])
    planner = _Planner(spec, dialect)
    by_name = {c.name: c for c in live}
    for column in spec.columns:
        current = by_name.get(column.name)
        if current is None:
            planner.missing(column)
        else:
            planner.compare(column, current)
    wanted = {c.name for c in spec.columns}
    for current in live:
        if current.name not in wanted:
            planner.change(
                ChangeKind.REMOVE_COLUMN,
                current.name,
                f"column {quote_ident(current.name)} is in the table but not in the pipeline:"
                " flowc never drops a column, as its data would be lost; drop it by hand,"
                " or declare it again",
            )
    # Additions first: a later statement of the DDL re-run may index a new column.
    statements = planner.adds + planner.alters
    return Migration(statements, planner.changes)


class _Planner:
    """Collects statements and changes for one table."""

    def __init__(self, spec: TableSpec, dialect: Dialect) -> None:
        self.spec = spec
        self.dialect = dialect
        self.adds: list[str] = []
        self.alters: list[str] = []
        self.changes: list[Change] = []

    def change(self, kind: ChangeKind, column: str, description: str) -> None:
        breaking = kind in _BREAKING
        self.changes.append(Change(kind, column, description, breaking))

    def missing(self, column: ColumnSpec) -> None:
        name = quote_ident(column.name)
        if column.name == self.spec.time:
            self.change(
                ChangeKind.NEW_TIME_COLUMN,
                column.name,
                f"time column {name} is not in the table: existing rows have no time, and a"
                " hypertable cannot change its partitioning column",
            )
            return
        if column.name in unique_key(self.spec):
            self.change(
                ChangeKind.NEW_KEY_COLUMN,
                column.name,
                f"key column {name} is not in the table: existing rows have no value for it,"
                " and the table's unique key cannot change in place",
            )
            return
        type_ = column_type(column.type, self.dialect)
        definition = exp.ColumnDef(
            this=exp.to_identifier(column.name, quoted=True), kind=type_, exists=True
        )
        self.adds.append(self._alter(definition))
        description = f"add column {name} {self._spell(type_)}"
        if not_null(self.spec, column):
            description += (
                " as nullable: existing rows have no value for it (flowc still rejects"
                " null values before inserting)"
            )
        self.change(ChangeKind.ADD_COLUMN, column.name, description)

    def compare(self, column: ColumnSpec, current: LiveColumn) -> None:
        name = quote_ident(column.name)
        wanted = column_type(column.type, self.dialect)
        self._compare_type(column, current, wanted)
        if current.is_nullable == (not not_null(self.spec, column)):
            return
        if current.is_nullable:
            self.change(
                ChangeKind.KEEP_NULLABLE,
                column.name,
                f"column {name} is declared non-null but the table allows NULL; it stays so"
                " (existing rows may hold NULL), and flowc's validation keeps nulls out",
            )
            return
        ident = exp.to_identifier(column.name, quoted=True)
        self.alters.append(self._alter(exp.AlterColumn(this=ident, drop=True, allow_null=True)))
        self.change(
            ChangeKind.DROP_NOT_NULL, column.name, f"column {name} may now be null: drop NOT NULL"
        )

    def _compare_type(self, column: ColumnSpec, current: LiveColumn, wanted: exp.DataType) -> None:
        name = quote_ident(column.name)
        have = _parse_type(current.data_type, self.dialect)
        if have is not None and _same_type(have, wanted, self.dialect):
            return
        was, now = current.data_type, self._spell(wanted)
        if have is None or not _widens(have, wanted):
            narrows = have is not None and _widens(wanted, have)
            self.change(
                ChangeKind.CHANGE_TYPE,
                column.name,
                f"column {name} is {was} in the table but {now} in the pipeline: "
                + ("that narrows it" if narrows else "the types are incompatible")
                + ", and existing values may not convert; migrate the data by hand",
            )
            return
        refusal = self._type_change_refusal(column)
        if refusal:
            self.change(
                ChangeKind.CHANGE_TYPE,
                column.name,
                f"column {name} widens from {was} to {now}, but {refusal}",
            )
            return
        ident = exp.to_identifier(column.name, quoted=True)
        self.alters.append(self._alter(exp.AlterColumn(this=ident, dtype=wanted)))
        note = " (integers beyond 2^53 lose precision)" if wanted.this is _T.DOUBLE else ""
        self.change(
            ChangeKind.WIDEN_TYPE, column.name, f"widen column {name} from {was} to {now}{note}"
        )

    def _type_change_refusal(self, column: ColumnSpec) -> str:
        """Why the store would refuse an otherwise safe type change, or ''."""
        if self.dialect == "timescale" and self.spec.compress_after is not None:
            return (
                "TimescaleDB cannot change a column's type on a hypertable with compression"
                " enabled; decompress its chunks and disable compression first"
            )
        if self.dialect == "duckdb" and column.name in unique_key(self.spec):
            return "DuckDB cannot change the type of a primary key column"
        return ""

    def _alter(self, action: exp.Expression) -> str:
        table = exp.Table(this=exp.to_identifier(self.spec.name, quoted=True))
        alter = exp.Alter(this=table, kind="TABLE", actions=[action])
        return alter.sql(dialect=sqlglot_dialect(self.dialect), identify=True)

    def _spell(self, type_: exp.DataType) -> str:
        return type_.sql(dialect=sqlglot_dialect(self.dialect))


_BREAKING = frozenset(
    {
        ChangeKind.REMOVE_COLUMN,
        ChangeKind.CHANGE_TYPE,
        ChangeKind.NEW_TIME_COLUMN,
        ChangeKind.NEW_KEY_COLUMN,
    }
)


def _parse_type(data_type: str, dialect: Dialect) -> exp.DataType | None:
    """The live type as a sqlglot type, or None for one flowc does not know."""
    try:
        parsed = exp.DataType.build(data_type, dialect=sqlglot_dialect(dialect))
    except (sqlglot.errors.SqlglotError, ValueError):
        return None
    if parsed.this in (_T.USERDEFINED, _T.UNKNOWN):
        return None
    return parsed


def _same_type(have: exp.DataType, wanted: exp.DataType, dialect: Dialect) -> bool:
    # information_schema may say only 'ARRAY' (when the catalog lookup found no element
    # type): any list matches then, as nothing better can be known.
    if have.this is _T.ARRAY and not have.expressions:
        return wanted.this is _T.ARRAY
    return normalized(have, dialect) == normalized(wanted, dialect)


def _widens(have: exp.DataType, wanted: exp.DataType) -> bool:
    if have.expressions or wanted.expressions:
        return False
    return (have.this, wanted.this) in _WIDENINGS
