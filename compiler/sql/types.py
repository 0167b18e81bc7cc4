"""How the language's types become column types in each store.

One table of rules, written once as sqlglot data types, so the DDL generator and the
schema-evolution diff agree on what a column *should* be; sqlglot then spells each type
the way its dialect wants (`DOUBLE PRECISION` on PostgreSQL, `DOUBLE` on DuckDB).

Two places where the stores differ in what they can hold:

- records (`struct`) are `JSONB` on PostgreSQL, which has no anonymous record type a
  column could use without a `CREATE TYPE` per shape; DuckDB has real `STRUCT(...)`.
- lists are arrays (`T[]`) in both, but a PostgreSQL array must be rectangular and holds
  scalars only, so a list of lists, records or json is stored as `JSONB` there.
"""

from __future__ import annotations

from typing import Literal, get_args

import sqlglot.expressions as exp

from flowc.dsl.types import Kind, Type

Dialect = Literal["timescale", "postgres", "duckdb"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)

_T = exp.DType

# Scalars that map the same way in every dialect; json and str differ and are handled apart.
_SCALARS: dict[Kind, exp.DType] = {
    Kind.INT: _T.BIGINT,
    Kind.FLOAT: _T.DOUBLE,
    Kind.BOOL: _T.BOOLEAN,
    # Polars datetimes are microseconds; both stores keep microseconds, normalised to UTC.
    Kind.TIMESTAMP: _T.TIMESTAMPTZ,
    Kind.DATE: _T.DATE,
    Kind.DURATION: _T.INTERVAL,
}

# What a PostgreSQL array may hold: scalars only (json and records go to JSONB whole).
_PG_ARRAY_ELEMENTS = frozenset({*_SCALARS, Kind.STR})


def sqlglot_dialect(dialect: Dialect) -> str:
    """The sqlglot dialect that renders SQL for a flowc store (TimescaleDB is PostgreSQL)."""
    return "duckdb" if dialect == "duckdb" else "postgres"


def column_type(type_: Type, dialect: Dialect) -> exp.DataType:
    """The column type that holds values of `type_` in `dialect` (nullability aside).

    Raises ValueError for `null`, the type of a bare `null` literal, which no column has.
    """
    duck = dialect == "duckdb"
    kind = type_.kind
    if kind in _SCALARS:
        return exp.DataType(this=_SCALARS[kind])
    if kind is Kind.STR:
        # DuckDB calls it VARCHAR and reports it so; TEXT is its alias and sqlglot's spelling.
        return exp.DataType(this=_T.TEXT)
    if kind is Kind.JSON:
        return exp.DataType(this=_T.JSON if duck else _T.JSONB)
    if kind is Kind.LIST:
        assert type_.elem is not None
        if not duck and type_.elem.kind not in _PG_ARRAY_ELEMENTS:
            return exp.DataType(this=_T.JSONB)
        elem = column_type(type_.elem, dialect)
        return exp.DataType(this=_T.ARRAY, expressions=[elem], nested=True)
    if kind is Kind.STRUCT:
        if not duck:
            return exp.DataType(this=_T.JSONB)
        fields = [
            exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=column_type(t, dialect))
            for name, t in type_.fields
        ]
        return exp.DataType(this=_T.STRUCT, expressions=fields, nested=True)
    raise ValueError(f"no column type holds values of type {type_}")


def normalized(data_type: exp.DataType, dialect: Dialect) -> str:
    """A canonical spelling of a column type, for comparing ours with a live table's.

    Rendering and re-parsing folds aliases (`VARCHAR`/`TEXT` on DuckDB, `float8`/`double
    precision` on PostgreSQL) into one spelling; identifiers are quoted so that struct
    field names compare exactly.
    """
    name = sqlglot_dialect(dialect)
    text = data_type.sql(dialect=name, identify=True)
    return exp.DataType.build(text, dialect=name).sql(dialect=name, identify=True)
