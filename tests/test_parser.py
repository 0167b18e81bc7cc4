"""The parser: every construct becomes the right AST node; errors are reported, never raised."""

from __future__ import annotations

import datetime as dt

import pytest
from lark import Lark

from flowc.dsl import ast
from flowc.dsl.parser import parse
from flowc.grammar import grammar_text


def parse_ok(text: str) -> ast.Module:
    result = parse(text, "t.flow")
    assert result.diagnostics == ()
    return result.module


def only_expr(text: str) -> ast.Expr:
    module = parse_ok(f"const X = {text}\n")
    decl = module.decls[0]
    assert isinstance(decl, ast.Const)
    return decl.value


def test_grammar_is_conflict_free_in_strict_mode() -> None:
    # strict mode rejects shift/reduce conflicts and colliding terminals.
    Lark(grammar_text(), parser="lalr", lexer="contextual", strict=True)


def i(value: int) -> ast.Literal:
    return ast.Literal("int", value)


def s(value: str) -> ast.Literal:
    return ast.Literal("str", value)


def n(name: str) -> ast.Name:
    return ast.Name(name)


def b(op: str, left: ast.Expr, right: ast.Expr) -> ast.Binary:
    return ast.Binary(op, left, right)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", b("+", i(1), b("*", i(2), i(3)))),
        ("(1 + 2) * 3", b("*", b("+", i(1), i(2)), i(3))),
        ("a ?? b ?? c", b("??", n("a"), b("??", n("b"), n("c")))),
        ("a ?? 0 > 5", b(">", b("??", n("a"), i(0)), i(5))),
        ("not a and b", b("and", ast.Unary("not", n("a")), n("b"))),
        ("a or b and c", b("or", n("a"), b("and", n("b"), n("c")))),
        ('"a" ++ "b" ++ c', b("++", b("++", s("a"), s("b")), n("c"))),
        ("x between -1 and 2", ast.Between(n("x"), i(-1), i(2))),
        ("x between 1 and 2 and y", b("and", ast.Between(n("x"), i(1), i(2)), n("y"))),
        ('x in ["a", "b"]', ast.In(n("x"), ast.ListExpr((s("a"), s("b"))))),
        ('x matches "^a+$"', ast.Matches(n("x"), s("^a+$"))),
        ("a.b.c", ast.FieldAccess(ast.FieldAccess(n("a"), ast.Ident("b")), ast.Ident("c"))),
        ("xs[0]", ast.Index(n("xs"), i(0))),
        ("f(1, g())", ast.Call(ast.Ident("f"), (i(1), ast.Call(ast.Ident("g"), ())))),
        ("if a then 1 else 2", ast.If(n("a"), i(1), i(2))),
        ("-x", ast.Unary("-", n("x"))),
        (
            '{ a: 1, "b c": 2 }',
            ast.RecordExpr(
                (ast.RecordField(ast.Ident("a"), i(1)), ast.RecordField(ast.Ident("b c"), i(2)))
            ),
        ),
        ("(a, b)", ast.TupleExpr((n("a"), n("b")))),
        (
            'match x { "a" => 1, _ => 0 }',
            ast.Match(n("x"), (ast.MatchArm(s("a"), i(1)), ast.MatchArm(None, i(0)))),
        ),
    ],
)
def test_expression_structure(text: str, expected: ast.Expr) -> None:
    assert only_expr(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("42", "int", 42),
        ("4.25", "float", 4.25),
        ("1e3", "float", 1000.0),
        ('"a\\n\\"b\\u{e9}"', "str", 'a\n"bé'),
        ("true", "bool", True),
        ("null", "null", None),
        ("500ms", "duration", 500_000),
        ("5m", "duration", 300_000_000),
        ("7d", "duration", 7 * 86_400_000_000),
        ("@2026-01-01T12:00:00Z", "timestamp", dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)),
        ("@2026-01-01T14:00:00+02:00", "timestamp", dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)),
        ("@2026-01-01", "date", dt.date(2026, 1, 1)),
    ],
)
def test_literals(text: str, kind: str, value: object) -> None:
    expr = only_expr(text)
    assert isinstance(expr, ast.Literal)
    assert (expr.kind, expr.value) == (kind, value)


def test_newlines_continue_inside_brackets_and_after_operators() -> None:
    expr = only_expr("f(\n  1,\n  2\n) +\n  [\n 3\n][0]")
    assert isinstance(expr, ast.Binary)


def test_spans_point_at_the_source() -> None:
    module = parse_ok('source s: http {\n  url: "x"\n  every: 5m\n}\n')
    source = module.decls[0]
    assert isinstance(source, ast.Source)
    entry = source.config.entries[1]
    assert (entry.key.span.line, entry.key.span.column) == (3, 3)
    assert (entry.value.span.line, entry.value.span.column, entry.value.span.end_column) == (
        3,
        10,
        12,
    )


