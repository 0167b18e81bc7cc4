"""The stdlib declarations: call resolution, registry invariants, examples and docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowc.dsl import ast
from flowc.dsl.parser import parse
from flowc.dsl.types import BOOL, NULL, Kind, Type, common, list_of, parse_spec, struct
from flowc.stdlib.docgen import render_stdlib_markdown
from flowc.stdlib.functions import (
    CATEGORIES,
    REGISTRY,
    aggregates,
    conversions,
    hashing,
    json,
    lookup,
    nulls,
    numbers,
    strings,
    time,
    urls,
)
from flowc.stdlib.signature import (
    Category,
    DeclarationError,
    Example,
    Function,
    Nulls,
    Param,
    build_registry,
    resolve_call,
    spec_type,
)

ROOT = Path(__file__).resolve().parent.parent


def t(spec: str) -> Type:
    """A type from its spec, `null` included (the type of the literal)."""
    return NULL if spec == "null" else parse_spec(spec)


# ---- calls that fit ----

GOOD_CALLS = [
    # (function, argument specs, result spec)
    ("lower", ["str"], "str"),
    ("lower", ["str?"], "str?"),
    ("lower", ["null"], "str?"),
    ("length", ["str"], "int"),
    ("substring", ["str", "int"], "str"),
    ("substring", ["str", "int?", "int"], "str?"),
    ("split", ["str", "str"], "list<str>"),
    ("join", ["list<str>", "str"], "str"),
    ("regex_extract", ["str", "str"], "str?"),
    ("regex_extract", ["str", "str", "int"], "str?"),
    ("pad_left", ["str", "int"], "str"),
    # num: int stays int, any float makes float
    ("abs", ["int"], "int"),
    ("abs", ["float?"], "float?"),
    ("round", ["int"], "float"),
    ("round", ["float?", "int"], "float?"),
    ("floor", ["float"], "int"),
    ("clamp", ["int", "int", "int"], "int"),
    ("clamp", ["int", "int", "float"], "float"),
    ("sqrt", ["int"], "float?"),
    ("pow", ["int", "int"], "float"),
    ("least", ["int", "int", "int"], "int"),
    ("least", ["int", "null"], "int"),
    ("least", ["int?", "int?"], "int?"),
    ("greatest", ["int", "float"], "float"),
    # conversions: json comes out through them, nullable
    ("int", ["json"], "int?"),
    ("int", ["str"], "int?"),
    ("float", ["json"], "float?"),
    ("str", ["int"], "str"),
    ("str", ["json"], "str?"),
    ("str", ["int?"], "str?"),
    ("bool", ["str"], "bool?"),
    ("to_json", ["list<int>"], "str"),
    ("parse_json", ["str"], "json?"),
    # time
    ("now", [], "timestamp"),
    ("parse_timestamp", ["str"], "timestamp?"),
    ("parse_timestamp", ["str", "str"], "timestamp?"),
    ("parse_date", ["str"], "date?"),
    ("truncate_timestamp", ["timestamp", "duration"], "timestamp"),
    ("year", ["timestamp?"], "int?"),
    ("from_epoch_seconds", ["float"], "timestamp"),
    ("seconds", ["duration"], "float"),
    ("duration_seconds", ["int"], "duration"),
    # json: a json value can always hold null
    ("json_get", ["json", "str"], "json?"),
    ("json_int", ["json", "str"], "int?"),
    ("json_has", ["json", "str"], "bool"),
    ("json_length", ["json"], "int?"),
    # hashing, urls
    ("sha256", ["str"], "str"),
    ("hash", ["list<str>"], "int"),
    ("url_host", ["str"], "str?"),
    ("url_encode", ["str"], "str"),
    # nulls: coalesce is non-null as soon as one argument is
    ("coalesce", ["int?", "int"], "int"),
    ("coalesce", ["int?", "int?"], "int?"),
    ("coalesce", ["int?", "float"], "float"),
    ("coalesce", ["null", "null", "str"], "str"),
    ("coalesce", ["str?", "str?", "str"], "str"),
    ("coalesce", ["null", "null"], "null"),
    ("is_null", ["json"], "bool"),
    ("is_null", ["null"], "bool"),
    ("is_not_null", ["str?"], "bool"),
    ("nullif", ["int", "int"], "int?"),
    # lists: T binds to the items
    ("list_length", ["list<timestamp>"], "int"),
    ("list_contains", ["list<int>", "float"], "bool"),
    ("list_contains", ["list<str>", "str?"], "bool?"),
    ("list_first", ["list<str>"], "str?"),
    ("list_last", ["list<{ a: int }>"], "{ a: int }?"),
    # aggregates
    ("count", [], "int"),
    ("count", ["str?"], "int"),
    ("count_distinct", ["json"], "int"),
    ("sum", ["int"], "int"),
    ("sum", ["float?"], "float?"),
    ("mean", ["int"], "float"),
    ("percentile", ["int", "float"], "float"),
    ("percentile", ["float", "int"], "float"),
    ("min", ["timestamp"], "timestamp"),
    ("max", ["str?"], "str?"),
    ("first", ["bool"], "bool"),
]


@pytest.mark.parametrize(("name", "args", "expected"), GOOD_CALLS)
def test_good_call(name: str, args: list[str], expected: str) -> None:
    result = resolve_call(REGISTRY[name], [t(a) for a in args])
    assert result.problems == ()
    assert result.type == t(expected)


# ---- calls that do not fit ----

BAD_CALLS = [
    # (function, argument specs, code, blamed argument, message, result spec)
    ("lower", [], "E203", None, "`lower` takes 1 argument (s), found 0", "str"),
    ("lower", ["str", "str"], "E203", 1, "`lower` takes 1 argument (s), found 2", "str"),
    ("now", ["int"], "E203", 0, "`now` takes no arguments, found 1", "timestamp"),
    ("round", [], "E203", None, "`round` takes 1 or 2 arguments (x, digits), found 0", "float"),
    (
        "substring",
        ["str"],
        "E203",
        None,
        "`substring` takes 2 or 3 arguments (s, start, len), found 1",
        "str",
    ),
    (
        "coalesce",
        ["int"],
        "E203",
        None,
        "`coalesce` takes at least 2 arguments (value, fallback...), found 1",
        "int",
    ),
    (
        "round",
        ["float", "str"],
        "E204",
        1,
        "`round` expects `digits` to be int, found str",
        "float",
    ),
    ("round", ["str"], "E204", 0, "`round` expects `x` to be int or float, found str", "float"),
    ("year", ["date"], "E204", 0, "`year` expects `t` to be timestamp, found date", "int"),
    (
        "truncate_timestamp",
        ["timestamp", "int"],
        "E204",
        1,
        "`truncate_timestamp` expects `every` to be duration, found int",
        "timestamp",
    ),
    (
        "join",
        ["list<int>", "str"],
        "E204",
        0,
        "`join` expects `items` to be list<str>, found list<int>",
        "str",
    ),
    (
        "list_length",
        ["str"],
        "E204",
        0,
        "`list_length` expects `list` to be a list, found str",
        "int",
    ),
    ("sum", ["str?"], "E204", 0, "`sum` expects `x` to be int or float, found str?", "int?"),
    # T: later arguments must fit the first
    (
        "coalesce",
        ["int?", "str"],
        "E204",
        1,
        "`coalesce` expects `fallback` to be int (the type of `value`), found str",
        "int",
    ),
    (
        "coalesce",
        ["int?", "int?", "bool"],
        "E204",
        2,
        "`coalesce` expects `fallback` to be int (the type of `value`), found bool",
        "int",
    ),
    (
        "list_contains",
        ["list<int>", "str"],
        "E204",
        1,
        "`list_contains` expects `item` to be int (the type of the items of `list`), found str",
        "bool",
    ),
    # json must be converted first, and the message says how
    (
        "round",
        ["json"],
        "E204",
        0,
        "`round` expects `x` to be int or float, found json: convert the json value first "
        "with `float(...)` or `int(...)`",
        "float?",
    ),
    (
        "lower",
        ["json"],
        "E204",
        0,
        "`lower` expects `s` to be str, found json: convert the json value first with `str(...)`",
        "str?",
    ),
    (
        "year",
        ["json"],
        "E204",
        0,
        "`year` expects `t` to be timestamp, found json: convert the json value first with "
        "`parse_timestamp(str(...))`",
        "int?",
    ),
    (
        "min",
        ["json"],
        "E204",
        0,
        "`min` expects `x` to be a value of a known type, found json: convert the json value "
        "first with `int(...)`, `float(...)`, `str(...)` or `bool(...)`",
        "json?",
    ),
    (
        "coalesce",
        ["float?", "json"],
        "E204",
        1,
        "`coalesce` expects `fallback` to be float (the type of `value`), found json: convert "
        "the json value first with `float(...)`",
        "float?",
    ),
    (
        "list_length",
        ["json"],
        "E204",
        0,
        "`list_length` expects `list` to be a list, found json",
        "int?",
    ),
]


@pytest.mark.parametrize(("name", "args", "code", "arg", "message", "expected"), BAD_CALLS)
def test_bad_call(
    name: str, args: list[str], code: str, arg: int | None, message: str, expected: str
) -> None:
    result = resolve_call(REGISTRY[name], [t(a) for a in args])
    assert [(p.code, p.arg, p.message) for p in result.problems] == [(code, arg, message)]
    # The result type stays usable, so the checker can go on without follow-on errors.
    assert result.type == t(expected)


def test_count_and_type_problems_are_both_reported() -> None:
    result = resolve_call(REGISTRY["round"], [t("str"), t("int"), t("int")])
    assert [(p.code, p.arg) for p in result.problems] == [("E203", 2), ("E204", 0)]


# ---- declarations ----

_P = Param("x", "int", "a number")


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"name": "bad name"}, "not a valid name"),
        ({"params": (Param("x", "strin", "?"),)}, "unknown type 'strin'"),
        ({"params": (Param("a", "int", "?", True), _P)}, "follows an optional one"),
        ({"params": (_P, _P)}, "parameter names repeat"),
        ({"returns": "T"}, "no parameter binds"),
        ({"returns": "any"}, "`any` cannot be returned"),
        ({"params": (), "variadic": True}, "variadic without parameters"),
    ],
)
def test_malformed_declarations_raise(changes: dict[str, object], complaint: str) -> None:
    fields: dict[str, object] = {
        "name": "f",
        "category": "numbers",
        "params": (_P,),
        "returns": "int",
        "nulls": Nulls.PROPAGATE,
        "doc": "A test function.",
        "examples": (Example("f(1)", "1"),),
    }
    with pytest.raises(DeclarationError, match=re.escape(complaint)):
        Function(**{**fields, **changes})  # type: ignore[arg-type]


def test_registry_rejects_duplicates_and_unknown_categories() -> None:
    fn = REGISTRY["abs"]
    with pytest.raises(DeclarationError, match="declared twice"):
        build_registry(CATEGORIES, [fn, fn])
    with pytest.raises(DeclarationError, match="unknown category"):
        build_registry([Category("strings", "Strings", "")], [fn])


@pytest.mark.parametrize(
    ("name", "signature"),
    [
        ("lower", "lower(s: str) -> str"),
        ("round", "round(x: num[, digits: int]) -> float"),
        ("coalesce", "coalesce(value: T?, fallback: T...) -> T"),
        ("count", "count([x: any]) -> int"),
        ("now", "now() -> timestamp"),
    ],
)
def test_signature_text(name: str, signature: str) -> None:
    assert REGISTRY[name].signature == signature


# ---- registry invariants ----

MODULES = (strings, numbers, conversions, time, json, hashing, urls, nulls, aggregates)
FUNCTIONS = list(REGISTRY.values())
IDS = [fn.name for fn in FUNCTIONS]
REQUIRED = (  # the names example programs are written against
    "lower", "upper", "trim", "length", "substring", "replace", "contains", "starts_with",
    "ends_with", "split", "join", "pad_left", "regex_replace", "regex_extract", "abs", "round",
    "floor", "ceil", "sqrt", "pow", "clamp", "least", "greatest", "log", "exp", "sign", "int",
    "float", "str", "bool", "to_json", "parse_json", "now", "parse_timestamp", "parse_date",
    "format_timestamp", "truncate_timestamp", "year", "month", "day", "hour", "minute",
    "second", "weekday", "day_of_year", "to_date", "epoch_seconds", "epoch_millis",
    "from_epoch_seconds", "from_epoch_millis", "to_timezone", "seconds", "duration_seconds",
    "json_get", "json_str", "json_int", "json_float", "json_bool", "json_has", "json_length",
    "md5", "sha1", "sha256", "hash", "url_host", "url_path", "url_query_param", "url_encode",
    "url_decode", "coalesce", "is_null", "is_not_null", "nullif", "list_length",
    "list_contains", "list_first", "count", "count_distinct", "sum", "mean", "median", "min",
    "max", "first", "last", "stddev", "variance", "percentile",
)  # fmt: skip


def test_registry_holds_every_declaration_once() -> None:
    declared = [fn.name for module in MODULES for fn in module.FUNCTIONS]
    assert len(declared) == len(set(declared)) == len(REGISTRY)
    assert len(REGISTRY) >= 65
    assert set(REQUIRED) <= set(REGISTRY)
    assert lookup("lower") is REGISTRY["lower"]
    assert lookup("lowercase") is None


def test_every_category_is_used() -> None:
    assert {c.name for c in CATEGORIES} == {fn.category for fn in FUNCTIONS}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=IDS)
def test_declaration_is_complete(fn: Function) -> None:
    for spec in [fn.returns, *(p.type for p in fn.params)]:
        spec_type(spec)  # raises on a bad spec
    assert fn.doc.strip().endswith(".")
    assert fn.doc[0].isupper() or fn.doc[0] in "`-"
    assert all(p.doc for p in fn.params)
    assert fn.examples
    assert fn.aggregate == (fn.category == "aggregates")
    for example in fn.examples:
        assert re.search(rf"\b{fn.name}\(", example.call), example.call
        # Aggregate examples read a column `x`; the others stand alone.
        assert (example.column is not None) == fn.aggregate


# ---- examples ----


def _expression(text: str) -> ast.Expr:
    """Flow expression text, parsed as the value of a constant."""
    parsed = parse(f"const X = {text}\n")
    assert parsed.diagnostics == (), (text, parsed.diagnostics)
    decl = parsed.module.decls[0]
    assert isinstance(decl, ast.Const)
    return decl.value


def _type_of(expr: ast.Expr, column: Type | None) -> Type | None:
    """The type of an example expression: literals and stdlib calls, the rest unknown.

    Each call is resolved against its declaration and must fit, so an example that
    contradicts its signature fails here, before any back end runs it.
    """
    match expr:
        case ast.Literal(kind="null"):
            return NULL
        case ast.Literal(kind=kind):
            return Type(Kind(kind))
        case ast.ListExpr(items=items):
            item_types = [_type_of(item, column) for item in items]
            elem: Type | None = item_types[0] if item_types else NULL
            for item_type in item_types[1:]:
                elem = None if elem is None or item_type is None else common(elem, item_type)
            return None if elem is None else list_of(elem)
        case ast.RecordExpr(fields=record_fields):
            types = {f.name.name: _type_of(f.value, column) for f in record_fields}
            known = {n: ty for n, ty in types.items() if ty is not None}
            return struct(known) if len(known) == len(types) else None
        case ast.Name(name="x"):
            return column
        case ast.Call(func=func, args=args):
            arg_types = [_type_of(a, column) for a in args]
            known_args = [a for a in arg_types if a is not None]
            if len(known_args) < len(arg_types):
                return None
            result = resolve_call(REGISTRY[func.name], known_args)
            assert result.problems == (), (func.name, result.problems)
            return result.type
        case ast.Binary(op=op, left=left, right=right):
            _type_of(left, column), _type_of(right, column)
            return BOOL if op in ("==", "!=", "<", "<=", ">", ">=") else None
    return None


EXAMPLES = [(fn, example) for fn in FUNCTIONS for example in fn.examples]


@pytest.mark.parametrize(
    ("fn", "example"), EXAMPLES, ids=[f"{fn.name}:{e.call}" for fn, e in EXAMPLES]
)
def test_example_fits_its_signature(fn: Function, example: Example) -> None:
    column = None
    if example.column is not None:
        column_type = _type_of(_expression(example.column), None)
        assert column_type is not None
        assert column_type.elem is not None
        column = column_type.elem
    call_type = _type_of(_expression(example.call), column)
    result_type = _type_of(_expression(example.result), None)
    assert call_type is not None
    assert result_type is not None
    if result_type.kind is Kind.NULL:
        assert call_type.may_be_null, f"{example.call} cannot be null"
    else:
        # Exactly the declared kind: `2` where a float is returned is a wrong example.
        assert result_type.non_null() == call_type.non_null(), (call_type, result_type)


# ---- docs ----


def test_docs_are_generated_from_the_declarations() -> None:
    """docs/stdlib.md must match; regenerate with `python -m flowc.stdlib.docgen`."""
    assert (ROOT / "docs" / "stdlib.md").read_text(encoding="utf-8") == render_stdlib_markdown()


def test_docs_mention_every_function() -> None:
    text = render_stdlib_markdown()
    for fn in FUNCTIONS:
        assert f"### `{fn.name}`" in text
