"""Conversions between types, including the way out of `json`.

A json value must be converted before it is used as a number, text or flag; the
conversions that can fail on bad input (`int("4x")`) return null instead of failing the
batch, and their `?` type makes the checker ask what to do with that null.

Both back ends convert by the same explicit rules, not by their own casts (which differ:
DuckDB's cast rounds `"3.9"` to 4 and reads `"4_2"`, PostgreSQL writes 1.0 as `1`); the
rules and canonical text formats are listed in `_values_lowering`. In short:

- text to a number or flag: ASCII whitespace around it is ignored; `int` wants an integer
  (`"3.9"` is null), `float` decimal notation with an optional exponent (`"nan"`, `"inf"`
  and anything beyond the float range are null), `bool` `true` or `false` in any case.
- a float to `int` is truncated toward zero; null for NaN, inf and beyond the int range.
- `str` writes floats as Python's `repr` does (`2.5`, `1.0`, `1e+16`, `1e-05`, `nan`),
  timestamps as `2026-01-01T00:00:00Z` (six fractional digits when there are
  microseconds), dates as `2026-03-15`, durations as a duration literal in their largest
  exact unit (`90m`), lists and records as their JSON (like `to_json`).
- json converts by its text: JSON null is null; a JSON string is read as its content (so
  `int` of `"42"` is 42, and `str` of `"abc"` is `abc`, without quotes); `true` and
  `false` convert to 1 and 0 (1.0 and 0.0); `int` of a JSON number with a fraction is
  truncated; `bool` of a number is whether it is not 0; `str` of anything else is its
  JSON text, compacted. A string a path step took out of its quotes (`j.name`) converts
  the same way.
- `int`, `float` and `bool` of timestamps, dates, durations, lists and records are not
  defined: the lowering refuses them and names the function to use.
- `parse_json` takes strict JSON (RFC 8259), as Polars' parser does: DuckDB's would also
  take NaN, Infinity and trailing commas, so those are refused by hand. One difference
  is left: a number beyond the float range (`1e400`) is valid JSON in DuckDB and
  PostgreSQL, not in Polars, where the whole text gives null.

PostgreSQL: `parse_json` of a value that is not a literal needs PostgreSQL 16 or later
(`pg_input_is_valid`; PostgreSQL 15 has no way to test text for JSON without raising);
`to_json` and `str` of lists are lowered only for lists of int, bool or str, and not for
records, which are JSONB there (its text orders keys and writes numbers its own way);
json text comes out as JSONB normalizes it (keys ordered, `1e3` written `1000`). Text
with an exponent beyond NUMERIC's range (`1e999999`) raises in `float` there.
"""

import json
from collections.abc import Sequence

import sqlglot.expressions as exp

from flowc.dsl.types import Kind
from flowc.stdlib.functions import _values_lowering as v
from flowc.stdlib.lowering import LoweringUnsupported, PolarsArg, SqlArg, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "conversions",
    "Conversions",
    "Changing a value's type. Conversions that can fail return null on bad input, so "
    "their result is nullable; this is also how `json` values become typed.",
)
_ANY = Param("x", "any", "the value to convert (a json value too)")

_HINTS = {
    Kind.TIMESTAMP: "use `epoch_seconds(t)` or `epoch_millis(t)`",
    Kind.DATE: "use `epoch_seconds(to_timestamp(d))`",
    Kind.DURATION: "use `seconds(d)`",
    Kind.LIST: "convert its items (`list_first`, `list_length`, ...)",
    Kind.STRUCT: "convert one of its fields",
}


def _refuse(function: str, arg: PolarsArg | SqlArg) -> LoweringUnsupported:
    hint = _HINTS.get(arg.type.kind, "") if function != "bool" else ""
    return v.unsupported_kind(function, arg.type, hint)


# ---- Polars ----


