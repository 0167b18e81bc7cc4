"""Reading `json` values with JSONPath-lite paths.

A path is `$` (the value itself) followed by `.field` and `[index]` steps (`$.a.b[0]`,
indexes from 0); there are no wildcards or filters, so every path lowers to Polars'
`json_path_match` and to the SQL back ends' JSON functions. A literal path is checked
when the pipeline is compiled (a path computed at run time is used as it is). The typed
getters are `int(json_get(j, path))` and so on in one call: null when the path is missing
or the value does not convert.

How each back end holds json, and how its text is read, is in `_values_lowering`. A
value read by a path is what Polars' `json_path_match` and DuckDB's `->>` give (and `j.a`
gives): a string without its quotes, other values as compact JSON, JSON null as null. So
`json_get(j, "$.s")` of the string "x" is the text `x`, and the getters read the text at
the path by the rules of `int`, `float` and `bool` (a JSON string holding a number is read
as the number). `json_str(j, "$")` is `str(j)`. Where the engines re-serialize a part of
a document they may write numbers differently (`1e16` is `1e+16` in Polars,
`10000000000000000.0` in DuckDB); the numbers read from it are the same. DuckDB's JSON
parser also takes NaN, Infinity and trailing commas, which Polars' refuses: a raw json
value holding them reads differently (`parse_json` refuses them in both).

`json_length` has no Polars function: the compact text, its strings emptied, is split
into characters and the commas at depth 1 are counted.

PostgreSQL: json is JSONB; paths lower to strict-mode `jsonb_path_query_first` (a path
computed at run time must then use plain field names). A string read by a path stays a
JSON string there, which is read the same way except when its content is itself JSON
(`"null"`, `"[1]"`); `json_str` of an object or list gives JSONB's text, compacted, with
keys in JSONB's order.
"""

from collections.abc import Sequence

import sqlglot.expressions as exp

from flowc.stdlib.functions import _values_lowering as v
from flowc.stdlib.lowering import PolarsArg, PolarsLowering, SqlArg, SqlLowering, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "json",
    "JSON",
    "Reading `json` values. Paths are JSONPath-lite: `$` then `.field` and `[index]` "
    "steps, such as `$.a.b[0]`. The typed getters return null when the path is missing "
    "or the value does not convert.",
)
_J = Param("j", "json", "the json value")
_PATH = Param("path", "str", "a JSONPath-lite path such as `$.a.b[0]`")
_DOC = r'parse_json("{\"a\": {\"b\": [10, 20]}, \"s\": \"x\", \"f\": 2.5, \"ok\": true}")'


def _checked(name: str, path: PolarsArg | SqlArg) -> None:
    if path.is_literal and path.literal is not None:
        v.literal_path(name, path.literal)


# ---- Polars ----


def _get_pl(a: Sequence[PolarsArg], _: Target) -> str:
    _checked("json_get", a[1])
    return v.pl_json_get(a[0].code, a[1])


def _str_pl(a: Sequence[PolarsArg], _: Target) -> str:
    _checked("json_str", a[1])
    return v.pl_json_value_text(a[0].code, a[1], v.pl_json_str)


def _getter_pl(name: str) -> PolarsLowering:
    read = {
        "json_int": v.pl_int_of_json_text,
        "json_float": v.pl_float_of_json_text,
        "json_bool": v.pl_bool_of_json_text,
    }[name]

    @v.pl_propagating
    def lowered(a: Sequence[PolarsArg], _: Target) -> str:
        _checked(name, a[1])
        return read(v.pl_json_value_text(a[0].code, a[1], v.pl_json_text))

    return lowered


def _has_pl(a: Sequence[PolarsArg], _: Target) -> str:
    if v.has_null_literal(a):
        return "pl.lit(False)"
    _checked("json_has", a[1])
    return v.let(
        v.pl_json_get(a[0].code, a[1]),
        lambda g: f"({g}.is_not_null() & ({v.pl_strip(g)} != 'null'))",
        "found",
    )


