"""Null handling, and the functions on lists.

The list functions live here until they are many enough for a module of their own; they
are their own category in the docs. `coalesce` is the call form of `??`, for more than two
alternatives.

A json value is null also when it holds the JSON null (`is_null`, `is_not_null`, and so
`required` rules on json fields): in Polars its text is `null`, in DuckDB its JSON text,
in PostgreSQL its `jsonb_typeof` is 'null'. `nullif` follows SQL's NULLIF: a null
sentinel never matches. `list_contains` with a null item is null (not whether the list
holds a null), in Polars as in SQL.
"""

from collections.abc import Sequence

import sqlglot.expressions as exp

from flowc.dsl.types import FLOAT, Kind, Type, list_of
from flowc.stdlib.functions import _values_lowering as v
from flowc.stdlib.lowering import PolarsArg, SqlArg, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "nulls",
    "Nulls",
    "Testing for null, replacing it, and turning sentinel values into it.",
)
LISTS = Category(
    "lists",
    "Lists",
    "Functions on `list<T>` values; index a list with `xs[0]`.",
)
_ANY = Param("x", "any", "the value to test")
_LIST = Param("list", "list<T>", "the list")


# ---- Polars ----


def _coalesce_pl(a: Sequence[PolarsArg], target: Target) -> str:
    return "pl.coalesce(" + ", ".join(v.pl_cast(arg, target.result) for arg in a) + ")"


def _is_null_pl(a: Sequence[PolarsArg], _: Target) -> str:
    if a[0].type.kind is Kind.JSON:
        return v.pl_is_json_null(a[0].code)
    return f"{v.primary(a[0].code)}.is_null()"


def _is_not_null_pl(a: Sequence[PolarsArg], _: Target) -> str:
    if a[0].type.kind is Kind.JSON:
        return v.let(a[0].code, lambda j: f"({j}.is_not_null() & ({v.pl_strip(j)} != 'null'))", "j")
    return f"{v.primary(a[0].code)}.is_not_null()"


def _nullif_pl(a: Sequence[PolarsArg], target: Target) -> str:
    if a[0].literal is None:
        return v.pl_null(target.result)
    value = v.pl_cast(a[0], target.result)
    if a[1].literal is None:
        return value
    sentinel = v.pl_cast(a[1], target.result)
    return v.let(
        value,
        lambda x: (
            f"pl.when({x}.eq_missing({sentinel})).then({v.pl_null(target.result)}).otherwise({x})"
        ),
        "x",
    )


def _list_item_types(a: Sequence[PolarsArg] | Sequence[SqlArg]) -> tuple[Type, Type]:
    """The list and item types a `list_contains` compares in (int with float is float)."""
    list_type, item_type = a[0].type, a[1].type
    elem = list_type.elem
    assert elem is not None
    kinds = {elem.kind, item_type.kind}
    if kinds == {Kind.INT, Kind.FLOAT}:
        return list_of(FLOAT, list_type.nullable), FLOAT
    return list_type, item_type


@v.pl_propagating
def _list_contains_pl(a: Sequence[PolarsArg], _: Target) -> str:
    list_type, item_type = _list_item_types(a)
    items, item = v.pl_cast(a[0], list_type), v.pl_cast(a[1], item_type)
    # `list.contains` finds a null item among the list's nulls; SQL gives null.
    return v.let(
        item,
        lambda i: f"pl.when({i}.is_not_null()).then({v.primary(items)}.list.contains({i}))",
        "item",
    )


# ---- SQL ----


def _coalesce_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    values = [v.sql_cast(arg, target.result, target.dialect) for arg in a]
    return exp.Coalesce(this=values[0], expressions=values[1:])


def _is_null_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    if a[0].type.kind is Kind.JSON:
        return v.sql_json_is_null(a[0].expr, target.dialect)
    return v.is_null(a[0].expr)


def _is_not_null_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    return exp.Not(this=exp.paren(_is_null_sql(a, target)))


def _nullif_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    value = v.sql_cast(a[0], target.result, target.dialect)
    sentinel = v.sql_cast(a[1], target.result, target.dialect)
    return exp.Nullif(this=value, expression=sentinel)


@v.sql_propagating
def _list_length_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    if target.dialect == "duckdb":
        return exp.cast(v.fn("LEN", a[0].expr), v.BIGINT)
    # PostgreSQL's ARRAY_LENGTH is null for an empty array; CARDINALITY is 0.
    return exp.cast(v.fn("CARDINALITY", a[0].expr), v.BIGINT)


@v.sql_propagating
def _list_contains_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    list_type, item_type = _list_item_types(a)
    items = v.sql_cast(a[0], list_type, target.dialect)
    item = v.sql_cast(a[1], item_type, target.dialect)
    if target.dialect == "duckdb":
        # LIST_CONTAINS is null for a null list or item, but false for ([], NULL).
        contains = v.fn("LIST_CONTAINS", items, item)
        return v.case([(v.is_null(item.copy()), exp.null())], contains)
    found = exp.Coalesce(
        this=exp.EQ(this=item, expression=exp.Any(this=exp.paren(items))),
        expressions=[exp.false()],
    )
    missing = v.or_(v.is_null(item.copy()), v.is_null(items.copy()))
    return v.case([(missing, exp.null())], found)


