"""`flowc fmt`: one canonical layout for a .flow file.

Formatting keeps the meaning (the AST of the output equals the AST of the input, spans and
literal spellings aside) and is idempotent. A file with syntax errors is never reformatted.

The layout:

- 2-space indentation; one item per line: declarations, steps, config entries, schema and
  type fields, assignments, rules, rename pairs, dashboard items, `given`/`expect`.
- One blank line between declarations. Runs of `import`, `const` or `fn` declarations stay
  together where the source had no blank line between them. Inside a block a blank line is
  kept where the source had one or more (a way to group steps), never right after `{` or
  before `}`. An empty block is written `{}`.
- Source and sink config blocks, `schema` blocks, `type` bodies and nested `key { ... }`
  config blocks are always written one entry per line; a `persist` config block and a
  `key: { ... }` config value are written inline when they fit in 80 columns.
- In `map`, `derive` and `aggregate` the `=` signs of a block line up in one column; in
  `validate` the `else` of the rules that have an action lines up in one column.
- The records of `given` and `expect` are written one per line.
- Records, lists, tuples, calls and `match` are written inline when the line fits in
  100 columns, else one item per line (lists, tuples and calls with a trailing comma,
  records and `match` arms with none, since a newline separates them). Other
  expressions stay on one line. Binary operators take single spaces; parentheses appear
  only where precedence needs them (see `flowc.dsl.fmt_expr`).
- Literals keep the user's spelling (`1h`, `2.50`, `"\\u{41}"`, `007`); nodes built by code
  are spelt from their value. A long (triple-quoted) string is kept verbatim, since its
  value ignores its indentation, and what holds one is written one item per line. Record
  keys stay quoted where the user quoted them, and `key { ... }` stays without a colon.
- Comments stay with the item they precede (own-line) or follow on its line (end of line);
  see `flowc.dsl.fmt_lines`. A record, list or call that holds a comment is written one
  item per line so the comment keeps its place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from flowc.dsl import ast
from flowc.dsl.builder import escape
from flowc.dsl.fmt_expr import (
    arm_text,
    expr_text,
    field_decl_text,
    field_prefix,
    literal_text,
    type_text,
)
from flowc.dsl.fmt_lines import INDENT, Lines, end_of_line_flags
from flowc.dsl.parser import parse
from flowc.dsl.span import Span

__all__ = ["CONFIG_WIDTH", "WIDTH", "format_module", "format_source"]

WIDTH = 100
"""Records, lists, calls and `match` are written inline when their line fits in this."""
CONFIG_WIDTH = 80
"""A `key: { ... }` config value or a `persist` block is written inline within this."""


def format_source(text: str, file: str = "<input>") -> str | None:
    """The canonical text of a .flow file, or None when it does not parse cleanly.

    A broken file is left alone: reformatting around a syntax error would guess at what
    the user meant. None also stands for expressions nested a few hundred levels deep,
    which outrun Python's recursion limit (the parser's as well as the formatter's).
    """
    try:
        result = parse(text, file)
        if result.diagnostics:
            return None
        return format_module(result.module)
    except RecursionError:
        return None


def format_module(module: ast.Module) -> str:
    """The canonical text of a module, with `module.comments` placed by their spans."""
    out = _Formatter(Lines(module.comments, end_of_line_flags(module)))
    previous: ast.Decl | None = None
    for decl in module.decls:
        blank = None if previous is None or _same_group(previous, decl) else True
        out.decl(decl, blank)
        previous = decl
    return out.lines.finish()


class _Spanned(Protocol):
    """The items of a block: anything with a span, for placing comments."""

    @property
    def span(self) -> Span: ...


_T = TypeVar("_T", bound=_Spanned)


def _same_group(previous: ast.Decl, decl: ast.Decl) -> bool:
    # Imports, consts and fns of one kind may stand together without blank lines.
    grouped = (ast.Import, ast.Const, ast.Fn)
    return type(previous) is type(decl) and isinstance(decl, grouped)


class _Formatter:
    """Writes each kind of node through `Lines`, which places the comments."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    # ---- declarations ----

    def decl(self, decl: ast.Decl, blank: bool | None) -> None:
        lines = self.lines
        if isinstance(decl, ast.Import):
            lines.line(0, f"import {_string(decl.path)}", decl.span, blank=blank)
        elif isinstance(decl, ast.Const):
            annotation = f": {type_text(decl.type)}" if decl.type is not None else ""
            prefix = f"const {decl.name.name}{annotation} = "
            self.expr(0, prefix, decl.value, "", decl.span, blank=blank)
        elif isinstance(decl, ast.Fn):
            params = ", ".join(f"{p.name.name}: {type_text(p.type)}" for p in decl.params)
            prefix = f"fn {decl.name.name}({params}) -> {type_text(decl.result)} = "
            self.expr(0, prefix, decl.body, "", decl.span, blank=blank)
        elif isinstance(decl, ast.TypeDecl):
            self.block(0, f"type {decl.name.name}", decl.fields, decl.span, self.field, blank)
        elif isinstance(decl, ast.Source | ast.Sink):
            keyword = "source" if isinstance(decl, ast.Source) else "sink"
            header = f"{keyword} {decl.name.name}: {decl.kind.name}"
            self.config(0, header, decl.config, blank=blank, inline=False)
        elif isinstance(decl, ast.Pipeline):
            header = f"pipeline {decl.name.name} from {decl.source.name}"
            if decl.output_type is not None:
                header += f" -> {decl.output_type.name}"
            self.block(0, header, decl.steps, decl.span, self.step, blank)
        elif isinstance(decl, ast.Dashboard):
            header = f"dashboard {decl.name.name}"
            self.block(0, header, decl.items, decl.span, self.dash_item, blank)
        elif isinstance(decl, ast.TestDecl):
            header = f"test {_string(decl.name)}"
            self.block(0, header, decl.items, decl.span, self.test_item, blank)
        else:
            raise TypeError(f"not a declaration: {decl!r}")

    def block(
        self,
        indent: int,
        header: str,
        items: tuple[_T, ...],
        span: Span,
        write: Callable[[int, _T], None],
        blank: bool | None = None,
    ) -> None:
        """`header { ... }` with one item per line, or `header {}` when empty."""
        if not items and not self.lines.has_comment(span):
            self.lines.line(indent, header + " {}", span, blank=blank)
            return
        self.lines.open(indent, header + " {", span, blank=blank)
        for item in items:
            write(indent + 1, item)
        self.lines.close(indent, "}", span)

    def field(self, indent: int, field: ast.FieldDecl) -> None:
        self.lines.line(indent, field_decl_text(field), field.span)

    # ---- configuration ----

    def config(
        self, indent: int, header: str, config: ast.ConfigBlock, *, blank: bool | None, inline: bool
    ) -> None:
        """A config block; `inline` allows `header { a: 1, b: 2 }` when it is short."""
        if inline and config.items and self._config_inline(indent, header, config):
            entries = ", ".join(f"{e.key.name}: {expr_text(e.value)}" for e in config.entries)
            self.lines.line(indent, f"{header} {{ {entries} }}", config.span, blank=blank)
            return
        self.block(indent, header, config.items, config.span, self.config_item, blank)

    def _config_inline(self, indent: int, header: str, config: ast.ConfigBlock) -> bool:
        if self.lines.has_comment(config.span):
            return False
        if not all(isinstance(e, ast.ConfigEntry) and not e.block_style for e in config.items):
            return False
        entries = ", ".join(f"{e.key.name}: {expr_text(e.value)}" for e in config.entries)
        return _fits(indent, f"{header} {{ {entries} }}", CONFIG_WIDTH)

    def config_item(self, indent: int, item: ast.ConfigEntry | ast.SchemaBlock) -> None:
        if isinstance(item, ast.SchemaBlock):
            self.block(indent, "schema", item.fields, item.span, self.field)
        elif item.block_style and isinstance(item.value, ast.RecordExpr):
            record = item.value
            self.block(indent, item.key.name, record.fields, item.span, self.record_field)
        else:
            prefix = f"{item.key.name}: "
            self.expr(indent, prefix, item.value, "", item.span, width=CONFIG_WIDTH)

    # ---- steps ----

    def step(self, indent: int, step: ast.Step) -> None:
        line = self.lines.line
        if isinstance(step, ast.MapStep | ast.DeriveStep):
            keyword = "map" if isinstance(step, ast.MapStep) else "derive"
            self.assignments(indent, keyword, step.assignments, step.span)
        elif isinstance(step, ast.WhereStep):
            self.expr(indent, "where ", step.condition, "", step.span)
        elif isinstance(step, ast.SelectStep):
            line(indent, "select " + _names(step.names), step.span)
        elif isinstance(step, ast.DropStep):
            line(indent, "drop " + _names(step.names), step.span)
        elif isinstance(step, ast.RenameStep):
            self.block(indent, "rename", step.pairs, step.span, self.rename_pair)
        elif isinstance(step, ast.ValidateStep):
            self.validate(indent, step)
        elif isinstance(step, ast.DedupeStep):
            keys = _names(step.keys)
            text = f"dedupe by {keys if len(step.keys) == 1 else f'({keys})'}"
            if step.within is not None:
                text += f" within {literal_text(step.within)}"
            line(indent, text, step.span)
        elif isinstance(step, ast.AggregateStep):
            header = f"aggregate every {literal_text(step.every)}"
            if step.by:
                header += " by " + _names(step.by)
            self.assignments(indent, header, step.assignments, step.span)
        elif isinstance(step, ast.PersistStep):
            if step.table is None:
                line(indent, "persist off", step.span)
            elif step.config is None:
                line(indent, f"persist timescale {step.table.name}", step.span)
            else:
                header = f"persist timescale {step.table.name}"
                self.config(indent, header, step.config, blank=None, inline=True)
        elif isinstance(step, ast.CacheStep):
            line(indent, f"cache {step.size}", step.span)
        elif isinstance(step, ast.SinkStep):
            line(indent, "sink " + _names(step.names), step.span)
        else:
            raise TypeError(f"not a step: {step!r}")

    def assignments(
        self, indent: int, header: str, assignments: tuple[ast.Assignment, ...], span: Span
    ) -> None:
        """`header { ... }` with the `=` of every assignment in one column."""
        width = max((len(a.target.name) for a in assignments), default=0)

        def write(indent: int, assignment: ast.Assignment) -> None:
            prefix = f"{assignment.target.name.ljust(width)} = "
            self.expr(indent, prefix, assignment.value, "", assignment.span)

        self.block(indent, header, assignments, span, write)

    def rename_pair(self, indent: int, pair: ast.RenamePair) -> None:
        self.lines.line(indent, f"{pair.old.name} -> {pair.new.name}", pair.span)

    def validate(self, indent: int, step: ast.ValidateStep) -> None:
        """`validate { ... }` with the `else` of the rules that have an action in one column."""
        texts = {id(rule): _rule_text(rule) for rule in step.rules}
        width = max((len(texts[id(r)]) for r in step.rules if r.action), default=0)

        def write(indent: int, rule: ast.Rule) -> None:
            text = texts[id(rule)]
            if rule.action is not None:
                text = f"{text.ljust(width)} else {rule.action.name}"
            self.lines.line(indent, text, rule.span)

        self.block(indent, "validate", step.rules, step.span, write)

    # ---- dashboards and tests ----

    def dash_item(self, indent: int, item: ast.DashItem) -> None:
        if isinstance(item, ast.DashSetting):
            self.expr(indent, f"{item.key.name}: ", item.value, "", item.span)
        elif isinstance(item, ast.DashChart):
            self.expr(indent, f"chart {item.kind.name} ", item.options, "", item.span)
        else:
            self.expr(indent, "table ", item.options, "", item.span)

    def test_item(self, indent: int, item: ast.Given | ast.Expect) -> None:
        keyword = "given" if isinstance(item, ast.Given) else "expect"
        # Test data reads best as a table: one record per line, whatever the width.
        width = 0 if isinstance(item.records, ast.ListExpr) else WIDTH
        prefix = f"{keyword} {item.target.name} "
        self.expr(indent, prefix, item.records, "", item.span, width=width)

    # ---- expressions ----

    def expr(
        self,
        indent: int,
        prefix: str,
        expr: ast.Expr,
        suffix: str,
        span: Span,
        *,
        width: int = WIDTH,
        blank: bool | None = None,
    ) -> None:
        """`prefix expr suffix` as one item: inline if it fits, else broken at brackets.

        `span` is the whole item's (an assignment, an entry), for placing comments.
        """
        flat = prefix + expr_text(expr) + suffix
        breakable = _brackets(expr)
        inline = _fits(indent, flat, width) and not self.lines.has_comment(expr.span)
        if inline or breakable is None:
            self.lines.line(indent, flat, span, blank=blank)
            return
        opener, closer, comma = breakable
        self.lines.open(indent, prefix + opener, span, blank=blank)
        inner = indent + 1
        separator = "," if comma else ""
        if isinstance(expr, ast.RecordExpr):
            for field in expr.fields:
                self.expr(inner, field_prefix(field), field.value, "", field.span)
        elif isinstance(expr, ast.Match):
            for arm in expr.arms:
                head, _, _ = arm_text(arm).partition(" => ")
                self.expr(inner, f"{head} => ", arm.result, "", arm.span)
        else:
            items = expr.args if isinstance(expr, ast.Call) else _items(expr)
            for item in items:
                self.expr(inner, "", item, separator, item.span)
        self.lines.close(indent, closer + suffix, span)

    def record_field(self, indent: int, field: ast.RecordField) -> None:
        self.expr(indent, field_prefix(field), field.value, "", field.span)


