"""Hypothesis strategies for random, syntactically valid Flow ASTs.

Every node kind and every operator is generated. The ASTs are built by code (no spans,
and literals mostly without their original spelling), so they exercise the formatter's
rendering from values as well as the parser on its output. Two rules keep a generated
AST equal to the parse of its formatted text:

- Names never collide with keywords. The contextual lexer accepts some keywords as names
  in some places only, which a round trip need not preserve.
- The builder folds `-<number>` into a negative literal, so negative numbers are made as
  literals and unary minus never applies to a number literal (nor to another unary
  minus, since `--5` folds too).
"""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import strategies as st

from flowc.dsl import ast
from flowc.dsl.builder import long_string_value
from flowc.dsl.parser import lark_parser

# Every identifier-shaped word of the grammar, `else` included.
KEYWORDS = frozenset(
    str(t.pattern.value)
    for t in lark_parser().terminals
    if t.pattern.type == "str" and str(t.pattern.value).isidentifier()
) | {"else"}

# The newline postlexer takes `<` after `list` for type arguments even in an expression,
# so `where list < 5` at the end of a line runs into the next (a known parser bug).
_AVOID = frozenset({"list"})
_FIRST = string.ascii_letters + "_"
_REST = string.ascii_letters + string.digits + "_"

names: st.SearchStrategy[str] = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_FIRST),
    st.text(_REST, max_size=6),
).filter(lambda name: name not in KEYWORDS and name not in _AVOID)

idents: st.SearchStrategy[ast.Ident] = st.builds(ast.Ident, names)

ACTIONS = ("drop", "dead_letter", "fail", "warn")
BINARY_OPS = ("??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "++", "+", "-", "*", "/", "%")

# Strings: anything encodable; `escape` writes the quotes and escapes.
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)


# ---- literals --------------------------------------------------------------------


def _spelt_float(sign: str, whole: str, fraction: str) -> ast.Literal:
    text = f"{sign}{whole}.{fraction}"
    return ast.Literal("float", float(text), text)


def _duration(count: int, unit: str, spelt: bool) -> ast.Literal:
    sizes = {"ms": 1_000, "s": 10**6, "m": 60 * 10**6, "h": 3600 * 10**6, "d": 86400 * 10**6}
    sizes["w"] = 7 * sizes["d"]
    return ast.Literal("duration", count * sizes[unit], f"{count}{unit}" if spelt else "")


def _timestamp(value: dt.datetime, offset_minutes: int, spelt: bool) -> ast.Literal:
    if not spelt:
        return ast.Literal("timestamp", value.astimezone(dt.UTC))
    local = value.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    text = "@" + local.isoformat()
    return ast.Literal("timestamp", value.astimezone(dt.UTC), text)


def _int(value: int, zeros: int) -> ast.Literal:
    # Leading zeros are a spelling the formatter must keep (`007` stays `007`).
    text = ("-" if value < 0 else "") + "0" * zeros + str(abs(value)) if zeros else ""
    return ast.Literal("int", value, text)


def _long_string(lines: list[str], indent: int) -> ast.Literal:
    # A `"""` string over several lines; its value drops the common indentation.
    body = "\n" + "".join(" " * indent + line + "\n" for line in lines)
    return ast.Literal("str", long_string_value(body), f'"""{body}"""')


def _spelt_string(value: str) -> ast.Literal:
    text = '"' + "".join(f"\\u{{{ord(char):x}}}" for char in value) + '"'
    return ast.Literal("str", value, text)