@v.sql_propagating
def _list_first_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    # offset=1: the index is already 1-based, so sqlglot must not shift it.
    return exp.Bracket(this=exp.paren(a[0].expr), expressions=[v.number(1)], offset=1)


@v.sql_propagating
def _list_last_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    if target.dialect == "duckdb":
        last: exp.Expression = v.number(-1)
    else:
        last = v.fn("CARDINALITY", a[0].expr.copy())
    return exp.Bracket(this=exp.paren(a[0].expr), expressions=[last], offset=1)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="coalesce",
        category="nulls",
        params=(
            Param("value", "T?", "the preferred value"),
            Param("fallback", "T", "the values to try next, in order"),
        ),
        returns="T",
        nulls=Nulls.SKIP,
        variadic=True,
        doc="The first argument that is not null, like chained `??`; null only if every "
        "argument is, so a non-null last argument makes the result non-null.",
        examples=(
            Example("coalesce(null, 1)", "1"),
            Example('coalesce(null, null, "x")', '"x"'),
            Example("coalesce(2, 1.5)", "2.0"),
            Example("coalesce(null, null)", "null"),
            Example("list_length(coalesce(null, [1], [2, 3]))", "1"),
        ),
        polars=_coalesce_pl,
        sql=_coalesce_sql,
    ),
    Function(
        name="is_null",
        category="nulls",
        params=(_ANY,),
        returns="bool",
        nulls=Nulls.NEVER,
        doc="Tells whether a value is null (a json null too), for rules and filters.",
        examples=(
            Example("is_null(null)", "true"),
            Example("is_null(0)", "false"),
            Example('is_null("")', "false"),
            Example('is_null(parse_json("null"))', "true"),
            Example('is_null(parse_json("0"))', "false"),
            Example('is_null(json_get(parse_json("{\\"a\\": null}"), "$.a"))', "true"),
        ),
        polars=_is_null_pl,
        sql=_is_null_sql,
    ),
    Function(
        name="is_not_null",
        category="nulls",
        params=(_ANY,),
        returns="bool",
        nulls=Nulls.NEVER,
        doc="Tells whether a value is present, the negation of `is_null`.",
        examples=(
            Example('is_not_null("")', "true"),
            Example("is_not_null(null)", "false"),
            Example('is_not_null(parse_json(" null "))', "false"),
            Example('is_not_null(parse_json("[]"))', "true"),
        ),
        polars=_is_not_null_pl,
        sql=_is_not_null_sql,
    ),
    Function(
        name="nullif",
        category="nulls",
        params=(
            Param("x", "T", "the value"),
            Param("sentinel", "T", "the value that stands for missing data"),
        ),
        returns="T",
        nulls=Nulls.FALLIBLE,
        doc='Null when a value equals a sentinel (such as 0, -1 or ""), else the value, so '
        "that missing data is marked as such; a null sentinel matches nothing.",
        examples=(
            Example("nullif(0, 0)", "null"),
            Example('nullif("a", "")', '"a"'),
            Example("nullif(-1, -1.0)", "null"),
            Example("nullif(3, null)", "3"),
            Example("nullif(null, 0)", "null"),
        ),
        polars=_nullif_pl,
        sql=_nullif_sql,
    ),
    Function(
        name="list_length",
        category="lists",
        params=(Param("list", "list<any>", "the list"),),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="The number of items in a list (null items count too).",
        examples=(
            Example("list_length([1, 2, 3])", "3"),
            Example("list_length([])", "0"),
            Example('list_length(["a", null])', "2"),
        ),
        polars=v.pl_propagating(lambda a, _: f"{v.primary(a[0].code)}.list.len().cast(pl.Int64)"),
        sql=_list_length_sql,
    ),
    Function(
        name="list_contains",
        category="lists",
        params=(_LIST, Param("item", "T", "the item to look for")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a list holds an item, for tags and other multi-valued fields.",
        examples=(
            Example('list_contains(["a", "b"], "b")', "true"),
            Example("list_contains([1, 2], 3)", "false"),
            Example("list_contains([1, 2], 2.0)", "true"),
            Example('list_contains(["a", null], "b")', "false"),
            Example('list_contains(["a", null], null)', "null"),
        ),
        polars=_list_contains_pl,
        sql=_list_contains_sql,
    ),
    Function(
        name="list_first",
        category="lists",
        params=(_LIST,),
        returns="T",
        nulls=Nulls.FALLIBLE,
        doc="The first item of a list; null when the list is empty.",
        examples=(
            Example("list_first([3, 4])", "3"),
            Example("list_first([])", "null"),
            Example('list_first(split("a,b", ","))', '"a"'),
        ),
        polars=v.pl_propagating(lambda a, _: f"{v.primary(a[0].code)}.list.first()"),
        sql=_list_first_sql,
    ),
    Function(
        name="list_last",
        category="lists",
        params=(_LIST,),
        returns="T",
        nulls=Nulls.FALLIBLE,
        doc="The last item of a list; null when the list is empty.",
        examples=(
            Example('list_last(split("a/b/c", "/"))', '"c"'),
            Example("list_last([3, 4])", "4"),
            Example("list_last([])", "null"),
        ),
        polars=v.pl_propagating(lambda a, _: f"{v.primary(a[0].code)}.list.last()"),
        sql=_list_last_sql,
    ),
)
