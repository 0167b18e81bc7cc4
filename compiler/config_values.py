"""Configuration blocks as plain values, with a span for every key path.

`source`, `sink` and `persist` blocks are data, not code: this turns their expressions
into Python values (durations as timedelta, `env("X")` as an EnvRef, a bare name as its
string) that the connector's pydantic model validates, and keeps where each came from so
a validation problem gets a caret on the right key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowc.dsl import ast
from flowc.dsl.diagnostics import DiagnosticSink
from flowc.dsl.span import Span
from flowc.stdlib.connectors.base import EnvRef

Path = tuple[str | int, ...]
# Resolves a bare name to a constant's expression, or None when it is not a constant.
ConstResolver = Callable[[str], ast.Expr | None]


@dataclass
class ConfigValues:
    values: dict[str, Any] = field(default_factory=dict)
    spans: dict[Path, Span] = field(default_factory=dict)
    key_spans: dict[Path, Span] = field(default_factory=dict)

    def span_for(self, path: Path, fallback: Span) -> Span:
        """The most specific span known for `path` (a prefix when the exact one is missing)."""
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in self.spans:
                return self.spans[prefix]
        return fallback

    def key_span_for(self, path: Path, fallback: Span) -> Span:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in self.key_spans:
                return self.key_spans[prefix]
        return fallback


def config_values(
    block: ast.ConfigBlock, sink: DiagnosticSink, consts: ConstResolver = lambda _: None
) -> ConfigValues:
    """Convert a block's entries (not its `schema`); duplicates and non-constants are errors.

    A bare name is its own spelling (`format: csv`) unless it names a constant.
    """
    out = ConfigValues()
    seen: dict[str, ast.ConfigEntry] = {}
    for entry in block.entries:
        key = entry.key.name
        if key in seen:
            sink.error(
                "E303",
                f"`{key}` is set twice",
                entry.key.span,
                "set again here",
                help="remove one of the two settings",
            )
            continue
        seen[key] = entry
        out.key_spans[(key,)] = entry.key.span
        out.values[key] = _Converter(out, sink, consts).value(entry.value, (key,))
    return out


@dataclass
class _Converter:
    out: ConfigValues
    sink: DiagnosticSink
    consts: ConstResolver
    depth: int = 0

    def value(self, expr: ast.Expr, path: Path) -> Any:
        self.out.spans.setdefault(path, expr.span)
        if isinstance(expr, ast.Name) and self.depth < 16:
            const = self.consts(expr.name)
            if const is not None:
                self.depth += 1
                try:
                    return self.value(const, path)
                finally:
                    self.depth -= 1
        return _value(expr, path, self.out, self.sink, self.value)


def _value(
    expr: ast.Expr,
    path: Path,
    out: ConfigValues,
    sink: DiagnosticSink,
    recurse: Callable[[ast.Expr, Path], Any],
) -> Any:
    match expr:
        case ast.Literal(kind="duration", value=int(micros)):
            return dt.timedelta(microseconds=micros)
        case ast.Literal():
            return expr.value
        case ast.Name():
            return expr.name
        case ast.Call(func=ast.Ident(name="env"), args=(ast.Literal(kind="str", value=str(name)),)):
            return EnvRef(name=name)
        case ast.Call(func=ast.Ident(name="env")):
            sink.error(
                "E303",
                "`env()` takes the name of an environment variable as a string",
                expr.span,
                "",
                help='write `env("NAME")`',
            )
            return None
        case ast.ListExpr(items=items) | ast.TupleExpr(items=items):
            return [recurse(item, (*path, i)) for i, item in enumerate(items)]
        case ast.RecordExpr(fields=fields):
            record: dict[str, Any] = {}
            for f in fields:
                out.key_spans[(*path, f.name.name)] = f.name.span
                record[f.name.name] = recurse(f.value, (*path, f.name.name))
            return record
        case ast.Unary(op="-", operand=ast.Literal(kind="duration")):
            sink.error("E303", "a duration cannot be negative", expr.span, "")
            return None
    sink.error(
        "E303",
        "settings must be constant values",
        expr.span,
        "computed at run time",
        help='use literals, lists, records, names, and `env("NAME")` for secrets',
    )
    return None