_COMMA_DEPTH = (
    "((pl.element().is_in(['[', '{']).cast(pl.Int32)"
    " - pl.element().is_in([']', '}']).cast(pl.Int32)).cum_sum() == 1)"
)


def _length_pl(a: Sequence[PolarsArg], _: Target) -> str:
    # Polars has no JSON length: the compact text, its strings emptied, is split into
    # characters, and the commas at depth 1 are counted (one fewer than the items).
    def count(compact: str) -> str:
        commas = (
            f"{compact}.str.split('').list.eval(((pl.element() == ',') & {_COMMA_DEPTH}).sum())"
            ".list.first().cast(pl.Int64)"
        )
        return f"({commas} + ({compact}.str.len_bytes() > 2).cast(pl.Int64))"

    def body(j: str) -> str:
        start = f"{j}.str.strip_chars_start({v.WHITESPACE!r})"
        container = f"({start}.str.starts_with('[') | {start}.str.starts_with('{{'))"
        emptied = f'{j}.str.json_path_match("$").str.replace_all({v.JSON_STRING!r}, \'""\')'
        return f"pl.when({container}).then({v.let(emptied, count, 'c')})"

    return v.let(a[0].code, body, "j")


# ---- SQL ----


def _get_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    _checked("json_get", a[1])
    return v.sql_json_get(a[0].expr, a[1], target.dialect)


def _str_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    _checked("json_str", a[1])
    return v.sql_json_value_text(a[0].expr, a[1], target.dialect, v.sql_json_str)


def _getter_sql(name: str) -> SqlLowering:
    read = {
        "json_int": v.sql_int_of_json_text,
        "json_float": v.sql_float_of_json_text,
        "json_bool": v.sql_bool_of_json_text,
    }[name]

    @v.sql_propagating
    def lowered(a: Sequence[SqlArg], target: Target) -> exp.Expression:
        _checked(name, a[1])
        text = v.sql_json_value_text(a[0].expr, a[1], target.dialect, v.sql_json_text)
        return read(text, target.dialect)

    return lowered


def _has_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    if v.has_null_literal(a):
        return exp.false()
    _checked("json_has", a[1])
    found = v.sql_json_get(a[0].expr, a[1], target.dialect)
    return exp.Not(this=v.sql_json_is_null(found, target.dialect))


def _length_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    if target.dialect != "duckdb":
        kind = v.fn("JSONB_TYPEOF", a[0].expr)
        keys = v.fn("JSONB_PATH_QUERY_ARRAY", a[0].expr.copy(), v.text("$.keyvalue()"))
        return v.case(
            [
                (v.eq(kind, v.text("array")), v.fn("JSONB_ARRAY_LENGTH", a[0].expr.copy())),
                (v.eq(kind.copy(), v.text("object")), v.fn("JSONB_ARRAY_LENGTH", keys)),
            ]
        )
    t = v.sql_as_text(a[0].expr)
    kind = v.fn("JSON_TYPE", t.copy())
    return v.case(
        [
            (exp.Not(this=v.fn("JSON_VALID", t)), exp.null()),
            (v.eq(kind, v.text("ARRAY")), exp.cast(v.fn("JSON_ARRAY_LENGTH", t.copy()), v.BIGINT)),
            (
                v.eq(kind.copy(), v.text("OBJECT")),
                exp.cast(v.fn("LEN", v.fn("JSON_KEYS", t.copy())), v.BIGINT),
            ),
        ]
    )