# ---- helpers -------------------------------------------------------------------


def _brackets(expr: ast.Expr) -> tuple[str, str, bool] | None:
    """How `expr` opens and closes when written one item per line; None: cannot be."""
    if isinstance(expr, ast.RecordExpr) and expr.fields:
        return "{", "}", False
    if isinstance(expr, ast.ListExpr) and expr.items:
        return "[", "]", True
    if isinstance(expr, ast.TupleExpr) and expr.items:
        return "(", ")", True
    if isinstance(expr, ast.Call) and expr.args:
        return f"{expr.func.name}(", ")", True
    if isinstance(expr, ast.Match):
        return f"match {expr_text(expr.value)} {{", "}", False
    return None


def _items(expr: ast.Expr) -> tuple[ast.Expr, ...]:
    if isinstance(expr, ast.ListExpr | ast.TupleExpr):
        return expr.items
    return ()


def _rule_text(rule: ast.Rule) -> str:
    if rule.kind == "expr":
        return expr_text(rule.expr)
    return f"{rule.kind} {expr_text(rule.expr)}"


def _fits(indent: int, text: str, width: int) -> bool:
    # A `"""` string spans lines: whatever holds it is written one item per line.
    return "\n" not in text and len(INDENT) * indent + len(text) <= width


def _names(names: tuple[ast.Ident, ...]) -> str:
    return ", ".join(name.name for name in names)


def _string(value: str) -> str:
    return escape(value)
