"""IR expressions to sqlglot expressions, rendered per dialect (DuckDB, PostgreSQL).

Same meaning as the Polars lowering, which the differential tests check: `/` is float
division and gives null when dividing by zero, `%` takes the dividend's sign, `??` is
COALESCE, `++` propagates null, json values are JSON (DuckDB) or JSONB (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlglot.expressions as exp

from flowc.compiler import ir
from flowc.compiler.polars_expr import literal_value
from flowc.dsl import types as t
from flowc.stdlib.functions import REGISTRY
from flowc.stdlib.lowering import SqlArg, Target

_COMPARE: dict[str, type[exp.Expression]] = {
    "==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE,
    "+": exp.Add, "-": exp.Sub, "*": exp.Mul, "and": exp.And, "or": exp.Or,
}  # fmt: skip


class SqlLoweringError(Exception):
    """An IR expression with no SQL lowering (a stdlib function without one)."""


def sql_type(type_: t.Type, dialect: str = "duckdb") -> exp.DataType:
    """The column type holding values of `type_` (nullability is a constraint, not here)."""
    postgres = dialect != "duckdb"
    match type_.kind:
        case t.Kind.INT:
            return exp.DataType.build("BIGINT")
        case t.Kind.FLOAT:
            return exp.DataType.build("DOUBLE PRECISION" if postgres else "DOUBLE")
        case t.Kind.BOOL:
            return exp.DataType.build("BOOLEAN")
        case t.Kind.STR:
            return exp.DataType.build("TEXT")
        case t.Kind.TIMESTAMP:
            return exp.DataType.build("TIMESTAMPTZ")
        case t.Kind.DATE:
            return exp.DataType.build("DATE")
        case t.Kind.DURATION:
            return exp.DataType.build("INTERVAL")
        case t.Kind.JSON:
            return exp.DataType.build("JSONB" if postgres else "JSON")
        case t.Kind.LIST:
            assert type_.elem is not None
            return exp.DataType(
                this=exp.DataType.Type.ARRAY,
                expressions=[sql_type(type_.elem, dialect)],
                nested=True,
            )
        case t.Kind.STRUCT:
            if postgres:
                return exp.DataType.build("JSONB")
            fields = [
                exp.ColumnDef(this=exp.to_identifier(n, quoted=True), kind=sql_type(ft, dialect))
                for n, ft in type_.fields
            ]
            return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=fields, nested=True)
        case t.Kind.NULL:
            return exp.DataType.build("TEXT")
    raise AssertionError(type_)


def sql_literal(value: Any, type_: t.Type, dialect: str = "duckdb") -> exp.Expression:
    """A constant, typed so that NULL and timestamps have the column's type."""
    if value is None:
        return exp.cast(exp.null(), sql_type(type_, dialect))
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        if isinstance(value, float) and type_.kind is t.Kind.FLOAT:
            return exp.cast(exp.Literal.number(repr(value)), sql_type(t.FLOAT, dialect))
        literal = exp.Literal.number(abs(value))
        return exp.Neg(this=literal) if value < 0 else literal
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat(sep=" ")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, dt.timedelta):
        micros = value // dt.timedelta(microseconds=1)
        return exp.Interval(this=exp.Literal.string(str(micros)), unit=exp.var("MICROSECONDS"))
    if isinstance(value, list):
        assert type_.elem is not None
        return exp.Array(expressions=[sql_literal(v, type_.elem, dialect) for v in value])
    raise AssertionError(f"no SQL literal for {value!r}")