@v.pl_propagating
def _int_pl(a: Sequence[PolarsArg], _: Target) -> str:
    code = a[0].code
    match a[0].type.kind:
        case Kind.INT:
            return code
        case Kind.FLOAT:
            return v.pl_int_of_float(code)
        case Kind.BOOL:
            return f"{v.primary(code)}.cast(pl.Int64)"
        case Kind.STR:
            return v.pl_int_of_text(code)
        case Kind.JSON:
            return v.pl_int_of_json_text(v.pl_json_text(code))
    raise _refuse("int", a[0])


@v.pl_propagating
def _float_pl(a: Sequence[PolarsArg], _: Target) -> str:
    code = a[0].code
    match a[0].type.kind:
        case Kind.FLOAT:
            return code
        case Kind.INT | Kind.BOOL:
            return f"{v.primary(code)}.cast(pl.Float64)"
        case Kind.STR:
            return v.pl_float_of_text(code)
        case Kind.JSON:
            return v.pl_float_of_json_text(v.pl_json_text(code))
    raise _refuse("float", a[0])


@v.pl_propagating
def _bool_pl(a: Sequence[PolarsArg], _: Target) -> str:
    code = a[0].code
    match a[0].type.kind:
        case Kind.BOOL:
            return code
        case Kind.INT | Kind.FLOAT:
            return f"({code} != 0)"
        case Kind.STR:
            return v.pl_bool_of_text(code)
        case Kind.JSON:
            return v.pl_bool_of_json_text(v.pl_json_text(code))
    raise _refuse("bool", a[0])


@v.pl_propagating
def _str_pl(a: Sequence[PolarsArg], _: Target) -> str:
    kind = a[0].type.kind
    if kind is Kind.JSON:
        return v.pl_json_str(a[0].code)
    if kind in (Kind.LIST, Kind.STRUCT):
        return v.pl_to_json(a[0].code, a[0].type)
    return v.pl_value_to_text(a[0].code, a[0].type)


def _parse_json_pl(a: Sequence[PolarsArg], _: Target) -> str:
    # json_path_match("$") is null for text that is not JSON (and for JSON null).
    return v.let(
        a[0].code,
        lambda s: (
            f'pl.when({s}.str.json_path_match("$").is_not_null() '
            f"| ({v.pl_strip(s)} == 'null')).then({s})"
        ),
        "s",
    )


# ---- SQL ----


@v.sql_propagating
def _int_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    value, dialect = a[0].expr, target.dialect
    match a[0].type.kind:
        case Kind.INT:
            return value
        case Kind.FLOAT:
            return v.sql_int_of_float(value, dialect)
        case Kind.BOOL:
            # PostgreSQL has no cast from boolean to bigint.
            return v.case([(value, v.number(1)), (exp.Not(this=value.copy()), v.number(0))])
        case Kind.STR:
            return v.sql_int_of_text(value, dialect)
        case Kind.JSON:
            return v.sql_int_of_json_text(v.sql_json_text(value, dialect), dialect)
    raise _refuse("int", a[0])


@v.sql_propagating
def _float_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    value, dialect = a[0].expr, target.dialect
    match a[0].type.kind:
        case Kind.FLOAT:
            return value
        case Kind.INT:
            return exp.cast(value, v.double(dialect))
        case Kind.BOOL:
            one, zero = v.double_literal("1", dialect), v.double_literal("0", dialect)
            return v.case([(value, one), (exp.Not(this=value.copy()), zero)])
        case Kind.STR:
            return v.sql_float_of_text(value, dialect)
        case Kind.JSON:
            return v.sql_float_of_json_text(v.sql_json_text(value, dialect), dialect)
    raise _refuse("float", a[0])


@v.sql_propagating
def _bool_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    value, dialect = a[0].expr, target.dialect
    match a[0].type.kind:
        case Kind.BOOL:
            return value
        case Kind.INT | Kind.FLOAT:
            return exp.NEQ(this=value, expression=v.number(0))
        case Kind.STR:
            return v.sql_bool_of_text(value)
        case Kind.JSON:
            return v.sql_bool_of_json_text(v.sql_json_text(value, dialect), dialect)
    raise _refuse("bool", a[0])