def test_pipeline_steps() -> None:
    module = parse_ok(
        """
pipeline p from s -> T {
  map { a = x
        b = y }
  derive { c = a + 1 }
  where a > 0
  select a, b, c
  drop c
  rename { a -> aa }
  validate {
    aa between 0 and 9 else drop
    required b
    unique b else warn
    b matches "x"
  }
  dedupe by (aa, b) within 1h
  aggregate every 1h by b { n = count() }
  persist timescale t { time: bucket, key: (b, bucket) }
  persist off
  cache 50
  sink one, two
}
"""
    )
    pipeline = module.decls[0]
    assert isinstance(pipeline, ast.Pipeline)
    assert pipeline.output_type == ast.Ident("T")
    kinds = [type(s).__name__ for s in pipeline.steps]
    assert kinds == [
        "MapStep", "DeriveStep", "WhereStep", "SelectStep", "DropStep", "RenameStep",
        "ValidateStep", "DedupeStep", "AggregateStep", "PersistStep", "PersistStep",
        "CacheStep", "SinkStep",
    ]  # fmt: skip
    validate = pipeline.steps[6]
    assert isinstance(validate, ast.ValidateStep)
    assert [(r.kind, r.action.name if r.action else None) for r in validate.rules] == [
        ("expr", "drop"),
        ("required", None),
        ("unique", "warn"),
        ("expr", None),
    ]


def test_keywords_are_names_where_no_keyword_fits() -> None:
    module = parse_ok(
        "dashboard d {\n  table { from: p, last: 5 }\n}\n"
        "pipeline p from s {\n  map { type = 1 }\n}\n"
    )
    dashboard = module.decls[0]
    assert isinstance(dashboard, ast.Dashboard)
    table = dashboard.items[0]
    assert isinstance(table, ast.DashTable)
    assert table.options.fields[0].name.name == "from"


def test_every_broken_declaration_is_reported_and_the_rest_parsed() -> None:
    text = (
        "const A = 1 +\n"  # broken: expression ends at the next declaration
        "\n"
        "const B = 2\n"
        'source s: http { url = "x" }\n'  # broken: `=` for `:`
        "const C = 3\n"
        "pipeline p from s {\n  map { a = }\n}\n"  # broken: missing expression
    )
    result = parse(text, "t.flow")
    codes_lines = [(d.code, d.span.line) for d in result.diagnostics]
    assert codes_lines == [("E001", 3), ("E001", 4), ("E001", 7)]
    names = [d.name.name for d in result.module.decls if isinstance(d, ast.Const)]
    assert names == ["B", "C"]
    assert result.diagnostics[1].help is not None
    assert "key: value" in result.diagnostics[1].help


def test_unclosed_brace_at_end_of_file() -> None:
    result = parse("pipeline p from s {\n  where x > 1\n", "t.flow")
    assert [d.code for d in result.diagnostics] == ["E003"]
    assert result.diagnostics[0].help == "the `{` on line 1 is not closed with `}`"
    assert (result.diagnostics[0].span.line, result.diagnostics[0].span.column) == (2, 14)


def test_unclosed_parenthesis_is_named() -> None:
    result = parse("pipeline p from s {\n  map { a = round(b, 1\n  }\n}\n", "t.flow")
    assert [d.code for d in result.diagnostics] == ["E001"]
    assert result.diagnostics[0].help == (
        "the `(` on line 2 is not closed with `)` (3 brackets are open)"
    )


def test_misspelt_keyword_gets_a_suggestion() -> None:
    result = parse("pipeline p from s {\n  wher x\n}\n", "t.flow")
    assert result.diagnostics[0].message == "unexpected `wher`; expected a step, `}` or a new line"
    assert result.diagnostics[0].help == "did you mean `where`?"


def test_broken_declarations_are_named() -> None:
    result = parse("source s: http {\n  url = 1\n}\nconst B = 1\n", "t.flow")
    assert result.module.broken == ("s",)


def test_unexpected_character() -> None:
    result = parse("const A = 1 $ 2\n", "t.flow")
    assert [(d.code, d.span.column) for d in result.diagnostics] == [("E002", 13)]


@pytest.mark.parametrize("text", ["@2026-13-01", "@2026-02-30T10:00:00Z", '"bad \\q escape"'])
def test_invalid_literals(text: str) -> None:
    result = parse(f"const A = {text}\n", "t.flow")
    assert [d.code for d in result.diagnostics] == ["E004"]


def test_comments_are_collected() -> None:
    module = parse_ok('// one\nconst A = "// not a comment" // two\n')
    assert [c.text for c in module.comments] == ["// one", "// two"]


def test_long_strings_drop_the_first_newline_and_common_indentation() -> None:
    expr = only_expr('"""\n    query {\n      a // kept\n    }\n    """')
    assert expr == ast.Literal("str", "query {\n  a // kept\n}\n")
    module = parse_ok('const Q = """say "hi" """\n')
    const = module.decls[0]
    assert isinstance(const, ast.Const)
    assert const.value == ast.Literal("str", 'say "hi" ')
    assert module.comments == ()


def test_keywords_are_keys_after_separators() -> None:
    module = parse_ok(
        'sink w: postgres {\n  url: env("PG"), table: "t"\n  if: 1\n}\n'
        "pipeline p from s {\n  map {\n    x = 1\n    table = 2, required = 3\n  }\n}\n"
    )
    sink = module.decls[0]
    assert isinstance(sink, ast.Sink)
    assert [e.key.name for e in sink.config.entries] == ["url", "table", "if"]


def test_nested_blocks_inside_records() -> None:
    module = parse_ok('sink h: http {\n  auth {\n    basic { user: env("U") }\n  }\n}\n')
    sink = module.decls[0]
    assert isinstance(sink, ast.Sink)
    auth = sink.config.entries[0].value
    assert isinstance(auth, ast.RecordExpr)
    assert auth.fields[0].name.name == "basic"
    assert auth.fields[0].block_style
