"""Every name in a checked unit, where it is and what it means: the editor features' table.

The checker knows the type of each expression and the fields after each step; this walks
the AST beside those results and records one `Occurrence` per name: a declaration, a
reference to one, a field made or read, a stdlib call, a configuration key. Hover, go to
definition, references, rename and semantic tokens are all lookups in it.

A field's definition is the span that produced it, the same span the checker keeps in its
`FieldInfo` (a schema field, an assignment target, a rename target, an `aggregate ... by`
key), so a reference resolves to its definition by the record it reads from, across steps
and across pipelines that read other pipelines. `indexer` builds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from flowc.compiler.lsp.positions import Cursor, span_size
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.span import Span


class Role(Enum):
    DECL = "decl"  # the name a declaration introduces
    SYMBOL = "symbol"  # a reference to a declaration (source, pipeline, const, fn, type, sink)
    FUNCTION = "function"  # a stdlib function called
    FIELD_DEF = "field_def"  # where a field is made
    FIELD_REF = "field_ref"  # a field read
    PARAM_DEF = "param_def"
    PARAM_REF = "param_ref"
    MEMBER = "member"  # `.name` of a struct, or a field of a `type` declaration
    CONFIG_KEY = "config_key"  # a key of a source, sink, persist or dashboard block
    KIND = "kind"  # the kind of a source or sink, a chart kind
    TYPE = "type"  # a built-in type name
    ACTION = "action"  # a validation action


@dataclass(frozen=True, slots=True)
class Occurrence:
    span: Span
    role: Role
    name: str
    target: Span | None = None  # the definition's span: a field's, a param's, a decl name's
    type: t.Type | None = None  # a field's or param's type at this place
    owner: str = ""  # the pipeline or source of a field; "source:http" etc. for config keys
    path: tuple[str, ...] = ()  # a config key's path from the block's top


@dataclass(frozen=True, slots=True)
class Origin:
    """How a field was made: the step, the expression, and the fields that went into it."""

    step: str  # schema, generate, map, derive, aggregate, by, bucket, rename
    name: str  # the field made
    owner: str  # the source or pipeline
    expr: ast.Expr | None
    inputs: tuple[Span, ...]
    source_kind: str = ""  # "source" for schema and generated fields, else "pipeline"


@dataclass
class Index:
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)  # by file
    exprs: dict[str, list[ast.Expr]] = field(default_factory=dict)  # by file
    origins: dict[Span, Origin] = field(default_factory=dict)  # by the span that made it
    definitions: dict[Span, Occurrence] = field(default_factory=dict)  # field definitions
    aliases: dict[Span, set[Span]] = field(default_factory=dict)  # by-keys and their inputs

    def at(self, file: str, cursor: Cursor) -> Occurrence | None:
        """The innermost occurrence under the cursor."""
        found = [o for o in self.occurrences.get(file, ()) if cursor.inside(o.span)]
        return min(found, key=lambda o: span_size(o.span), default=None)

    def expr_at(self, file: str, cursor: Cursor) -> ast.Expr | None:
        found = [e for e in self.exprs.get(file, ()) if cursor.inside(e.span)]
        return min(found, key=lambda e: span_size(e.span), default=None)

    def all(self) -> Iterator[Occurrence]:
        for items in self.occurrences.values():
            yield from items

    def field_group(self, definition: Span) -> set[Span]:
        """The definition and those an `aggregate ... by` key passes through unchanged."""
        group = {definition}
        pending = [definition]
        while pending:
            for other in self.aliases.get(pending.pop(), set()):
                if other not in group:
                    group.add(other)
                    pending.append(other)
        return group


def children(expr: ast.Expr) -> tuple[ast.Expr, ...]:
    """The direct sub-expressions of an expression."""
    match expr:
        case ast.Call(args=items) | ast.ListExpr(items=items) | ast.TupleExpr(items=items):
            return items
        case ast.Unary(operand=operand):
            return (operand,)
        case ast.Binary(left=left, right=right):
            return (left, right)
        case ast.Between(value=value, low=low, high=high):
            return (value, low, high)
        case ast.In(value=value, options=other) | ast.Matches(value=value, pattern=other):
            return (value, other)
        case ast.FieldAccess(value=value):
            return (value,)
        case ast.Index(value=value, index=index):
            return (value, index)
        case ast.If(condition=c, then=a, otherwise=b):
            return (c, a, b)
        case ast.Match(value=value, arms=arms):
            return (value, *(arm.result for arm in arms))
        case ast.RecordExpr(fields=fields):
            return tuple(f.value for f in fields)
    return ()