ints = st.builds(
    _int,
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    st.sampled_from([0, 0, 0, 1, 2]),
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: ast.Literal("float", v)),
    st.builds(
        _spelt_float,
        st.sampled_from(["", "-"]),
        st.from_regex(r"[0-9]{1,4}", fullmatch=True),
        st.from_regex(r"[0-9]{1,4}", fullmatch=True),
    ),
)
durations = st.builds(
    _duration,
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["ms", "s", "m", "h", "d", "w"]),
    st.booleans(),
)
timestamps = st.builds(
    _timestamp,
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15),
    st.booleans(),
)
dates = st.dates().map(lambda value: ast.Literal("date", value))
strings = st.one_of(
    _text.map(lambda value: ast.Literal("str", value)),
    _text.map(_spelt_string),
    st.builds(
        _long_string,
        st.lists(st.text(string.ascii_letters + " /{}(),:=", max_size=10), max_size=3),
        st.integers(min_value=0, max_value=6),
    ),
)
bools = st.booleans().map(lambda value: ast.Literal("bool", value))
nulls = st.just(ast.Literal("null", None))

literals: st.SearchStrategy[ast.Literal] = st.one_of(
    ints, floats, durations, timestamps, dates, strings, bools, nulls
)


# ---- expressions -------------------------------------------------------------------


def _is_number(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Literal) and expr.kind in ("int", "float")


def _negate(operand: ast.Expr) -> ast.Expr:
    if _is_number(operand) or (isinstance(operand, ast.Unary) and operand.op == "-"):
        return ast.Unary("not", operand)  # `-5` is a literal and `--x` may fold
    return ast.Unary("-", operand)


def _record_fields(values: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.RecordField]:
    plain = st.builds(ast.RecordField, idents, values)
    quoted = st.builds(
        lambda key, value: ast.RecordField(ast.Ident(key), value, quoted=True), _text, values
    )
    # `key { ... }`: a nested record written without the colon.
    block = st.builds(
        lambda key, fields: ast.RecordField(key, ast.RecordExpr(tuple(fields)), block_style=True),
        idents,
        st.lists(plain, max_size=2),
    )
    return st.one_of(plain, quoted, block)