def _getter(name: str, returns: str, result_path: str, result: str, *more: Example) -> Function:
    """A typed getter: the conversion `returns(json_get(j, path))` as one call."""
    return Function(
        name=name,
        category="json",
        params=(_J, _PATH),
        returns=returns,
        nulls=Nulls.FALLIBLE,
        doc=f"The value at a path as {returns}, like `{returns}(json_get(j, path))`; null "
        "when the path is missing or the value does not convert.",
        examples=(
            Example(f'{name}({_DOC}, "{result_path}")', result),
            Example(f'{name}({_DOC}, "$.missing")', "null"),
            *more,
        ),
        polars=_getter_pl(name),
        sql=_getter_sql(name),
    )


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="json_get",
        category="json",
        params=(_J, _PATH),
        returns="json",
        nulls=Nulls.PROPAGATE,
        doc="The json value at a path, to pass a part of a document on; null when missing.",
        examples=(
            Example(f'json_int(json_get({_DOC}, "$.a"), "$.b[1]")', "20"),
            Example(f'str(json_get({_DOC}, "$.s"))', '"x"'),
            Example(f'str(json_get({_DOC}, "$.a.b"))', '"[10,20]"'),
            Example(f'is_null(json_get({_DOC}, "$.a.b[2]"))', "true"),
        ),
        polars=v.pl_propagating(_get_pl),
        sql=v.sql_propagating(_get_sql),
    ),
    Function(
        name="json_str",
        category="json",
        params=(_J, _PATH),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="The value at a path as text: a string without its quotes, anything else as its "
        "JSON text; null when the path is missing.",
        examples=(
            Example(f'json_str({_DOC}, "$.s")', '"x"'),
            Example(f'json_str({_DOC}, "$.a.b[0]")', '"10"'),
            Example(f'json_str({_DOC}, "$.a")', '"{\\"b\\":[10,20]}"'),
            Example(f'json_str({_DOC}, "$.nope")', "null"),
            Example('json_str(parse_json("\\"x\\""), "$")', '"x"'),
        ),
        polars=v.pl_propagating(_str_pl),
        sql=v.sql_propagating(_str_sql),
    ),
    _getter(
        "json_int",
        "int",
        "$.a.b[0]",
        "10",
        Example(f'json_int({_DOC}, "$.f")', "2"),
        Example(f'json_int({_DOC}, "$.s")', "null"),
        Example('json_int(parse_json("{\\"n\\": \\"42\\"}"), "$.n")', "42"),
    ),
    _getter(
        "json_float",
        "float",
        "$.f",
        "2.5",
        Example(f'json_float({_DOC}, "$.a.b[1]")', "20.0"),
        Example(f'json_float({_DOC}, "$.a")', "null"),
    ),
    _getter(
        "json_bool",
        "bool",
        "$.ok",
        "true",
        Example(f'json_bool({_DOC}, "$.s")', "null"),
        Example(f'json_bool({_DOC}, "$.a.b[0]")', "true"),
    ),
    Function(
        name="json_has",
        category="json",
        params=(_J, _PATH),
        returns="bool",
        nulls=Nulls.NEVER,
        doc="Tells whether a path leads to a non-null value, to route records by their shape.",
        examples=(
            Example(f'json_has({_DOC}, "$.a.b")', "true"),
            Example(f'json_has({_DOC}, "$.a.c")', "false"),
            Example(f'json_has({_DOC}, "$")', "true"),
            Example('json_has(parse_json("{\\"a\\": null}"), "$.a")', "false"),
            Example('json_has(parse_json("{oops"), "$")', "false"),
        ),
        polars=_has_pl,
        sql=_has_sql,
    ),
    Function(
        name="json_length",
        category="json",
        params=(_J,),
        returns="int",
        nulls=Nulls.FALLIBLE,
        doc="The number of items of a json list or fields of a json record; null for anything "
        "else.",
        examples=(
            Example(f'json_length(json_get({_DOC}, "$.a.b"))', "2"),
            Example(f"json_length({_DOC})", "4"),
            Example(f'json_length(json_get({_DOC}, "$.s"))', "null"),
            Example('json_length(parse_json("[[1, 2], {\\"a\\": \\",]\\"}, \\"[\\"]"))', "3"),
            Example('json_length(parse_json("[]"))', "0"),
            Example('json_length(parse_json("\\"[1, 2]\\""))', "null"),
        ),
        polars=v.pl_propagating(_length_pl),
        sql=v.sql_propagating(_length_sql),
    ),
)
