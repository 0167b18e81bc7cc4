"""`flowc fmt`: the canonical layout, meaning kept, idempotence, and comments kept in place."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowc.dsl import ast
from flowc.dsl.fmt import format_module, format_source
from flowc.dsl.fmt_expr import expr_text, literal_text
from flowc.dsl.parser import parse
from tests.strategies import FILE, exprs, modules

FAST = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def reparse(text: str) -> ast.Module:
    result = parse(text, FILE)
    assert result.diagnostics == (), f"{result.diagnostics}\n{text}"
    return result.module


# ---- properties on generated programs --------------------------------------------------


@FAST
@given(modules)
def test_formatted_module_parses_back_to_the_same_ast(module: ast.Module) -> None:
    assert reparse(format_module(module)) == module


@FAST
@given(modules)
def test_formatting_is_idempotent(module: ast.Module) -> None:
    text = format_module(module)
    assert format_source(text, FILE) == text


@FAST
@given(exprs)
def test_expressions_round_trip(expr: ast.Expr) -> None:
    # Many expressions per example, with less declaration noise around them.
    decl = reparse(f"const X = {expr_text(expr)}\n").decls[0]
    assert isinstance(decl, ast.Const)
    assert decl.value == expr


@st.composite
def commented_by_line(draw: st.DrawFn) -> tuple[ast.Module, str]:
    """A formatted program with comments added at line ends and on lines of their own."""
    module = draw(modules)
    out: list[str] = []
    for number, line in enumerate(format_module(module).split("\n")):
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}// own {number}")
        if line.strip() and draw(st.integers(min_value=0, max_value=2)) == 0:
            line = f"{line}  // end {number}"
        out.append(line)
    return module, "\n".join(out)


@st.composite
def commented_anywhere(draw: st.DrawFn) -> tuple[ast.Module, str]:
    """A formatted program with comments cut in at random places."""
    module = draw(modules)
    text = format_module(module)
    for number in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        shape = draw(st.sampled_from([" // c{}\n", "\n// c{}\n", " // c{}\n    "]))
        text = text[:at] + shape.format(number) + text[at:]
    return module, text


@FAST
@given(st.one_of(commented_by_line(), commented_anywhere()))
def test_comments_are_kept_and_formatting_stays_idempotent(
    case: tuple[ast.Module, str],
) -> None:
    module, text = case
    result = parse(text, FILE)
    # Only where the comment (and its newline) left the program as it was.
    assume(result.diagnostics == () and result.module == module)
    formatted = format_source(text, FILE)
    assert formatted is not None
    after = reparse(formatted)
    assert after == module
    assert [c.text for c in after.comments] == [c.text.rstrip() for c in result.module.comments]
    assert format_source(formatted, FILE) == formatted


# ---- golden: messy input, canonical output -----------------------------------------------

GOLDEN = {
    "precedence": (
        """\
const A=(1+2)*3
const B = 1+(2*3)
const C = (a ?? b) ?? c
const D = a ?? (b ?? c)
const E = (a == b) == c
const F = not (a and b)
const G = (not a) and b
const H = -(a.b)
const I = (-5).abs
const J = (if a then b else c) + 1
const K = (a ?? 0) > 5
const L = a ?? (0 > 5)
const M = x between (a+1) and (b or c)
const N = "a" ++ ("b" ++ "c")
const O = f(a,b,)[0].c
""",
        """\
const A = (1 + 2) * 3
const B = 1 + 2 * 3
const C = (a ?? b) ?? c
const D = a ?? b ?? c
const E = (a == b) == c
const F = not (a and b)
const G = not a and b
const H = -a.b
const I = (-5).abs
const J = (if a then b else c) + 1
const K = a ?? 0 > 5
const L = a ?? (0 > 5)
const M = x between a + 1 and (b or c)
const N = "a" ++ ("b" ++ "c")
const O = f(a, b)[0].c
""",
    ),
    "declarations": (
        """\