def _extend(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    small = st.lists(children, max_size=3).map(tuple)
    arms = st.builds(ast.MatchArm, st.one_of(st.none(), literals), children)
    return st.one_of(
        st.builds(ast.Call, idents, small),
        st.builds(ast.Unary, st.just("not"), children),
        children.map(_negate),
        st.builds(ast.Binary, st.sampled_from(BINARY_OPS), children, children),
        st.builds(ast.Between, children, children, children),
        st.builds(ast.In, children, children),
        st.builds(ast.Matches, children, children),
        st.builds(ast.FieldAccess, children, idents),
        st.builds(ast.Index, children, children),
        st.builds(ast.If, children, children, children),
        st.builds(ast.Match, children, st.lists(arms, min_size=1, max_size=3).map(tuple)),
        st.builds(ast.ListExpr, small),
        st.builds(ast.TupleExpr, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(ast.RecordExpr, st.lists(_record_fields(children), max_size=3).map(tuple)),
    )


exprs: st.SearchStrategy[ast.Expr] = st.recursive(
    st.one_of(literals, st.builds(ast.Name, names)), _extend, max_leaves=8
)

records: st.SearchStrategy[ast.RecordExpr] = st.builds(
    ast.RecordExpr, st.lists(_record_fields(exprs), max_size=4).map(tuple)
)


# ---- types -----------------------------------------------------------------------------


def _extend_types(children: st.SearchStrategy[ast.TypeExpr]) -> st.SearchStrategy[ast.TypeExpr]:
    fields = st.builds(ast.FieldDecl, idents, children)
    return st.one_of(
        st.builds(
            ast.NamedType,
            idents,
            st.lists(children, min_size=1, max_size=2).map(tuple),
            st.booleans(),
        ),
        st.builds(ast.StructType, st.lists(fields, max_size=3).map(tuple), st.booleans()),
    )


types: st.SearchStrategy[ast.TypeExpr] = st.recursive(
    st.builds(ast.NamedType, idents, st.just(()), st.booleans()), _extend_types, max_leaves=4
)
field_decls = st.builds(ast.FieldDecl, idents, types)


# ---- configuration -------------------------------------------------------------------


def _entry(key: ast.Ident, value: ast.Expr, block_style: bool) -> ast.ConfigEntry:
    # Only a record can be written `key { ... }`.
    return ast.ConfigEntry(key, value, block_style and isinstance(value, ast.RecordExpr))


config_entries = st.builds(_entry, idents, st.one_of(exprs, records), st.booleans())
schema_blocks = st.builds(ast.SchemaBlock, st.lists(field_decls, max_size=3).map(tuple))
config_blocks = st.builds(
    ast.ConfigBlock,
    st.lists(st.one_of(config_entries, config_entries, schema_blocks), max_size=4).map(tuple),
)


# ---- steps ---------------------------------------------------------------------------

_name_list = st.lists(idents, min_size=1, max_size=3).map(tuple)
assignments = st.lists(st.builds(ast.Assignment, idents, exprs), max_size=4).map(tuple)
_action = st.one_of(st.none(), st.sampled_from(ACTIONS).map(ast.Ident))
rules = st.one_of(
    st.builds(ast.Rule, st.just("expr"), exprs, _action),
    st.builds(
        ast.Rule, st.sampled_from(["required", "unique"]), st.builds(ast.Name, names), _action
    ),
)

steps: st.SearchStrategy[ast.Step] = st.one_of(
    st.builds(ast.MapStep, assignments),
    st.builds(ast.DeriveStep, assignments),
    st.builds(ast.WhereStep, exprs),
    st.builds(ast.SelectStep, _name_list),
    st.builds(ast.DropStep, _name_list),
    st.builds(
        ast.RenameStep, st.lists(st.builds(ast.RenamePair, idents, idents), max_size=3).map(tuple)
    ),
    st.builds(ast.ValidateStep, st.lists(rules, max_size=3).map(tuple)),
    st.builds(ast.DedupeStep, _name_list, st.one_of(st.none(), durations)),
    st.builds(ast.AggregateStep, durations, st.lists(idents, max_size=2).map(tuple), assignments),
    st.builds(ast.PersistStep, idents, st.one_of(st.none(), config_blocks)),
    st.just(ast.PersistStep(None, None)),
    st.builds(ast.CacheStep, st.integers(min_value=0, max_value=10**9)),
    st.builds(ast.SinkStep, _name_list),
)


# ---- declarations ------------------------------------------------------------------

dash_items: st.SearchStrategy[ast.DashItem] = st.one_of(
    st.builds(ast.DashSetting, idents, exprs),
    st.builds(ast.DashChart, idents, records),
    st.builds(ast.DashTable, records),
)
test_items = st.one_of(
    st.builds(
        ast.Given,
        idents,
        st.one_of(exprs, st.lists(records, max_size=3).map(lambda rs: ast.ListExpr(tuple(rs)))),
    ),
    st.builds(ast.Expect, idents, exprs),
)

decls: st.SearchStrategy[ast.Decl] = st.one_of(
    st.builds(ast.Import, _text),
    st.builds(ast.Const, idents, st.one_of(st.none(), types), exprs),
    st.builds(
        ast.Fn,
        idents,
        st.lists(st.builds(ast.Param, idents, types), max_size=3).map(tuple),
        types,
        exprs,
    ),
    st.builds(ast.TypeDecl, idents, st.lists(field_decls, max_size=3).map(tuple)),
    st.builds(ast.Source, idents, idents, config_blocks),
    st.builds(ast.Sink, idents, idents, config_blocks),
    st.builds(
        ast.Pipeline,
        idents,
        idents,
        st.one_of(st.none(), idents),
        st.lists(steps, max_size=4).map(tuple),
    ),
    st.builds(ast.Dashboard, idents, st.lists(dash_items, max_size=3).map(tuple)),
    st.builds(ast.TestDecl, _text, st.lists(test_items, max_size=3).map(tuple)),
)

FILE = "<input>"
"""The file name the generated modules carry; parse with it to compare modules."""

modules: st.SearchStrategy[ast.Module] = st.builds(
    lambda ds: ast.Module(FILE, tuple(ds)), st.lists(decls, max_size=4)
)
