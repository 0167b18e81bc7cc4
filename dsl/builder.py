"""Turns Lark's parse tree into the AST (a pass after `parse()`, so positions are known)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lark import Token, Transformer, Tree, v_args
from lark.tree import Meta

from flowc.dsl import ast
from flowc.dsl.diagnostics import DiagnosticSink
from flowc.dsl.durations import duration_us
from flowc.dsl.span import Span

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "0": "\0"}
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|.)")


def unescape(body: str) -> str:
    """The value of a string literal's body (without quotes)."""

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape.startswith("u{"):
            code = int(escape[2:-1], 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ValueError(f"`\\{escape}` is not a Unicode scalar value")
            return chr(code)
        if escape in _ESCAPES:
            return _ESCAPES[escape]
        raise ValueError(f"unknown escape `\\{escape}`")

    return _ESCAPE.sub(replace, body)


def long_string_value(body: str) -> str:
    """The value of a long (triple-quoted) string's body, without its first newline and
    common indentation.

    So a query can be indented with the code around it and still read as written.
    """
    if body.startswith("\n"):
        body = body[1:]
    elif body.startswith("\r\n"):
        body = body[2:]
    lines = body.split("\n")
    if len(lines) > 1 and not lines[-1].strip():
        lines[-1] = ""
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return unescape("\n".join(line[cut:] for line in lines))


def escape(value: str) -> str:
    """A string literal (with quotes) whose value is `value`."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r").replace("\0", "\\0")
    return f'"{out}"'


class AstBuilder(Transformer[Token, Any]):
    """Builds AST nodes; bad literals are reported to `sink` and replaced by null."""

    def __init__(self, file: str, sink: DiagnosticSink, line_offset: int = 0) -> None:
        super().__init__(visit_tokens=False)
        self.file = file
        self.sink = sink
        self.line_offset = line_offset

    # ---- positions ----

    def _span(self, meta: Meta) -> Span:
        off = self.line_offset
        if getattr(meta, "empty", True):
            return Span(self.file, 1 + off, 1, 1 + off, 1)
        return Span(self.file, meta.line + off, meta.column, meta.end_line + off, meta.end_column)

    def tok_span(self, token: Token) -> Span:
        off = self.line_offset
        line = token.line or 1
        column = token.column or 1
        end_line = token.end_line or line
        end_column = token.end_column or column + len(token)
        return Span(self.file, line + off, column, end_line + off, end_column)

    def ident(self, token: Token) -> ast.Ident:
        return ast.Ident(str(token), self.tok_span(token))

    # ---- module ----

    @v_args(meta=True)
    def start(self, meta: Meta, children: list[Any]) -> list[ast.Decl]:
        return list(children)

    @v_args(meta=True)
    def import_decl(self, meta: Meta, c: list[Any]) -> ast.Import:
        return ast.Import(self._string(c[0]), self._span(meta))

    @v_args(meta=True)
    def const_decl(self, meta: Meta, c: list[Any]) -> ast.Const:
        return ast.Const(self.ident(c[0]), c[1], c[2], self._span(meta))

    @v_args(meta=True)
    def fn_decl(self, meta: Meta, c: list[Any]) -> ast.Fn:
        name, *rest = c
        params = tuple(p for p in rest[:-2] if p is not None)
        return ast.Fn(self.ident(name), params, rest[-2], rest[-1], self._span(meta))

    @v_args(meta=True)
    def param(self, meta: Meta, c: list[Any]) -> ast.Param:
        return ast.Param(self.ident(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def type_decl(self, meta: Meta, c: list[Any]) -> ast.TypeDecl:
        return ast.TypeDecl(self.ident(c[0]), _present(c[1:]), self._span(meta))

    @v_args(meta=True)
    def source_decl(self, meta: Meta, c: list[Any]) -> ast.Source:
        return ast.Source(self.ident(c[0]), self.ident(c[1]), c[2], self._span(meta))

    @v_args(meta=True)
    def sink_decl(self, meta: Meta, c: list[Any]) -> ast.Sink:
        return ast.Sink(self.ident(c[0]), self.ident(c[1]), c[2], self._span(meta))

    @v_args(meta=True)
    def pipeline_decl(self, meta: Meta, c: list[Any]) -> ast.Pipeline:
        output = self.ident(c[2]) if c[2] is not None else None
        steps = _present(c[3:])
        return ast.Pipeline(self.ident(c[0]), self.ident(c[1]), output, steps, self._span(meta))

    @v_args(meta=True)
    def dashboard_decl(self, meta: Meta, c: list[Any]) -> ast.Dashboard:
        return ast.Dashboard(self.ident(c[0]), _present(c[1:]), self._span(meta))

    @v_args(meta=True)
    def test_decl(self, meta: Meta, c: list[Any]) -> ast.TestDecl:
        return ast.TestDecl(self._string(c[0]), _present(c[1:]), self._span(meta))

    # ---- configuration ----

    @v_args(meta=True)
    def config_block(self, meta: Meta, c: list[Any]) -> ast.ConfigBlock:
        return ast.ConfigBlock(_present(c), self._span(meta))

    @v_args(meta=True)
    def config_entry(self, meta: Meta, c: list[Any]) -> ast.ConfigEntry:
        return ast.ConfigEntry(self.ident(c[0]), c[1], False, self._span(meta))

    @v_args(meta=True)
    def config_block_entry(self, meta: Meta, c: list[Any]) -> ast.ConfigEntry:
        return ast.ConfigEntry(self.ident(c[0]), c[1], True, self._span(meta))

    @v_args(meta=True)
    def schema_block(self, meta: Meta, c: list[Any]) -> ast.SchemaBlock:
        return ast.SchemaBlock(_present(c), self._span(meta))

    @v_args(meta=True)
    def field_decl(self, meta: Meta, c: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(self.ident(c[0]), c[1], self._span(meta))

    # ---- types ----

    @v_args(meta=True)
    def named_type(self, meta: Meta, c: list[Any]) -> ast.NamedType:
        args = tuple(c[1]) if c[1] is not None else ()
        return ast.NamedType(self.ident(c[0]), args, c[2] is not None, self._span(meta))

    def type_args(self, c: list[Any]) -> list[ast.TypeExpr]:
        return [item for item in c if not isinstance(item, Token)]

    @v_args(meta=True)
    def struct_type(self, meta: Meta, c: list[Any]) -> ast.StructType:
        nullable = c[-1] is not None
        return ast.StructType(_present(c[:-1]), nullable, self._span(meta))

    # ---- steps ----

    @v_args(meta=True)
    def map_step(self, meta: Meta, c: list[Any]) -> ast.MapStep:
        return ast.MapStep(c[0], self._span(meta))

    @v_args(meta=True)
    def derive_step(self, meta: Meta, c: list[Any]) -> ast.DeriveStep:
        return ast.DeriveStep(c[0], self._span(meta))

    def assignments(self, c: list[Any]) -> tuple[ast.Assignment, ...]:
        return _present(c)

    @v_args(meta=True)
    def assignment(self, meta: Meta, c: list[Any]) -> ast.Assignment:
        return ast.Assignment(self.ident(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def where_step(self, meta: Meta, c: list[Any]) -> ast.WhereStep:
        return ast.WhereStep(c[0], self._span(meta))

    @v_args(meta=True)
    def select_step(self, meta: Meta, c: list[Any]) -> ast.SelectStep:
        return ast.SelectStep(c[0], self._span(meta))

    @v_args(meta=True)
    def drop_step(self, meta: Meta, c: list[Any]) -> ast.DropStep:
        return ast.DropStep(c[0], self._span(meta))

    def name_list(self, c: list[Token]) -> tuple[ast.Ident, ...]:
        return tuple(self.ident(t) for t in c)

    def key_names(self, c: list[Token]) -> tuple[ast.Ident, ...]:
        return tuple(self.ident(t) for t in c)

    @v_args(meta=True)
    def rename_step(self, meta: Meta, c: list[Any]) -> ast.RenameStep:
        return ast.RenameStep(_present(c), self._span(meta))

    @v_args(meta=True)
    def rename_pair(self, meta: Meta, c: list[Token]) -> ast.RenamePair:
        return ast.RenamePair(self.ident(c[0]), self.ident(c[1]), self._span(meta))

    @v_args(meta=True)
    def validate_step(self, meta: Meta, c: list[Any]) -> ast.ValidateStep:
        return ast.ValidateStep(_present(c), self._span(meta))

    @v_args(meta=True)
    def expr_rule(self, meta: Meta, c: list[Any]) -> ast.Rule:
        return ast.Rule("expr", c[0], self._action(c[1]), self._span(meta))

    @v_args(meta=True)
    def required_rule(self, meta: Meta, c: list[Any]) -> ast.Rule:
        name = ast.Name(str(c[0]), self.tok_span(c[0]))
        return ast.Rule("required", name, self._action(c[1]), self._span(meta))

    @v_args(meta=True)
    def unique_rule(self, meta: Meta, c: list[Any]) -> ast.Rule:
        name = ast.Name(str(c[0]), self.tok_span(c[0]))
        return ast.Rule("unique", name, self._action(c[1]), self._span(meta))

    def _action(self, token: Token | None) -> ast.Ident | None:
        return self.ident(token) if token is not None else None

    @v_args(meta=True)
    def dedupe_step(self, meta: Meta, c: list[Any]) -> ast.DedupeStep:
        within = self._duration(c[1]) if c[1] is not None else None
        return ast.DedupeStep(c[0], within, self._span(meta))

    @v_args(meta=True)
    def aggregate_step(self, meta: Meta, c: list[Any]) -> ast.AggregateStep:
        by = c[1] if c[1] is not None else ()
        return ast.AggregateStep(self._duration(c[0]), by, c[2], self._span(meta))

    @v_args(meta=True)
    def persist_table(self, meta: Meta, c: list[Any]) -> ast.PersistStep:
        return ast.PersistStep(self.ident(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def persist_off(self, meta: Meta, c: list[Any]) -> ast.PersistStep:
        return ast.PersistStep(None, None, self._span(meta))

    @v_args(meta=True)
    def cache_step(self, meta: Meta, c: list[Token]) -> ast.CacheStep:
        return ast.CacheStep(int(c[0]), self._span(meta))

    @v_args(meta=True)
    def sink_step(self, meta: Meta, c: list[Any]) -> ast.SinkStep:
        return ast.SinkStep(c[0], self._span(meta))

    # ---- dashboards and tests ----

    @v_args(meta=True)
    def dash_setting(self, meta: Meta, c: list[Any]) -> ast.DashSetting:
        return ast.DashSetting(self.ident(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def dash_chart(self, meta: Meta, c: list[Any]) -> ast.DashChart:
        return ast.DashChart(self.ident(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def dash_table(self, meta: Meta, c: list[Any]) -> ast.DashTable:
        return ast.DashTable(c[0], self._span(meta))

    @v_args(meta=True)
    def test_given(self, meta: Meta, c: list[Any]) -> ast.Given:
        return ast.Given(self.ident(c[0]), c[1], self._span(meta))

    @v_args(meta=True)
    def test_expect(self, meta: Meta, c: list[Any]) -> ast.Expect:
        return ast.Expect(self.ident(c[0]), c[1], self._span(meta))

    # ---- expressions ----

    @v_args(meta=True)
    def if_expr(self, meta: Meta, c: list[Any]) -> ast.If:
        return ast.If(c[0], c[1], c[2], self._span(meta))

    def _binary(self, op: str, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary(op, left, right, self._span(meta))

    @v_args(meta=True)
    def coalesce_op(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return self._binary("??", meta, c[0], c[1])

    @v_args(meta=True)
    def or_op(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return self._binary("or", meta, c[0], c[1])

    @v_args(meta=True)
    def and_op(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return self._binary("and", meta, c[0], c[1])

    @v_args(meta=True)
    def not_op(self, meta: Meta, c: list[Any]) -> ast.Unary:
        return ast.Unary("not", c[0], self._span(meta))

    @v_args(meta=True)
    def compare(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return self._binary(str(c[1]), meta, c[0], c[2])

    @v_args(meta=True)
    def between(self, meta: Meta, c: list[Any]) -> ast.Between:
        return ast.Between(c[0], c[1], c[2], self._span(meta))

    @v_args(meta=True)
    def in_op(self, meta: Meta, c: list[Any]) -> ast.In:
        return ast.In(c[0], c[1], self._span(meta))

    @v_args(meta=True)
    def matches(self, meta: Meta, c: list[Any]) -> ast.Matches:
        return ast.Matches(c[0], c[1], self._span(meta))

    @v_args(meta=True)
    def concat_op(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return self._binary("++", meta, c[0], c[1])

    @v_args(meta=True)
    def arith(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return self._binary(str(c[1]), meta, c[0], c[2])

    @v_args(meta=True)
    def neg(self, meta: Meta, c: list[Any]) -> ast.Unary | ast.Literal:
        operand = c[1]
        span = self._span(meta)
        # `-3` is a literal, so that formatting and constant folding see one node.
        if isinstance(operand, ast.Literal) and operand.kind in ("int", "float"):
            assert isinstance(operand.value, int | float)
            return ast.Literal(operand.kind, -operand.value, "-" + operand.text, span)
        return ast.Unary("-", operand, span)

    @v_args(meta=True)
    def field_access(self, meta: Meta, c: list[Any]) -> ast.FieldAccess:
        return ast.FieldAccess(c[0], self.ident(c[1]), self._span(meta))

    @v_args(meta=True)
    def index(self, meta: Meta, c: list[Any]) -> ast.Index:
        return ast.Index(c[0], c[1], self._span(meta))

    @v_args(meta=True)
    def name_ref(self, meta: Meta, c: list[Token]) -> ast.Name:
        return ast.Name(str(c[0]), self.tok_span(c[0]))

    @v_args(meta=True)
    def call(self, meta: Meta, c: list[Any]) -> ast.Call:
        return ast.Call(self.ident(c[0]), _present(c[1:]), self._span(meta))

    @v_args(meta=True)
    def tuple_lit(self, meta: Meta, c: list[Any]) -> ast.TupleExpr:
        return ast.TupleExpr(_present(c), self._span(meta))

    @v_args(meta=True)
    def list_lit(self, meta: Meta, c: list[Any]) -> ast.ListExpr:
        return ast.ListExpr(_present(c), self._span(meta))

    @v_args(meta=True)
    def record(self, meta: Meta, c: list[Any]) -> ast.RecordExpr:
        return ast.RecordExpr(_present(c), self._span(meta))

    @v_args(meta=True)
    def record_field(self, meta: Meta, c: list[Any]) -> ast.RecordField:
        key: Token = c[0]
        if key.type == "STRING":
            name = ast.Ident(self._string(key), self.tok_span(key))
            return ast.RecordField(name, c[1], True, self._span(meta))
        return ast.RecordField(self.ident(key), c[1], False, self._span(meta))

    @v_args(meta=True)
    def record_block_field(self, meta: Meta, c: list[Any]) -> ast.RecordField:
        return ast.RecordField(self.ident(c[0]), c[1], False, self._span(meta), True)

    @v_args(meta=True)
    def match_expr(self, meta: Meta, c: list[Any]) -> ast.Match:
        return ast.Match(c[0], tuple(c[1:]), self._span(meta))

    @v_args(meta=True)
    def match_arm(self, meta: Meta, c: list[Any]) -> ast.MatchArm:
        pattern = c[0]
        if isinstance(pattern, ast.Name):
            if pattern.name != "_":
                self.sink.error(
                    "E212",
                    f"`{pattern.name}` is not a pattern",
                    pattern.span,
                    "expected a literal or `_`",
                    help="match arms compare with literals; write `_` for every other value",
                )
            pattern = None
        return ast.MatchArm(pattern, c[1], self._span(meta))

    @v_args(meta=True)
    def wildcard(self, meta: Meta, c: list[Token]) -> ast.Name:
        return ast.Name(str(c[0]), self.tok_span(c[0]))

    @v_args(meta=True)
    def neg_pattern(self, meta: Meta, c: list[Token]) -> ast.Literal:
        literal = self._number(c[1])
        assert isinstance(literal.value, int | float)
        return ast.Literal(literal.kind, -literal.value, "-" + literal.text, self._span(meta))

    # ---- literals ----

    def int_lit(self, c: list[Token]) -> ast.Literal:
        return self._number(c[0])

    def float_lit(self, c: list[Token]) -> ast.Literal:
        return self._number(c[0])

    def _number(self, token: Token) -> ast.Literal:
        text = str(token)
        if token.type == "INT":
            value = int(text)
            if value >= 2**63:
                self._bad_literal(
                    token,
                    f"integer `{text}` does not fit in 64 bits",
                    "integers go up to 9223372036854775807; write a float (`1e20`) for more",
                )
            return ast.Literal("int", value, text, self.tok_span(token))
        return ast.Literal("float", float(text), text, self.tok_span(token))

    def string_lit(self, c: list[Token]) -> ast.Literal:
        token = c[0]
        return ast.Literal("str", self._string(token), str(token), self.tok_span(token))

    def duration_lit(self, c: list[Token]) -> ast.Literal:
        return self._duration(c[0])

    def _duration(self, token: Token) -> ast.Literal:
        return ast.Literal("duration", duration_us(str(token)), str(token), self.tok_span(token))

    def timestamp_lit(self, c: list[Token]) -> ast.Literal:
        token = c[0]
        text = str(token)
        body = text[1:]
        span = self.tok_span(token)
        try:
            if "T" not in body:
                return ast.Literal("date", dt.date.fromisoformat(body), text, span)
            value = dt.datetime.fromisoformat(body.replace("Z", "+00:00"))
        except ValueError as error:
            return self._bad_timestamp(token, text, str(error), span)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            utc = value.astimezone(dt.UTC)
        except OverflowError:
            return self._bad_timestamp(token, text, "out of range in UTC", span)
        return ast.Literal("timestamp", utc, text, span)

    def _bad_timestamp(self, token: Token, text: str, why: str, span: Span) -> ast.Literal:
        self._bad_literal(
            token,
            f"`{text}` is not a valid date or time ({why})",
            "timestamps are written @2026-01-31T12:00:00Z (UTC, or an offset such as "
            "+02:00), dates @2026-01-31",
        )
        return ast.Literal("null", None, "null", span)

    @v_args(meta=True)
    def true_lit(self, meta: Meta, c: list[Token]) -> ast.Literal:
        return ast.Literal("bool", True, "true", self._span(meta))

    @v_args(meta=True)
    def false_lit(self, meta: Meta, c: list[Token]) -> ast.Literal:
        return ast.Literal("bool", False, "false", self._span(meta))

    @v_args(meta=True)
    def null_lit(self, meta: Meta, c: list[Token]) -> ast.Literal:
        return ast.Literal("null", None, "null", self._span(meta))

    def _string(self, token: Token) -> str:
        try:
            if token.type == "LONG_STRING":
                return long_string_value(str(token)[3:-3])
            return unescape(str(token)[1:-1])
        except ValueError as error:
            self._bad_literal(
                token,
                f"string {token} has an invalid escape: {error}",
                'the escapes are \\n \\t \\r \\" \\\\ \\0 and \\u{hex}; write a backslash '
                'as \\\\ (in regular expressions too: "\\\\d+")',
            )
            return str(token)[1:-1]

    def _bad_literal(self, token: Token, message: str, help_text: str) -> None:
        self.sink.error("E004", message, self.tok_span(token), "invalid literal", help=help_text)

    def __default__(self, data: Any, children: list[Any], meta: Meta) -> Any:
        return Tree(data, children, meta)


def _present(items: list[Any]) -> tuple[Any, ...]:
    """Children without the None placeholders of optional grammar parts."""
    return tuple(item for item in items if item is not None)
