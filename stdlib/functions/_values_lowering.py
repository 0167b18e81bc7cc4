"""How values convert, print and are read as json, in the Polars and the SQL lowerings.

Shared by the lowerings of `numbers`, `conversions`, `nulls` and `json`, so that one rule
has one implementation per engine. Polars helpers take and return the source text of a
Polars expression; SQL helpers take and return sqlglot expressions and a dialect
(`duckdb` or `postgres`). Every rule here is written out explicitly (regular
expressions, CASE branches) rather than left to an engine's own casts, because the
engines' casts disagree at the edges: DuckDB's `TRY_CAST('3.9' AS BIGINT)` rounds to 4 and
accepts `' 42 '` and `'4_2'`, Polars prints `1e-05` as `0.00001`, PostgreSQL prints `1.0`
as `1`.

The canonical rules:

- Text to `int`: an optional sign and decimal digits (`[+-]?[0-9]+`), ASCII whitespace
  around them ignored; null when it does not fit a 64-bit int.
- Text to `float`: ASCII whitespace ignored, then decimal notation with an optional
  exponent (`2.5`, `.5`, `5.`, `-1e3`); `nan`, `inf` and hex are not numbers, and a value
  beyond the float range gives null (a finite float or null, never NaN or inf).
- Text to `bool`: `true` or `false` in any case, ASCII whitespace ignored.
- `float` to `int` (`int(x)`): truncated toward zero; null for NaN, inf or beyond the int
  range.
- `float` to text: the shortest text that reads back as the same float, as Python's
  `repr` writes it: `2.5`, `1.0`, `1e+16`, `1e-05`, `nan`, `inf`, `-inf`.
- `timestamp` to text: ISO 8601 in UTC, `2026-01-01T00:00:00Z`, with six fractional
  digits only when the microseconds are not zero (`2026-01-01T00:00:00.250000Z`).
- `date` to text: `2026-03-15`.
- `duration` to text: a Flow duration literal in its largest exact unit (`90m`, `1500ms`,
  `2w`, `0s`; `us` for a count of microseconds that no larger unit divides).
- A value to JSON (`to_json`): compact, as Python's `json.dumps(x, separators=(",", ":"),
  ensure_ascii=False)` writes it, floats as above (NaN and inf as `null`), timestamps,
  dates and durations as strings of their text.

In Polars, a value used several times is bound once with `.pipe(lambda v: ...)`, which
runs when the plan is built (not per row) and keeps the generated source short.

Json values. In Polars a json value is a String holding its JSON text; in DuckDB a JSON
(or VARCHAR) value, in PostgreSQL JSONB. A path step (`j.a`, `json_get`) gives the value's
text the way Polars' `json_path_match` and DuckDB's `->>` do: a string *without its quotes*,
anything else as compact JSON, a JSON null as null. So a json value's text is either JSON
or, when it is not valid JSON, a string already taken out of its quotes. Both engines
read it by the same rule (`json_text`): JSON null is null, a JSON string is its content,
other JSON is its text, and text that is not JSON is the string itself. (PostgreSQL keeps
JSONB typed through path steps, so there a string stays a string; the difference shows
only for a string whose content is itself JSON, such as `"null"` or `"[1]"`.)
"""

from __future__ import annotations

import ast
import json as _json
import re
from collections.abc import Callable, Sequence

import sqlglot.expressions as exp

from flowc.dsl.durations import UNITS_US
from flowc.dsl.types import Kind, Type
from flowc.stdlib.lowering import (
    LoweringUnsupported,
    PolarsArg,
    PolarsLowering,
    SqlArg,
    SqlLowering,
    Target,
)

WHITESPACE = " \t\n\r"
# The number in a text, ASCII whitespace around it allowed: group 1 is the number.
INT_TEXT = r"^[ \t\n\r]*([+-]?[0-9]+)[ \t\n\r]*$"
FLOAT_TEXT = r"^[ \t\n\r]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[ \t\n\r]*$"
JSON_STRING = r'"(?:[^"\\]|\\.)*"'
# JSON text's whitespace between tokens, strings matched first so that theirs is kept.
JSON_SPACE = "(" + JSON_STRING + ")|[ \t\n\r]+"
# Where Polars' float text differs from Python's repr: 1e-05 written 0.00001, and 1e-7
# written without the exponent's leading zero.
_POLARS_FLOAT_FIXES = (
    (r"^(-?)0\.0000([1-9])$", "${1}${2}e-05"),
    (r"^(-?)0\.0000([1-9])([0-9]+)$", "${1}${2}.${3}e-05"),
    (r"e-([1-9])$", "e-0${1}"),
)
_NO_MICROSECONDS = r"\.000000Z$"
# A JSONPath-lite path: `$`, then `.field` and `[index]` steps.
PATH = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*")
_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]")

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
FLOAT_MAX = "1.7976931348623157e308"
FLOAT_HALF_MIN = "2.4703282292062328e-324"  # below this, text rounds to 0.0


