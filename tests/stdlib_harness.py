"""Runs a stdlib example through the Polars and the SQL (DuckDB) lowering.

An example is a call in Flow source, the Flow literal it gives, and for aggregates the
values of the column `x` it reads. Both lowerings must give the expected value.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import duckdb
import polars as pl
import sqlglot.expressions as exp

from flowc.compiler import ir
from flowc.compiler.expressions import check_expression
from flowc.compiler.polars_expr import PolarsExprs, dtype, literal_value
from flowc.compiler.sql_expr import SqlExprs, sql_type
from flowc.dsl import types as t
from flowc.stdlib.lowering import NOT_LITERAL
from flowc.stdlib.signature import Example, Function

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


class ExampleError(AssertionError):
    pass


def _checked(
    text: str, fields: dict[str, t.Type] | None = None, aggregate: bool = False
) -> ir.Expr:
    checked = check_expression(text, fields, aggregate=aggregate)
    if checked.expr is None:
        raise ExampleError(f"{text!r} does not check: {[d.message for d in checked.diagnostics]}")
    return checked.expr


def expected_value(example: Example) -> Any:
    value = literal_value(_checked(example.result))
    if value is NOT_LITERAL:
        raise ExampleError(f"the result {example.result!r} is not a literal")
    return value


def column(example: Example) -> tuple[list[Any], t.Type] | None:
    if example.column is None:
        return None
    expr = _checked(example.column)
    values = literal_value(expr)
    assert isinstance(values, list), example.column
    assert expr.type.elem is not None
    elem = expr.type.elem if expr.type.elem.kind is not t.Kind.NULL else t.INT
    return values, elem.nullable_()


def lowered(function: Function, example: Example) -> ir.Expr:
    data = column(example)
    fields = {"x": data[1]} if data else None
    return _checked(example.call, fields, aggregate=function.aggregate)


def run_polars(function: Function, example: Example) -> Any:
    expr = lowered(function, example)
    code = PolarsExprs("NOW").lower(expr)
    polars_expr = eval(code, {"pl": pl, "dt": dt, "NOW": NOW})  # our own generated code
    result = polars_expr.cast(eval(dtype(expr.type), {"pl": pl})).alias("r")
    data = column(example)
    if data is None:
        frame = pl.select(result)
    else:
        values, type_ = data
        source = pl.DataFrame({"x": values}, schema={"x": eval(dtype(type_), {"pl": pl})})
        frame = source.select(result)
    value = frame.item()
    return value.to_list() if isinstance(value, pl.Series) else value


def run_duckdb(function: Function, example: Example) -> Any:
    expr = lowered(function, example)
    now = exp.cast(exp.Literal.string(NOW.isoformat(sep=" ")), exp.DataType.build("TIMESTAMPTZ"))
    value = exp.cast(SqlExprs("duckdb", now).lower(expr), sql_type(expr.type, "duckdb"))
    select = exp.select(value.as_("r"))
    data = column(example)
    if data is not None:
        values, type_ = data
        rows = exp.values(
            [(SqlExprs("duckdb").lower(ir.Lit(v, type_)),) for v in values],
            alias="t",
            columns=["x"],
        )
        select = select.from_(rows)
    sql = select.sql(dialect="duckdb")
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        try:
            return conn.execute(sql).fetchone()[0]  # type: ignore[index]
        except duckdb.Error as error:
            raise ExampleError(f"DuckDB rejected {sql}: {error}") from error


def same(actual: Any, expected: Any) -> bool:
    """Equal, with floats compared to 1e-9 relative and timestamps by instant."""
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, dt.datetime) and isinstance(actual, dt.datetime):
        return actual.astimezone(dt.UTC) == expected.astimezone(dt.UTC)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(map(same, actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(
            same(actual[k], expected[k]) for k in actual
        )
    return (bool(actual == expected) and type(actual) is type(expected)) or (
        isinstance(expected, int) and isinstance(actual, int) and actual == expected
    )