import "a.flow"
import "b.flow"
const   X=1
fn   f( a:int ,b : list<str>? )->float=a*1.0
type   T {  a : int , b: { c: str }?
  d: list<int> }
source   api : http{url:"https://example.com",every:5m,
  headers: { accept: "application/json", user_agent: "flowc/0.1 (+https://example.com/flowc)" }
  auth { user: "me", password: env("PASSWORD") }
  schema { id: int, name: str? }
}
sink out: stdout {}
""",
        """\
import "a.flow"
import "b.flow"

const X = 1

fn f(a: int, b: list<str>?) -> float = a * 1.0

type T {
  a: int
  b: { c: str }?
  d: list<int>
}

source api: http {
  url: "https://example.com"
  every: 5m
  headers: {
    accept: "application/json"
    user_agent: "flowc/0.1 (+https://example.com/flowc)"
  }
  auth {
    user: "me"
    password: env("PASSWORD")
  }
  schema {
    id: int
    name: str?
  }
}

sink out: stdout {}
""",
    ),
    "steps": (
        """\
pipeline p from api -> Row {
map { id = id, full_name = first ++ " " ++ last, tags = tags ?? [] }
  where id > 0


  validate { id > 0 else fail, required full_name, unique id else warn }
  rename { full_name -> name, tags -> labels }
  select id,name
  drop labels
  dedupe by (id) within 10m
  aggregate every 1d by id , name { n = count(), total = sum(amount) }
  persist timescale t {time: ts, key: (id, ts), chunk: 1d, retention: 90d, compress_after: 7d}
  persist timescale u { time: ts }
  persist   off
  cache 50
  sink out,other
}
""",
        """\
pipeline p from api -> Row {
  map {
    id        = id
    full_name = first ++ " " ++ last
    tags      = tags ?? []
  }
  where id > 0

  validate {
    id > 0    else fail
    required full_name
    unique id else warn
  }
  rename {
    full_name -> name
    tags -> labels
  }
  select id, name
  drop labels
  dedupe by id within 10m
  aggregate every 1d by id, name {
    n     = count()
    total = sum(amount)
  }
  persist timescale t {
    time: ts
    key: (id, ts)
    chunk: 1d
    retention: 90d
    compress_after: 7d
  }
  persist timescale u { time: ts }
  persist off
  cache 50
  sink out, other
}
""",
    ),
    "dashboards and tests": (
        """\
dashboard d { title: "Board", chart bar { from: p, x: day, y: n, series: kind, range: 30d } }
test "mapping" { given api [{id: 1, first: "Ada"}], expect p [] }
""",
        """\
dashboard d {
  title: "Board"
  chart bar { from: p, x: day, y: n, series: kind, range: 30d }
}

test "mapping" {
  given api [
    { id: 1, first: "Ada" },
  ]
  expect p []
}
""",
    ),
    "long expressions": (
        """\
const CITIES = ["Berlin", "Paris", "London", "Madrid", "Rome", "Vienna", "Prague", "Warsaw",
  "Oslo", "Bern"]
const R = { name: "a fairly long name", description: "a description that does not fit", n: 1 }
const M = match code { 200 => "ok", 404 => "not found", 500 => "server error",
  -1 => "unknown", _ => "other" }
""",
        """\
const CITIES = [
  "Berlin",
  "Paris",
  "London",
  "Madrid",
  "Rome",
  "Vienna",
  "Prague",
  "Warsaw",
  "Oslo",
  "Bern",
]
const R = { name: "a fairly long name", description: "a description that does not fit", n: 1 }
const M = match code {
  200 => "ok"
  404 => "not found"
  500 => "server error"
  -1 => "unknown"
  _ => "other"
}
""",
    ),
    "literals keep their spelling": (
        'const A = [1h, 90m, 2.50, 1e3, 007, "\\u{41}\\t"]\n'
        "const B = [@2026-01-01T12:00:00+02:00, @2026-01-31]\n"
        "const C = - 5\n"
        "const D = --5\n",
        'const A = [1h, 90m, 2.50, 1e3, 007, "\\u{41}\\t"]\n'
        "const B = [@2026-01-01T12:00:00+02:00, @2026-01-31]\n"
        "const C = -5\n"
        "const D = 5\n",
    ),
    "long strings and block-style records": (
        """\