# How a string is written inside JSON: the escapes of Python's `json.dumps`.
_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_SHORT_ESCAPES["\t"] = "\\t"
JSON_ESCAPES: tuple[tuple[str, str], ...] = (
    ("\\", "\\\\"),
    ('"', '\\"'),
    *((chr(c), _SHORT_ESCAPES.get(chr(c), f"\\u{c:04x}")) for c in range(0x20)),
)


def unsupported_kind(function: str, t: Type, hint: str = "") -> LoweringUnsupported:
    """The error for an argument type a conversion does not handle."""
    message = f"`{function}` cannot convert a value of type {t}"
    return LoweringUnsupported(message + (f": {hint}" if hint else ""))


def literal_path(function: str, literal: object) -> str:
    """A literal path, checked against the JSONPath-lite grammar."""
    if not isinstance(literal, str) or not PATH.fullmatch(literal):
        raise LoweringUnsupported(
            f"`{function}` needs a JSONPath-lite path: `$` then `.field` and `[index]` "
            f"steps, such as `$.a.b[0]`; found {literal!r}"
        )
    return literal


# ============================================================================== Polars


def pl_dtype(t: Type) -> str:
    """The Polars dtype source of `t` (imported late: the compiler imports this registry)."""
    from flowc.compiler.polars_expr import dtype

    return dtype(t)


def pl_null(t: Type) -> str:
    return f"pl.lit(None, dtype={pl_dtype(t)})"


def pl_str(text: str) -> str:
    """A string literal as a Polars expression."""
    return f"pl.lit({text!r})"


def _is_plain(code: str) -> bool:
    """A column, a literal or a name: cheap and short enough to repeat."""
    if len(code) > 60:
        return False
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        return False
    return _plain_node(node)