@v.sql_propagating
def _str_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    kind = a[0].type.kind
    if kind is Kind.JSON:
        return v.sql_json_str(a[0].expr, target.dialect)
    if kind in (Kind.LIST, Kind.STRUCT):
        return v.sql_to_json(a[0].expr, a[0].type, target.dialect)
    return v.sql_value_to_text(a[0].expr, a[0].type, target.dialect)


def _valid_json(text: str) -> bool:
    """Whether PostgreSQL's jsonb takes `text` (checked here for a literal)."""

    def reject(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(text, parse_constant=reject)
    except ValueError:
        return False
    return "\\u0000" not in text


def _parse_json_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    jsonb = exp.DataType.build("JSONB")
    if target.dialect == "duckdb":
        # DuckDB's JSON also takes NaN, Infinity and trailing commas; Polars does not.
        outside_strings = exp.RegexpReplace(
            this=a[0].expr, expression=v.text(v.JSON_STRING), replacement=v.text('""')
        )
        lenient = v.matches(outside_strings, r"(?i)nan|inf|,\s*[\]}]")
        parsed = exp.TryCast(this=a[0].expr.copy(), to=exp.DataType.build("JSON"))
        return v.case([(exp.Not(this=lenient), parsed)])
    if isinstance(a[0].literal, str):
        return exp.cast(a[0].expr if _valid_json(a[0].literal) else exp.null(), jsonb)
    if a[0].literal is None:
        return v.typed_null(target.result, target.dialect)
    # PostgreSQL 16+: the cast sees only valid text (and is not folded ahead of the check).
    valid = v.fn("PG_INPUT_IS_VALID", a[0].expr, v.text("jsonb"))
    return exp.cast(v.case([(valid, a[0].expr.copy())]), jsonb)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="int",
        category="conversions",
        params=(_ANY,),
        returns="int",
        nulls=Nulls.FALLIBLE,
        doc="Converts to `int`: floats are truncated toward zero, text must be an integer "
        "(spaces around it are ignored), true is 1, json by its text (a JSON number with a "
        "fraction is truncated); null when the value does not convert or does not fit.",
        examples=(
            Example('int("42")', "42"),
            Example('int(" -7 ")', "-7"),
            Example("int(3.9)", "3"),
            Example("int(-3.9)", "-3"),
            Example("int(true)", "1"),
            Example('int("4x")', "null"),
            Example('int("abc")', "null"),
            Example('int("3.9")', "null"),
            Example('int("99999999999999999999")', "null"),
            Example("int(1e19)", "null"),
            Example("int(null)", "null"),
            Example('int(parse_json("42"))', "42"),
            Example('int(parse_json("-2.5"))', "-2"),
            Example('int(parse_json("\\"17\\""))', "17"),
            Example('int(parse_json("true"))', "1"),
            Example('int(parse_json("null"))', "null"),
            Example('int(parse_json("[1]"))', "null"),
        ),
        polars=_int_pl,
        sql=_int_sql,
    ),
    Function(
        name="float",
        category="conversions",
        params=(_ANY,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="Converts to `float`, parsing text such as `2.5`, `.5` or `1e3` (not `nan` or "
        "`inf`), true as 1.0, json by its text; null when the value does not convert or is "
        "beyond the float range.",
        examples=(
            Example('float("2.5")', "2.5"),
            Example('float("1e3")', "1000.0"),
            Example("float(2)", "2.0"),
            Example("float(false)", "0.0"),
            Example('float("n/a")', "null"),
            Example('float("nan")', "null"),
            Example('float("1e999")', "null"),
            Example('float(parse_json("2.5"))', "2.5"),
            Example('float(parse_json("\\"0.5\\""))', "0.5"),
            Example('float(parse_json("{}"))', "null"),
        ),
        polars=_float_pl,
        sql=_float_sql,
    ),
    Function(
        name="str",
        category="conversions",
        params=(_ANY,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Converts to text: floats in their shortest form as Python writes them (`1.0`, "
        "`1e+16`, `1e-05`), timestamps in ISO 8601 UTC, durations as a duration literal, a "
        "json string as its content and other json as compact JSON, lists and records as "
        "JSON; null stays null.",
        examples=(
            Example("str(42)", '"42"'),
            Example("str(2.5)", '"2.5"'),
            Example("str(1.0)", '"1.0"'),
            Example("str(0.00001)", '"1e-05"'),
            Example("str(1e16)", '"1e+16"'),
            Example("str(true)", '"true"'),
            Example("str(@2026-03-15)", '"2026-03-15"'),
            Example("str(@2026-01-01T00:00:00Z)", '"2026-01-01T00:00:00Z"'),
            Example("str(@2026-01-01T08:30:00.25Z)", '"2026-01-01T08:30:00.250000Z"'),
            Example("str(90m)", '"90m"'),
            Example("str(1500ms)", '"1500ms"'),
            Example('str(parse_json("\\"abc\\""))', '"abc"'),
            Example('str(parse_json("{ \\"a\\": [1, 2] }"))', '"{\\"a\\":[1,2]}"'),
            Example("str([1, 2])", '"[1,2]"'),
            Example("str(null)", "null"),
        ),
        polars=_str_pl,
        sql=_str_sql,
    ),
    Function(
        name="bool",
        category="conversions",
        params=(_ANY,),
        returns="bool",
        nulls=Nulls.FALLIBLE,
        doc='Converts to `bool`: numbers are true unless 0, text must be "true" or "false" '
        "(any case, spaces around it ignored), json by its text (a number is true unless "
        "0); null when the value does not convert.",
        examples=(
            Example('bool("true")', "true"),
            Example('bool(" FALSE ")', "false"),
            Example("bool(0)", "false"),
            Example("bool(-2.5)", "true"),
            Example('bool("yes")', "null"),
            Example('bool(parse_json("true"))', "true"),
            Example('bool(parse_json("0"))', "false"),
            Example('bool(parse_json("\\"x\\""))', "null"),
        ),
        polars=_bool_pl,
        sql=_bool_sql,
    ),
    Function(
        name="to_json",
        category="conversions",
        params=(Param("x", "any", "the value to encode: a scalar, list or record"),),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Encodes a value as compact JSON text (no spaces), to send records on as payloads: "
        "floats as `str` writes them (NaN and inf as null), timestamps, dates and durations "
        "as JSON strings of their `str` text.",
        examples=(
            Example("to_json(42)", '"42"'),
            Example("to_json(2.0)", '"2.0"'),
            Example("to_json([1, 2])", '"[1,2]"'),
            Example('to_json({ a: 1, b: "x" })', '"{\\"a\\":1,\\"b\\":\\"x\\"}"'),
            Example('to_json("say \\"hi\\"")', '"\\"say \\\\\\"hi\\\\\\"\\""'),
            Example("to_json([[1.5, 2.0], []])", '"[[1.5,2.0],[]]"'),
            Example("to_json(@2026-03-15)", '"\\"2026-03-15\\""'),
            Example('to_json(parse_json("[1, {\\"b\\": null}]"))', '"[1,{\\"b\\":null}]"'),
            Example("to_json(null)", "null"),
        ),
        polars=v.pl_propagating(lambda a, _: v.pl_to_json(a[0].code, a[0].type)),
        sql=v.sql_propagating(lambda a, t: v.sql_to_json(a[0].expr, a[0].type, t.dialect)),
    ),
    Function(
        name="parse_json",
        category="conversions",
        params=(Param("s", "str", "JSON text"),),
        returns="json",
        nulls=Nulls.FALLIBLE,
        doc="Parses JSON text into a `json` value, to read a payload held in a text field; "
        "null when the text is not JSON.",
        examples=(
            Example('json_int(parse_json("{\\"a\\": 1}"), "$.a")', "1"),
            Example('is_null(parse_json("{oops"))', "true"),
            Example('is_null(parse_json(""))', "true"),
            Example('json_str(parse_json(" \\"x\\" "), "$")', '"x"'),
        ),
        polars=_parse_json_pl,
        sql=_parse_json_sql,
    ),
)