source db: postgres {
      query: \"\"\"
        select *
        from t
      \"\"\"
  params: { a { b: 1 }, c: 2 }
}
""",
        """\
source db: postgres {
  query: \"\"\"
        select *
        from t
      \"\"\"
  params: { a { b: 1 }, c: 2 }
}
""",
    ),
    "comments": (
        """\
// File header.

// About the source.
source api: http {  // the upstream
  url: "https://example.com"  // where

  // Polling.
  every: 5m
  params: { a: 1, // first
    b: 2 }
}
pipeline p from api {
  // Keep the good ones.
  where ok   // only ok


  map {}  // nothing yet
  // nothing after
}
// The end.
""",
        """\
// File header.

// About the source.
source api: http {  // the upstream
  url: "https://example.com"  // where

  // Polling.
  every: 5m
  params: {
    a: 1  // first
    b: 2
  }
}

pipeline p from api {
  // Keep the good ones.
  where ok  // only ok

  map {}  // nothing yet
  // nothing after
}
// The end.
""",
    ),
    "comments inside expressions": (
        """\
const X = f(a, // the a
  b)
const Y = [
  // first
  1,
  2, // second
]
""",
        """\
const X = f(
  a,  // the a
  b,
)
const Y = [
  // first
  1,
  2,  // second
]
""",
    ),
}


@pytest.mark.parametrize(("messy", "expected"), GOLDEN.values(), ids=GOLDEN.keys())
def test_golden(messy: str, expected: str) -> None:
    assert format_source(messy, FILE) == expected
    assert format_source(expected, FILE) == expected
    assert reparse(expected) == reparse(messy)


def test_an_empty_file_stays_empty() -> None:
    assert format_source("") == ""
    assert format_source("\n\n  \n") == ""
    assert format_source("// only a comment\n\n") == "// only a comment\n"


def test_crlf_line_endings_become_newlines() -> None:
    assert format_source("const A = 1 // one\r\nconst B = 2\r\n") == (
        "const A = 1  // one\nconst B = 2\n"
    )


# ---- broken input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        "const = 1\n",
        "pipeline p from s {\n  where\n}\n",
        'source s: http {\n  url: "x"\n',  # unclosed
        'const X = "unterminated\n',
        "const X = 1 +\n",
        "const X = @2026-13-45\n",  # not a date
        "const X = match y { z => 1 }\n",  # not a pattern
        "const A = 1\nconst B = (\nconst C = 3\n",
    ],
)
def test_broken_input_is_not_formatted(broken: str) -> None:
    assert format_source(broken) is None


# ---- nodes built by code ----------------------------------------------------------------


def _lit(kind: ast.LiteralKind, value: ast.LiteralValue) -> ast.Literal:
    return ast.Literal(kind, value)


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        (_lit("int", -42), "-42"),
        (_lit("float", 2.5), "2.5"),
        (_lit("float", 1e16), "1e+16"),
        (_lit("str", 'say "hi"\n'), '"say \\"hi\\"\\n"'),
        (_lit("duration", 90 * 60 * 10**6), "90m"),
        (_lit("duration", 3600 * 10**6), "1h"),
        (_lit("duration", 14 * 86400 * 10**6), "2w"),
        (_lit("duration", 1500 * 1000), "1500ms"),
        (_lit("duration", 0), "0s"),
        (_lit("timestamp", dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)), "@2026-01-01T12:00:00Z"),
        (
            _lit("timestamp", dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=dt.UTC)),
            "@2026-01-01T00:00:00.000005Z",
        ),
        (_lit("date", dt.date(2026, 1, 31)), "@2026-01-31"),
        (_lit("bool", True), "true"),
        (_lit("null", None), "null"),
        (ast.Literal("int", 7, "007"), "007"),
        (ast.Literal("int", 5, "--5"), "5"),
    ],
)
def test_literals_without_spelling_are_spelt_from_their_value(
    literal: ast.Literal, text: str
) -> None:
    assert literal_text(literal) == text


def test_a_literal_with_no_spelling_in_the_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no literal"):
        literal_text(_lit("duration", 1))
    with pytest.raises(ValueError, match="no literal"):
        literal_text(_lit("float", float("inf")))


A, B, C = ast.Name("a"), ast.Name("b"), ast.Name("c")


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (ast.Binary("*", ast.Binary("+", A, B), C), "(a + b) * c"),
        (ast.Binary("+", A, ast.Binary("*", B, C)), "a + b * c"),
        (ast.Binary("-", A, ast.Binary("-", B, C)), "a - (b - c)"),
        (ast.Binary("-", ast.Binary("-", A, B), C), "a - b - c"),
        (ast.Binary("??", A, ast.Binary("??", B, C)), "a ?? b ?? c"),
        (ast.Binary("??", ast.Binary("??", A, B), C), "(a ?? b) ?? c"),
        (ast.Binary("<", ast.Binary("<", A, B), C), "(a < b) < c"),
        (ast.Binary(">", ast.Binary("??", A, B), C), "a ?? b > c"),
        (ast.Binary("??", A, ast.Binary(">", B, C)), "a ?? (b > c)"),
        (ast.Binary("or", ast.Binary("and", A, B), C), "a and b or c"),
        (ast.Binary("and", A, ast.Binary("or", B, C)), "a and (b or c)"),
        (ast.Unary("not", ast.Binary("==", A, B)), "not a == b"),
        (ast.Binary("==", ast.Unary("not", A), B), "(not a) == b"),
        (ast.Unary("-", ast.Unary("-", A)), "--a"),
        (ast.Binary("-", A, ast.Literal("int", -1)), "a - -1"),
        (ast.FieldAccess(ast.Literal("int", -1), ast.Ident("x")), "(-1).x"),
        (ast.FieldAccess(ast.Binary("+", A, B), ast.Ident("x")), "(a + b).x"),
        (ast.Index(ast.Call(ast.Ident("f"), ()), ast.If(A, B, C)), "f()[if a then b else c]"),
        (ast.If(A, ast.If(A, B, C), C), "if a then if a then b else c else c"),
        (ast.Binary("+", ast.If(A, B, C), C), "(if a then b else c) + c"),
        (ast.Between(A, ast.Binary("and", B, C), C), "a between (b and c) and c"),
        (ast.In(A, ast.ListExpr((B, C))), "a in [b, c]"),
        (ast.Matches(ast.Binary("++", A, B), C), "a ++ b matches c"),
        (ast.TupleExpr((A, B)), "(a, b)"),
        (ast.RecordExpr(()), "{}"),
        (ast.RecordExpr((ast.RecordField(ast.Ident("two words"), A),)), '{ "two words": a }'),
        (
            ast.Match(A, (ast.MatchArm(ast.Literal("int", -1), B), ast.MatchArm(None, C))),
            "match a { -1 => b, _ => c }",
        ),
    ],
)
def test_parentheses_only_where_precedence_needs_them(expr: ast.Expr, text: str) -> None:
    assert expr_text(expr) == text
    decl = reparse(f"const X = {text}\n").decls[0]
    assert isinstance(decl, ast.Const)
    assert decl.value == expr


def test_format_module_places_comments_by_position() -> None:
    module = parse("const A = 1\n// about P\npipeline P from A {} // empty\n", FILE).module
    expected = "const A = 1\n\n// about P\npipeline P from A {}  // empty\n"
    assert format_module(module) == expected