def _plain_node(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return True
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    if node.func.attr == "cast":  # a cast of a plain value is still cheap
        return _plain_node(node.func.value)
    return (
        isinstance(node.func.value, ast.Name)
        and node.func.value.id == "pl"
        and node.func.attr in ("col", "lit")
    )


def primary(code: str) -> str:
    """`code`, parenthesized unless it already is a primary expression (a call chain)."""
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        return f"({code})"
    if isinstance(node, ast.Call | ast.Attribute | ast.Name | ast.Subscript | ast.Constant):
        return code
    return f"({code})"


def let(code: str, body: Callable[[str], str], name: str = "v") -> str:
    """`body` applied to `code`; a non-trivial `code` is bound once with `.pipe`.

    `.pipe(lambda v: ...)` runs once, when the plan is built, so the expression is still
    one native Polars expression; it only keeps the source from repeating `code`.
    """
    if _is_plain(code):
        return body(code)
    return f"{primary(code)}.pipe(lambda {name}: {body(name)})"


def pl_cast(arg: PolarsArg, t: Type) -> str:
    """The argument as a value of `t` (int widened to float, null typed)."""
    if pl_dtype(arg.type) == pl_dtype(t):
        return arg.code
    if t.kind is Kind.FLOAT and isinstance(arg.literal, int) and not isinstance(arg.literal, bool):
        return f"pl.lit({float(arg.literal)!r}, dtype=pl.Float64)"
    if arg.literal is None:
        return pl_null(t)
    return f"{primary(arg.code)}.cast({pl_dtype(t)})"


def pl_strip(code: str) -> str:
    return f"{primary(code)}.str.strip_chars({WHITESPACE!r})"


def pl_int_of_text(code: str) -> str:
    """Text to int by the canonical rule (null when it is not one, or does not fit)."""
    return f"{primary(code)}.str.extract({INT_TEXT!r}, 1).cast(pl.Int64, strict=False)"


def pl_float_of_text(code: str) -> str:
    """Text to float by the canonical rule: finite, or null."""
    parsed = f"{primary(code)}.str.extract({FLOAT_TEXT!r}, 1).cast(pl.Float64, strict=False)"
    return let(parsed, lambda f: f"pl.when({f}.is_finite()).then({f})", "f")


def pl_bool_of_text(code: str) -> str:
    return let(
        f"{pl_strip(code)}.str.to_lowercase()",
        lambda t: (
            f'pl.when({t} == "true").then(pl.lit(True)).when({t} == "false").then(pl.lit(False))'
        ),
        "t",
    )


def pl_int_of_float(code: str) -> str:
    """Truncated toward zero; null for NaN, inf and values beyond the int range."""
    return f"{primary(code)}.cast(pl.Int64, strict=False)"


def pl_float_to_text(code: str) -> str:
    """A float as Python's `repr` writes it (Polars writes 1e-05 as 0.00001, NaN as NaN)."""
    fixes = "".join(f".str.replace({p!r}, {r!r})" for p, r in _POLARS_FLOAT_FIXES)
    return f'{primary(code)}.cast(pl.String){fixes}.str.replace("NaN", "nan", literal=True)'


def pl_timestamp_to_text(code: str) -> str:
    return (
        f'{primary(code)}.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")'
        f".str.replace({_NO_MICROSECONDS!r}, 'Z')"
    )


def pl_date_to_text(code: str) -> str:
    return f'{primary(code)}.dt.strftime("%Y-%m-%d")'


def pl_duration_to_text(code: str) -> str:
    def body(us: str) -> str:
        chain = f'pl.when({us} == 0).then(pl.lit("0s"))'
        for unit, size in UNITS_US:
            chain += (
                f".when(({us} % {size}) == 0)"
                f".then(pl.concat_str([({us} // {size}).cast(pl.String), pl.lit({unit!r})]))"
            )
        return chain + f'.otherwise(pl.concat_str([{us}.cast(pl.String), pl.lit("us")]))'

    return let(f"{primary(code)}.dt.total_microseconds()", body, "us")


def pl_json_quote(code: str) -> str:
    """Text as a JSON string, escaped as Python's `json.dumps(..., ensure_ascii=False)`."""
    patterns = [p for p, _ in JSON_ESCAPES]
    replacements = [r for _, r in JSON_ESCAPES]
    escaped = f"{primary(code)}.str.replace_many({patterns!r}, {replacements!r})"
    return f"pl.concat_str([pl.lit('\"'), {escaped}, pl.lit('\"')])"


def pl_json_compact(code: str) -> str:
    """JSON text without the whitespace between its tokens (strings kept as written)."""
    return f"{primary(code)}.str.replace_all({JSON_SPACE!r}, '${{1}}')"


def pl_is_json_null(code: str) -> str:
    """Null, or the JSON null (never null itself)."""
    return f"({primary(code)}.is_null() | ({pl_strip(code)} == 'null'))"


def pl_json_text(code: str) -> str:
    """The text a json value stands for, for reading it as a number or flag (see module doc).

    JSON null is null, a JSON string its content, other JSON its (normalized) text, and text
    that is not JSON (a string a path step took out of its quotes) is itself.
    """
    return let(
        code,
        lambda j: (
            f"pl.when({pl_strip(j)} == 'null').then(pl.lit(None, dtype=pl.String))"
            f'.otherwise(pl.coalesce({j}.str.json_path_match("$"), {j}))'
        ),
        "j",
    )


def pl_json_str(code: str) -> str:
    """`str(json)`: a JSON string's content, JSON null as null, other JSON compacted."""

    def body(j: str) -> str:
        match = f'{j}.str.json_path_match("$")'
        return (
            f"pl.when({pl_strip(j)} == 'null').then(pl.lit(None, dtype=pl.String))"
            f".when({match}.is_null()).then({j})"
            f".when({j}.str.strip_chars_start({WHITESPACE!r}).str.starts_with('\"'))"
            f".then({match})"
            f".otherwise({pl_json_compact(pl_strip(j))})"
        )

    return let(code, body, "j")


def pl_json_encode_json(code: str) -> str:
    """`to_json(json)`: JSON as compact text; text that is not JSON as a JSON string."""

    def body(j: str) -> str:
        return (
            f'pl.when({j}.str.json_path_match("$").is_null() & ({pl_strip(j)} != "null"))'
            f".then({pl_json_quote(j)})"
            f".otherwise({pl_json_compact(pl_strip(j))})"
        )

    return let(code, body, "j")


def pl_int_of_json_text(code: str) -> str:
    """A json value's text as int: true 1, false 0, an integer, or a number truncated."""
    return let(
        code,
        lambda t: (
            f'pl.when({pl_strip(t)} == "true").then(pl.lit(1, dtype=pl.Int64))'
            f'.when({pl_strip(t)} == "false").then(pl.lit(0, dtype=pl.Int64))'
            f".otherwise(pl.coalesce({pl_int_of_text(t)}, {pl_int_of_float(pl_float_of_text(t))}))"
        ),
        "t",
    )


def pl_float_of_json_text(code: str) -> str:
    return let(
        code,
        lambda t: (
            f'pl.when({pl_strip(t)} == "true").then(pl.lit(1.0))'
            f'.when({pl_strip(t)} == "false").then(pl.lit(0.0))'
            f".otherwise({pl_float_of_text(t)})"
        ),
        "t",
    )


def pl_bool_of_json_text(code: str) -> str:
    return let(
        code,
        lambda t: f"pl.coalesce({pl_bool_of_text(t)}, ({pl_float_of_text(t)} != 0))",
        "t",
    )


def pl_json_get(j: str, path: PolarsArg) -> str:
    """The value at a path, as a path step gives it (`$` is the value itself)."""
    if path.is_literal:
        if path.literal == "$":
            return j
        return f"{primary(j)}.str.json_path_match({path.literal!r})"
    return let(
        j,
        lambda v: (
            f'pl.when({path.code} == "$").then({v}).otherwise({v}.str.json_path_match({path.code}))'
        ),
        "j",
    )


def pl_json_value_text(j: str, path: PolarsArg, whole: Callable[[str], str]) -> str:
    """The text of the value at a path: `whole(j)` for `$`, else what the path step gives."""
    if path.is_literal:
        if path.literal == "$":
            return whole(j)
        return f"{primary(j)}.str.json_path_match({path.literal!r})"
    return let(
        j,
        lambda v: (
            f'pl.when({path.code} == "$").then({whole(v)})'
            f".otherwise({v}.str.json_path_match({path.code}))"
        ),
        "j",
    )


def pl_to_json(code: str, t: Type, depth: int = 0) -> str:
    """The value as compact JSON text, null when it is null; nested nulls are `null`."""
    kind = t.kind
    if kind is Kind.NULL:
        return "pl.lit(None, dtype=pl.String)"
    if kind in (Kind.INT, Kind.BOOL):
        return f"{primary(code)}.cast(pl.String)"
    if kind is Kind.FLOAT:
        return let(
            code,
            lambda f: (
                f'pl.when({f}.is_nan() | {f}.is_infinite()).then(pl.lit("null"))'
                f".otherwise({pl_float_to_text(f)})"
            ),
            "f",
        )
    if kind is Kind.STR:
        return pl_json_quote(code)
    if kind is Kind.JSON:
        return pl_json_encode_json(code)
    if kind in (Kind.TIMESTAMP, Kind.DATE, Kind.DURATION):  # their text needs no escapes
        return f"pl.concat_str([pl.lit('\"'), {pl_value_to_text(code, t)}, pl.lit('\"')])"
    if kind is Kind.LIST:
        assert t.elem is not None
        item = pl_to_json("pl.element()", t.elem, depth + 1)
        items = f'{primary(code)}.list.eval({primary(item)}.fill_null("null")).list.join(",")'
        return f'pl.concat_str([pl.lit("["), {items}, pl.lit("]")])'
    if kind is Kind.STRUCT:

        def body(r: str) -> str:
            parts: list[str] = []
            for index, (name, field_type) in enumerate(t.fields):
                key = ("," if index else "") + _json.dumps(name, ensure_ascii=False) + ":"
                value = pl_to_json(f"{r}.struct.field({name!r})", field_type, depth + 1)
                parts += [pl_str(key), f'{primary(value)}.fill_null("null")']
            inner = ", ".join([pl_str("{"), *parts, pl_str("}")])
            return f"pl.when({r}.is_not_null()).then(pl.concat_str([{inner}]))"

        return let(code, body, f"r{depth}")
    raise AssertionError(t)


def pl_value_to_text(code: str, t: Type) -> str:
    """`str(x)` for every type but json, lists and records."""
    match t.kind:
        case Kind.INT | Kind.BOOL:
            return f"{primary(code)}.cast(pl.String)"
        case Kind.FLOAT:
            return pl_float_to_text(code)
        case Kind.STR:
            return code
        case Kind.TIMESTAMP:
            return pl_timestamp_to_text(code)
        case Kind.DATE:
            return pl_date_to_text(code)
        case Kind.DURATION:
            return pl_duration_to_text(code)
    raise AssertionError(t)


# ============================================================================== SQL


def sql_dtype(t: Type, dialect: str) -> exp.DataType:
    """The SQL column type of `t` (imported late: the compiler imports this registry)."""
    from flowc.compiler.sql_expr import sql_type

    return sql_type(t, dialect)


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int | float | str) -> exp.Expression:
    if isinstance(value, int) and value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def typed_null(t: Type, dialect: str) -> exp.Expression:
    return exp.cast(exp.null(), sql_dtype(t, dialect))