class SqlExprs:
    """Lowers IR expressions to sqlglot; `now` is the expression of the batch's time."""

    def __init__(self, dialect: str = "duckdb", now: exp.Expression | None = None) -> None:
        self.dialect = dialect
        self.now = now if now is not None else exp.CurrentTimestamp()

    def lower(self, expr: ir.Expr) -> exp.Expression:
        match expr:
            case ir.Col(name=name):
                return exp.column(name, quoted=True)
            case ir.Lit(value=value, type=type_):
                return sql_literal(value, type_, self.dialect)
            case ir.Op():
                return self._op(expr)
            case ir.Call():
                return self._call(expr)
            case ir.Cond(branches=branches, otherwise=otherwise):
                case = exp.Case()
                for condition, value in branches:
                    case = case.when(self.lower(condition), self.lower(value))
                return case.else_(self.lower(otherwise))
            case ir.GetField(value=value, name=name):
                if value.type.kind is t.Kind.JSON:
                    return self._json_path(expr)
                return exp.Dot(
                    this=exp.paren(self.lower(value)), expression=exp.to_identifier(name)
                )
            case ir.GetIndex(value=value) if value.type.kind is t.Kind.JSON:
                return self._json_path(expr)
            case ir.GetIndex(value=value, index=index):
                # SQL lists count from 1; the language counts from 0.
                position = exp.Add(this=self.lower(index), expression=exp.Literal.number(1))
                # offset=1: the position is already 1-based, so sqlglot must not shift it.
                return exp.Bracket(this=self.lower(value), expressions=[position], offset=1)
            case ir.MakeList(items=items, type=list_type):
                assert list_type.elem is not None
                elem = list_type.elem
                # A null item takes the list's element type (an untyped NULL would be TEXT).
                lowered = [
                    sql_literal(None, elem, self.dialect)
                    if isinstance(i, ir.Lit) and i.value is None
                    else self.lower(i)
                    for i in items
                ]
                return exp.Array(expressions=lowered)
            case ir.MakeStruct(fields=fields):
                return exp.Struct(
                    expressions=[
                        exp.PropertyEQ(this=exp.to_identifier(n), expression=self.lower(v))
                        for n, v in fields
                    ]
                )
        raise AssertionError(f"unhandled IR {type(expr).__name__}")

    def _json_path(self, expr: ir.Expr) -> exp.Expression:
        """A chain of accesses into json as one path: `j.a[0].b` is one extraction."""
        steps: list[str | int] = []
        node = expr
        while isinstance(node, ir.GetField | ir.GetIndex) and node.value.type.kind is t.Kind.JSON:
            if isinstance(node, ir.GetField):
                steps.append(node.name)
            elif isinstance(node.index, ir.Lit) and isinstance(node.index.value, int | str):
                steps.append(node.index.value)
            else:
                break
            node = node.value
        steps.reverse()
        base = self.lower(node)
        if self.dialect != "duckdb":
            # JSONB on PostgreSQL: the path as text arguments, array positions included.
            keys = [exp.Literal.string(str(step)) for step in steps]
            return exp.Anonymous(this="jsonb_extract_path_text", expressions=[base, *keys])
        parts: list[exp.Expression] = [exp.JSONPathRoot()]
        for step in steps:
            if isinstance(step, int):
                parts.append(exp.JSONPathSubscript(this=step))
            else:
                parts.append(exp.JSONPathKey(this=step))
        return exp.JSONExtractScalar(this=base, expression=exp.JSONPath(expressions=parts))

    def _op(self, expr: ir.Op) -> exp.Expression:
        args = [self.lower(a) for a in expr.args]
        op = expr.op
        if op == "neg":
            return exp.Neg(this=exp.paren(args[0]))
        if op == "not":
            return exp.Not(this=exp.paren(args[0]))
        if op == "??":
            return exp.Coalesce(this=args[0], expressions=[args[1]])
        if op == "++":
            return exp.DPipe(this=args[0], expression=args[1], safe=False)
        if op == "in":
            options = literal_value(expr.args[1])
            if isinstance(options, list):
                return exp.In(this=args[0], expressions=list(args[1].expressions))
            return exp.ArrayContains(this=args[1], expression=args[0])
        left, right = exp.paren(args[0]), exp.paren(args[1])
        divisor = exp.Nullif(this=right, expression=exp.Literal.number(0))
        if op == "/":
            as_float = exp.cast(left, sql_type(t.FLOAT, self.dialect))
            return exp.Div(this=as_float, expression=divisor)
        if op == "%":
            return exp.Mod(this=left, expression=divisor)
        return _COMPARE[op](this=left, expression=right)

    def _call(self, expr: ir.Call) -> exp.Expression:
        if expr.fn == "now":
            return self.now.copy()
        if expr.fn == "__first_distinct":
            # ROW_NUMBER() over the value, in arrival order: the first of each value is 1.
            column = self.lower(expr.args[0])
            window = exp.Window(
                this=exp.RowNumber(),
                partition_by=[column],
                order=exp.Order(expressions=[exp.Ordered(this=exp.column("__row", quoted=True))]),
            )
            return exp.EQ(this=window, expression=exp.Literal.number(1))
        function = REGISTRY.get(expr.fn)
        if function is None or function.sql is None:
            raise SqlLoweringError(f"`{expr.fn}` has no SQL lowering yet")
        args = [SqlArg(self.lower(a), a.type, literal_value(a)) for a in expr.args]
        return function.sql(args, Target(expr.type, self.dialect))
