"""IR expressions to the source text of Polars expressions.

The compiled plan is a Python module a person can read, so expressions are generated as
source (`pl.col("temp") * pl.lit(1.8)`), never as opaque objects. Only native Polars
expressions are produced: no `map_elements`, no Python per row.

Runtime representation of the language's types in Polars: int Int64, float Float64,
bool Boolean, str String, timestamp Datetime("us", "UTC"), date Date, duration
Duration("us"), json String holding JSON text, list List, record Struct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flowc.compiler import ir
from flowc.dsl import types as t
from flowc.stdlib.functions import REGISTRY
from flowc.stdlib.lowering import NOT_LITERAL, PolarsArg, Target

_BINARY = {
    "+": "+", "-": "-", "*": "*", "/": "/", "==": "==", "!=": "!=",
    "<": "<", "<=": "<=", ">": ">", ">=": ">=", "and": "&", "or": "|",
}  # fmt: skip


class PolarsLoweringError(Exception):
    """An IR expression with no Polars lowering (a stdlib function without one)."""


def dtype(type_: t.Type) -> str:
    """The Polars dtype, as source, that holds values of `type_`."""
    match type_.kind:
        case t.Kind.INT:
            return "pl.Int64"
        case t.Kind.FLOAT:
            return "pl.Float64"
        case t.Kind.BOOL:
            return "pl.Boolean"
        case t.Kind.STR | t.Kind.JSON:
            return "pl.String"
        case t.Kind.TIMESTAMP:
            return 'pl.Datetime("us", "UTC")'
        case t.Kind.DATE:
            return "pl.Date"
        case t.Kind.DURATION:
            return 'pl.Duration("us")'
        case t.Kind.NULL:
            return "pl.Null"
        case t.Kind.LIST:
            assert type_.elem is not None
            return f"pl.List({dtype(type_.elem)})"
        case t.Kind.STRUCT:
            inner = ", ".join(f"{name!r}: {dtype(ft)}" for name, ft in type_.fields)
            return f"pl.Struct({{{inner}}})"
    raise AssertionError(type_)


def python_value(value: Any) -> str:
    """A Python literal for a constant (the generated module imports `datetime as dt`)."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        return (
            f"dt.datetime({value.year}, {value.month}, {value.day}, {value.hour}, "
            f"{value.minute}, {value.second}, {value.microsecond}, tzinfo=dt.UTC)"
        )
    if isinstance(value, dt.date):
        return f"dt.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, dt.timedelta):
        return f"dt.timedelta(microseconds={value // dt.timedelta(microseconds=1)})"
    if isinstance(value, float) and value != value:
        return 'float("nan")'
    if isinstance(value, list):
        return "[" + ", ".join(python_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {python_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def literal_value(expr: ir.Expr) -> Any:
    """The Python value of a constant expression, or NOT_LITERAL."""
    if isinstance(expr, ir.Lit):
        return expr.value
    if isinstance(expr, ir.MakeList):
        values = [literal_value(item) for item in expr.items]
        return NOT_LITERAL if any(v is NOT_LITERAL for v in values) else values
    if isinstance(expr, ir.Op) and expr.op == "neg":
        inner = literal_value(expr.args[0])
        if isinstance(inner, int | float | dt.timedelta):
            return -inner
    return NOT_LITERAL


class PolarsExprs:
    """Lowers IR expressions; `now` is the source of the batch's current time."""

    def __init__(self, now: str = "now") -> None:
        self.now = now

    def lower(self, expr: ir.Expr) -> str:
        match expr:
            case ir.Col(name=name):
                return f"pl.col({name!r})"
            case ir.Lit(value=value, type=type_):
                return self._lit(value, type_)
            case ir.Op():
                return self._op(expr)
            case ir.Call():
                return self._call(expr)
            case ir.Cond(branches=branches, otherwise=otherwise):
                chain = "pl"
                for condition, value in branches:
                    chain += f".when({self.lower(condition)}).then({self.lower(value)})"
                return f"{chain}.otherwise({self.lower(otherwise)})"
            case ir.GetField(value=value, name=name):
                return self._get_field(expr, value, name)
            case ir.GetIndex(value=value, index=index):
                return self._get_index(expr, value, index)
            case ir.MakeList(items=items, type=type_):
                constant = literal_value(expr)
                if constant is not NOT_LITERAL:
                    return f"pl.lit({python_value(constant)}, dtype={dtype(type_)})"
                if any(i.type.kind is t.Kind.LIST for i in items):
                    # concat_list flattens list items: [[1], [2]] would become [1, 2].
                    raise PolarsLoweringError("a list of lists is only supported as a constant")
                return "pl.concat_list([" + ", ".join(self.lower(i) for i in items) + "])"
            case ir.MakeStruct(fields=fields):
                parts = ", ".join(f"{self.lower(v)}.alias({n!r})" for n, v in fields)
                return f"pl.struct([{parts}])"
        raise AssertionError(f"unhandled IR {type(expr).__name__}")

    def _lit(self, value: Any, type_: t.Type) -> str:
        if isinstance(value, str) or (isinstance(value, float) and type_.kind is t.Kind.FLOAT):
            return f"pl.lit({python_value(value)})"  # Polars infers String and Float64
        return f"pl.lit({python_value(value)}, dtype={dtype(type_)})"

    def operand(self, expr: ir.Expr, other: ir.Expr) -> str:
        """A number beside a column is written plainly (`pl.col("t") * 1.8`)."""
        if (
            isinstance(expr, ir.Lit)
            and isinstance(expr.value, int | float)
            and not isinstance(expr.value, bool)
            and not isinstance(other, ir.Lit)
        ):
            return repr(expr.value)
        return self.lower(expr)

    def _op(self, expr: ir.Op) -> str:
        args = expr.args
        op = expr.op
        if op == "neg":
            return f"(-{self.lower(args[0])})"
        if op == "not":
            return f"(~{self.lower(args[0])})"
        if op == "??":
            return f"pl.coalesce([{self.lower(args[0])}, {self.lower(args[1])}])"
        if op == "++":
            return f"pl.concat_str([{self.lower(args[0])}, {self.lower(args[1])}])"
        if op == "in":
            options = literal_value(args[1])
            if options is not NOT_LITERAL:
                # `is_in` gives null for a null value, like SQL's IN.
                return f"{self.lower(args[0])}.is_in({python_value(options)})"
            return f"{self.lower(args[1])}.list.contains({self.lower(args[0])})"
        left, right = self.operand(args[0], args[1]), self.operand(args[1], args[0])
        nonzero = isinstance(args[1], ir.Lit) and args[1].value not in (0, None)
        if op == "/":
            # Always a float; by zero it is null (as in the SQL back ends), never inf.
            if nonzero:
                return f"({left} / {right})"
            return f"({left} / pl.when({right} != 0).then({right}))"
        if op == "%":
            # The remainder takes the sign of the dividend, as in SQL, C and Rust; Polars'
            # `%` floors like Python's, so a result of the other sign is moved back.
            divisor = right if nonzero else f"pl.when({right} != 0).then({right})"
            rem = f"({left} % {divisor})"
            other_sign = f"(({left} < 0) != ({right} < 0))"
            return f"pl.when(({rem} != 0) & {other_sign}).then({rem} - {right}).otherwise({rem})"
        return f"({left} {_BINARY[op]} {right})"

    def _call(self, expr: ir.Call) -> str:
        if expr.fn == "now":
            return f"pl.lit({self.now}, dtype=pl.Datetime('us', 'UTC'))"
        if expr.fn == "__first_distinct":
            return f"{self.lower(expr.args[0])}.is_first_distinct()"
        function = REGISTRY.get(expr.fn)
        if function is None or function.polars is None:
            raise PolarsLoweringError(f"`{expr.fn}` has no Polars lowering yet")
        args = [PolarsArg(self.lower(a), a.type, literal_value(a)) for a in expr.args]
        return function.polars(args, Target(expr.type))

    def _get_field(self, expr: ir.GetField, value: ir.Expr, name: str) -> str:
        if value.type.kind is t.Kind.JSON:
            base, path = _json_path(expr)
            return f"{self.lower(base)}.str.json_path_match({path!r})"
        return f"{self.lower(value)}.struct.field({name!r})"

    def _get_index(self, expr: ir.GetIndex, value: ir.Expr, index: ir.Expr) -> str:
        if value.type.kind is t.Kind.JSON:
            base, path = _json_path(expr)
            return f"{self.lower(base)}.str.json_path_match({path!r})"
        return f"{self.lower(value)}.list.get({self.lower(index)}, null_on_oob=True)"


def _json_path(expr: ir.Expr) -> tuple[ir.Expr, str]:
    """A chain of field and index accesses into json as one JSONPath from its base."""
    steps: list[str] = []
    node = expr
    while True:
        if isinstance(node, ir.GetField) and node.value.type.kind is t.Kind.JSON:
            steps.append(f".{node.name}" if node.name.isidentifier() else f"[{node.name!r}]")
            node = node.value
        elif (
            isinstance(node, ir.GetIndex)
            and node.value.type.kind is t.Kind.JSON
            and isinstance(node.index, ir.Lit)
        ):
            steps.append(
                f"[{node.index.value!r}]"
                if isinstance(node.index.value, str)
                else f"[{node.index.value}]"
            )
            node = node.value
        else:
            break
    return node, "$" + "".join(reversed(steps))


def lower_all(exprs: Sequence[ir.Expr], now: str = "now") -> list[str]:
    lowering = PolarsExprs(now)
    return [lowering.lower(e) for e in exprs]