def double(dialect: str) -> exp.DataType:
    return exp.DataType.build("DOUBLE PRECISION" if dialect != "duckdb" else "DOUBLE")


def double_literal(value: str, dialect: str) -> exp.Expression:
    """A float constant such as 'NaN' or 'Infinity', typed as a double."""
    return exp.cast(text(value), double(dialect))


TEXT = exp.DataType.build("TEXT")
BIGINT = exp.DataType.build("BIGINT")
NUMERIC = exp.DataType.build("NUMERIC")
BOOLEAN = exp.DataType.build("BOOLEAN")


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def case(
    branches: Sequence[tuple[exp.Expression, exp.Expression]],
    otherwise: exp.Expression | None = None,
) -> exp.Expression:
    result = exp.Case()
    for condition, value in branches:
        result = result.when(condition, value)
    return result.else_(otherwise) if otherwise is not None else result


def _connect(
    connector: type[exp.And] | type[exp.Or], parts: Sequence[exp.Expression]
) -> exp.Expression:
    result: exp.Expression | None = None
    for part in parts:
        operand = exp.paren(part) if isinstance(part, exp.Connector) else part
        result = operand if result is None else connector(this=result, expression=operand)
    assert result is not None
    return result


def and_(*parts: exp.Expression) -> exp.Expression:
    return _connect(exp.And, parts)


def or_(*parts: exp.Expression) -> exp.Expression:
    return _connect(exp.Or, parts)


def cat(*parts: exp.Expression) -> exp.Expression:
    """`a || b || ...`: null when any part is null."""
    result = parts[0]
    for part in parts[1:]:
        result = exp.DPipe(this=result, expression=part, safe=False)
    return result


def eq(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return exp.EQ(this=left, expression=right)


def is_null(value: exp.Expression) -> exp.Expression:
    return exp.Is(this=exp.paren(value), expression=exp.Null())


def matches(value: exp.Expression, pattern: str) -> exp.Expression:
    """A full match of an anchored regular expression (RE2 and POSIX agree on these)."""
    return exp.RegexpLike(this=value, expression=text(pattern))


def sql_cast(arg: SqlArg, t: Type, dialect: str) -> exp.Expression:
    """The argument as a value of `t` (int widened to float, null typed)."""
    if arg.type.kind is t.kind and t.kind not in (Kind.LIST, Kind.STRUCT):
        return arg.expr
    if arg.literal is None:
        return typed_null(t, dialect)
    wanted = sql_dtype(t, dialect)
    if arg.type.kind is not Kind.NULL and sql_dtype(arg.type, dialect) == wanted:
        return arg.expr
    return exp.cast(arg.expr, wanted)


def sql_strip(value: exp.Expression) -> exp.Expression:
    return exp.Trim(this=value, expression=text(WHITESPACE))


def _extract(value: exp.Expression, pattern: str, dialect: str) -> exp.Expression:
    """Group 1 of an anchored regular expression's match; null (or '') when none."""
    if dialect == "duckdb":
        return fn("REGEXP_EXTRACT", value, text(pattern), number(1))  # '' when none
    match = fn("REGEXP_MATCH", value, text(pattern))  # null when none
    return exp.Bracket(this=exp.paren(match), expressions=[number(1)], offset=1)


def sql_int_of_text(value: exp.Expression, dialect: str) -> exp.Expression:
    """Text to int by the canonical rule (null when it is not one, or does not fit)."""
    digits = _extract(value, INT_TEXT, dialect)
    if dialect == "duckdb":
        return exp.TryCast(this=digits, to=BIGINT)
    # PostgreSQL has no TRY_CAST: the range is checked on NUMERIC first.
    n = exp.cast(digits, NUMERIC)
    in_range = exp.Between(this=n, low=number(INT_MIN), high=number(INT_MAX))
    return case([(in_range, exp.cast(n.copy(), BIGINT))])


def sql_float_of_text(value: exp.Expression, dialect: str) -> exp.Expression:
    """Text to float by the canonical rule: finite, or null."""
    digits = _extract(value, FLOAT_TEXT, dialect)
    if dialect == "duckdb":
        parsed = exp.TryCast(this=digits, to=double(dialect))
        return case([(fn("ISFINITE", parsed), parsed.copy())])
    # PostgreSQL raises on overflow and on underflow to zero: checked on NUMERIC first.
    n = exp.cast(digits, NUMERIC)
    size = exp.Abs(this=n)
    return case(
        [
            (exp.GT(this=size, expression=number(FLOAT_MAX)), exp.null()),
            (
                exp.LT(this=size.copy(), expression=number(FLOAT_HALF_MIN)),
                double_literal("0", dialect),
            ),
        ],
        exp.cast(n.copy(), double(dialect)),
    )


def sql_bool_of_text(value: exp.Expression) -> exp.Expression:
    lowered = exp.Lower(this=sql_strip(value))
    return exp.Case(this=lowered).when(text("true"), exp.true()).when(text("false"), exp.false())


def sql_int_of_float(value: exp.Expression, dialect: str) -> exp.Expression:
    """Truncated toward zero; null for NaN, inf and values beyond the int range."""
    whole = fn("TRUNC", value)
    if dialect == "duckdb":
        return exp.TryCast(this=whole, to=BIGINT)
    # The largest double below 2^63 is 2^63 - 1024; NaN is not between (it sorts last).
    low, high = (exp.cast(number(n), double(dialect)) for n in (INT_MIN, 2**63 - 1024))
    fits = exp.Between(this=value.copy(), low=low, high=high)
    return case([(fits, exp.cast(whole, BIGINT))])


def sql_float_to_text(value: exp.Expression, dialect: str) -> exp.Expression:
    """A float as Python's `repr` writes it (DuckDB's cast already does)."""
    if dialect == "duckdb":
        return exp.cast(value, TEXT)
    # PostgreSQL writes the same shortest digits, but `1` for 1.0, `1e+15` where Python
    # writes `1000000000000000.0`, and NaN and Infinity in words.
    t = exp.cast(value, TEXT)
    digits = fn(
        "REPLACE",
        fn("SPLIT_PART", fn("LTRIM", t.copy(), text("-")), text("e"), number(1)),
        text("."),
        text(""),
    )
    sign = case([(exp.LT(this=value.copy(), expression=number(0)), text("-"))], text(""))
    e15 = cat(
        sign,
        fn(
            "RPAD",
            exp.Substring(this=digits, start=number(1), length=number(16)),
            number(16),
            text("0"),
        ),
        text("."),
        exp.Coalesce(
            this=exp.Nullif(
                this=exp.Substring(this=digits.copy(), start=number(17)), expression=text("")
            ),
            expressions=[text("0")],
        ),
    )
    return case(
        [
            (eq(t.copy(), text("NaN")), text("nan")),
            (eq(t.copy(), text("Infinity")), text("inf")),
            (eq(t.copy(), text("-Infinity")), text("-inf")),
            (matches(t.copy(), r"e\+15$"), e15),
            (matches(t.copy(), r"^-?[0-9]+$"), cat(t.copy(), text(".0"))),
        ],
        t.copy(),
    )


def sql_timestamp_to_text(value: exp.Expression, dialect: str) -> exp.Expression:
    utc = exp.AtTimeZone(this=value, zone=text("UTC"))
    if dialect == "duckdb":
        formatted = fn("STRFTIME", utc, text("%Y-%m-%dT%H:%M:%S.%fZ"))
    else:
        formatted = fn("TO_CHAR", utc, text('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    return exp.RegexpReplace(
        this=formatted, expression=text(_NO_MICROSECONDS), replacement=text("Z")
    )


def sql_date_to_text(value: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "duckdb":
        return fn("STRFTIME", value, text("%Y-%m-%d"))
    return fn("TO_CHAR", value, text("YYYY-MM-DD"))


def sql_duration_to_text(value: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "duckdb":
        us: exp.Expression = fn("EPOCH_US", value)
    else:
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=value)
        us = exp.cast(exp.Mul(this=seconds, expression=number(1_000_000)), BIGINT)
    branches: list[tuple[exp.Expression, exp.Expression]] = [(eq(us, number(0)), text("0s"))]
    for unit, size in UNITS_US:
        divisible = eq(exp.Mod(this=us.copy(), expression=number(size)), number(0))
        count = exp.cast(exp.IntDiv(this=us.copy(), expression=number(size)), TEXT)
        branches.append((divisible, cat(count, text(unit))))
    return case(branches, cat(exp.cast(us.copy(), TEXT), text("us")))


def sql_json_quote(value: exp.Expression, dialect: str) -> exp.Expression:
    """Text as a JSON string, escaped as Python's `json.dumps(..., ensure_ascii=False)`."""
    if dialect != "duckdb":
        return exp.cast(fn("TO_JSON", value), TEXT)  # PostgreSQL escapes the same way
    # DuckDB's to_json writes \u001F where Python writes \u001f: escape by hand.
    escaped = value
    for plain, escape in JSON_ESCAPES:
        source = text(plain) if plain in ('"', "\\") else fn("CHR", number(ord(plain)))
        escaped = fn("REPLACE", escaped, source, text(escape))
    return cat(text('"'), escaped, text('"'))


def sql_json_compact(value: exp.Expression) -> exp.Expression:
    """JSON text without the whitespace between its tokens (strings kept as written)."""
    return exp.RegexpReplace(this=value, expression=text(JSON_SPACE), replacement=text("\\1"))


def sql_as_text(value: exp.Expression) -> exp.Expression:
    """A DuckDB json value (JSON, or VARCHAR after a path step) as its text."""
    return exp.cast(value, TEXT)


def sql_json_is_null(value: exp.Expression, dialect: str) -> exp.Expression:
    """Null, or the JSON null (never null itself)."""
    if dialect == "duckdb":
        json_null = eq(sql_strip(sql_as_text(value.copy())), text("null"))
    else:
        json_null = eq(fn("JSONB_TYPEOF", value.copy()), text("null"))
    return exp.paren(or_(is_null(value), json_null))


def sql_json_text(value: exp.Expression, dialect: str) -> exp.Expression:
    """The text a json value stands for (see `pl_json_text`)."""
    if dialect != "duckdb":
        return exp.JSONBExtractScalar(this=value, expression=text("{}"))
    t = sql_as_text(value)
    return case([(fn("JSON_VALID", t), fn("JSON_EXTRACT_STRING", t.copy(), text("$")))], t.copy())


def sql_json_str(value: exp.Expression, dialect: str) -> exp.Expression:
    """`str(json)`: a JSON string's content, JSON null as null, other JSON compacted."""
    if dialect != "duckdb":
        kind = fn("JSONB_TYPEOF", value)
        return case(
            [
                (
                    eq(kind, text("string")),
                    exp.JSONBExtractScalar(this=value.copy(), expression=text("{}")),
                ),
                (eq(kind.copy(), text("null")), exp.null()),
            ],
            sql_json_compact(exp.cast(value.copy(), TEXT)),
        )
    t = sql_as_text(value)
    kind = fn("JSON_TYPE", t.copy())
    return case(
        [
            (exp.Not(this=fn("JSON_VALID", t.copy())), t.copy()),
            (eq(kind, text("VARCHAR")), fn("JSON_EXTRACT_STRING", t.copy(), text("$"))),
            (eq(kind.copy(), text("NULL")), exp.null()),
        ],
        sql_json_compact(sql_strip(t.copy())),
    )


def sql_json_encode_json(value: exp.Expression, dialect: str) -> exp.Expression:
    """`to_json(json)`: JSON as compact text; text that is not JSON as a JSON string."""
    if dialect != "duckdb":
        return sql_json_compact(exp.cast(value, TEXT))
    t = sql_as_text(value)
    return case(
        [(exp.Not(this=fn("JSON_VALID", t)), sql_json_quote(t.copy(), dialect))],
        sql_json_compact(sql_strip(t.copy())),
    )


def sql_int_of_json_text(value: exp.Expression, dialect: str) -> exp.Expression:
    number_value = exp.Coalesce(
        this=sql_int_of_text(value.copy(), dialect),
        expressions=[sql_int_of_float(sql_float_of_text(value.copy(), dialect), dialect)],
    )
    flag = exp.Case(this=sql_strip(value)).when(text("true"), number(1))
    return flag.when(text("false"), number(0)).else_(number_value)


def sql_float_of_json_text(value: exp.Expression, dialect: str) -> exp.Expression:
    flag = exp.Case(this=sql_strip(value)).when(text("true"), double_literal("1", dialect))
    return flag.when(text("false"), double_literal("0", dialect)).else_(
        sql_float_of_text(value.copy(), dialect)
    )


def sql_bool_of_json_text(value: exp.Expression, dialect: str) -> exp.Expression:
    number_flag = exp.NEQ(this=sql_float_of_text(value.copy(), dialect), expression=number(0))
    return exp.Coalesce(this=sql_bool_of_text(value), expressions=[number_flag])


def sql_jsonpath(path: SqlArg) -> exp.Expression:
    """A PostgreSQL jsonpath in strict mode (a missing step is an error, not a match)."""
    if path.is_literal:
        steps = "".join(
            f'."{key}"' if key else f"[{index}]" for key, index in _PATH_STEP.findall(path.literal)
        )
        return exp.cast(text(f"strict ${steps}"), exp.DataType.build("jsonpath", udt=True))
    return exp.cast(cat(text("strict "), path.expr), exp.DataType.build("jsonpath", udt=True))


def sql_json_get(value: exp.Expression, path: SqlArg, dialect: str) -> exp.Expression:
    """The value at a path, as a path step gives it (`$` is the value itself)."""
    if path.is_literal and path.literal == "$":
        return value
    if dialect != "duckdb":
        found = fn("JSONB_PATH_QUERY_FIRST", value, sql_jsonpath(path), text("{}"), exp.true())
        return exp.Nullif(
            this=found, expression=exp.cast(text("null"), exp.DataType.build("JSONB"))
        )
    t = sql_as_text(value)
    extracted = case([(fn("JSON_VALID", t), fn("JSON_EXTRACT_STRING", t.copy(), path.expr))])
    if path.is_literal:
        return extracted
    return case([(eq(path.expr.copy(), text("$")), value.copy())], extracted)


def sql_json_value_text(
    value: exp.Expression,
    path: SqlArg,
    dialect: str,
    whole: Callable[[exp.Expression, str], exp.Expression],
) -> exp.Expression:
    """The text of the value at a path (see `pl_json_value_text`)."""
    if path.is_literal and path.literal == "$":
        return whole(value, dialect)
    if dialect != "duckdb":
        return whole(sql_json_get(value, path, dialect), dialect)  # JSONB all the way
    t = sql_as_text(value)
    extracted = case([(fn("JSON_VALID", t), fn("JSON_EXTRACT_STRING", t.copy(), path.expr))])
    if path.is_literal:
        return extracted
    return case([(eq(path.expr.copy(), text("$")), whole(value.copy(), dialect))], extracted)


def sql_to_json(value: exp.Expression, t: Type, dialect: str, depth: int = 0) -> exp.Expression:
    """The value as compact JSON text, null when it is null; nested nulls are `null`."""
    kind = t.kind
    if kind is Kind.NULL:
        return exp.cast(exp.null(), TEXT)
    if kind in (Kind.INT, Kind.BOOL):
        return exp.cast(value, TEXT)
    if kind is Kind.FLOAT:
        specials = [double_literal(v, dialect) for v in ("NaN", "Infinity", "-Infinity")]
        return case(
            [(exp.In(this=value, expressions=specials), text("null"))],
            sql_float_to_text(value.copy(), dialect),
        )
    if kind is Kind.STR:
        return sql_json_quote(value, dialect)
    if kind is Kind.JSON:
        return sql_json_encode_json(value, dialect)
    if kind in (Kind.TIMESTAMP, Kind.DATE, Kind.DURATION):  # their text needs no escapes
        return cat(text('"'), sql_value_to_text(value, t, dialect), text('"'))
    if dialect != "duckdb":
        elem = t.elem.kind if t.elem is not None else None
        if kind is Kind.LIST and elem in (Kind.INT, Kind.BOOL, Kind.STR, Kind.NULL):
            # ARRAY_TO_JSON writes these items as Python does, without spaces.
            return exp.cast(fn("ARRAY_TO_JSON", value), TEXT)
        raise LoweringUnsupported(
            f"`to_json` of {t} has no PostgreSQL lowering: PostgreSQL writes floats and "
            "times its own way in JSON, and holds records as JSONB, whose text orders keys"
        )
    if kind is Kind.LIST:
        assert t.elem is not None
        name = exp.to_identifier(f"item{depth}")
        item = sql_to_json(name.copy(), t.elem, dialect, depth + 1)
        each = exp.Lambda(
            this=exp.Coalesce(this=item, expressions=[text("null")]), expressions=[name]
        )
        items = fn("ARRAY_TO_STRING", fn("LIST_TRANSFORM", value, each), text(","))
        return cat(text("["), items, text("]"))
    if kind is Kind.STRUCT:
        parts: list[exp.Expression] = [text("{")]
        for index, (field, field_type) in enumerate(t.fields):
            key = ("," if index else "") + _json.dumps(field, ensure_ascii=False) + ":"
            member = exp.Dot(
                this=exp.paren(value.copy()), expression=exp.to_identifier(field, quoted=True)
            )
            encoded = sql_to_json(member, field_type, dialect, depth + 1)
            parts += [text(key), exp.Coalesce(this=encoded, expressions=[text("null")])]
        parts.append(text("}"))
        return case([(is_null(value.copy()), exp.cast(exp.null(), TEXT))], cat(*parts))
    raise AssertionError(t)


def sql_value_to_text(value: exp.Expression, t: Type, dialect: str) -> exp.Expression:
    """`str(x)` for every type but json, lists and records."""
    match t.kind:
        case Kind.INT | Kind.BOOL:
            return exp.cast(value, TEXT)
        case Kind.FLOAT:
            return sql_float_to_text(value, dialect)
        case Kind.STR:
            return value
        case Kind.TIMESTAMP:
            return sql_timestamp_to_text(value, dialect)
        case Kind.DATE:
            return sql_date_to_text(value, dialect)
        case Kind.DURATION:
            return sql_duration_to_text(value, dialect)
    raise AssertionError(t)


# ============================================================================== null flow


def has_null_literal(args: Sequence[PolarsArg] | Sequence[SqlArg]) -> bool:
    """Whether an argument is the literal `null` (its type is the null type)."""
    return any(a.type.kind is Kind.NULL for a in args)


def pl_propagating(lower: PolarsLowering) -> PolarsLowering:
    """A Polars lowering that gives a typed null when an argument is the literal `null`."""

    def lowered(args: Sequence[PolarsArg], target: Target) -> str:
        if has_null_literal(args):
            return pl_null(target.result)
        return lower(args, target)

    return lowered


def sql_propagating(lower: SqlLowering) -> SqlLowering:
    """A SQL lowering that gives a typed null when an argument is the literal `null`."""

    def lowered(args: Sequence[SqlArg], target: Target) -> exp.Expression:
        if has_null_literal(args):
            return typed_null(target.result, target.dialect)
        return lower(args, target)

    return lowered
