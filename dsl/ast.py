"""The AST: immutable, typed nodes that carry their source spans.

Spans and the original spelling of literals do not take part in equality, so two
programs that differ only in layout (say, before and after `flowc fmt`) have equal ASTs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal as Lit
from typing import TypeAlias

from flowc.dsl.span import NO_SPAN, Span


def _span() -> Span:
    # Spans never take part in equality; NO_SPAN marks a node built by code, not parsed.
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Ident:
    name: str
    span: Span = _span()


# ---- types ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamedType:
    name: Ident
    args: tuple[TypeExpr, ...]
    nullable: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: Ident
    type: TypeExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class StructType:
    fields: tuple[FieldDecl, ...]
    nullable: bool
    span: Span = _span()


TypeExpr: TypeAlias = NamedType | StructType


# ---- expressions -----------------------------------------------------------

LiteralKind = Lit["int", "float", "str", "bool", "null", "duration", "timestamp", "date"]
LiteralValue: TypeAlias = int | float | str | bool | dt.datetime | dt.date | None


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal. Durations are held in microseconds, timestamps as aware UTC datetimes."""

    kind: LiteralKind
    value: LiteralValue
    text: str = field(default="", compare=False)
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    func: Ident
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: Lit["-", "not"]
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Between:
    value: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class In:
    value: Expr
    options: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Matches:
    value: Expr
    pattern: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class FieldAccess:
    value: Expr
    field: Ident
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Index:
    value: Expr
    index: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class If:
    condition: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class MatchArm:
    pattern: Literal | None  # None is the wildcard `_`
    result: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Match:
    value: Expr
    arms: tuple[MatchArm, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TupleExpr:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RecordField:
    name: Ident
    value: Expr
    quoted: bool = field(default=False, compare=False)
    span: Span = _span()
    block_style: bool = field(default=False, compare=False)  # `name { ... }` without a colon


@dataclass(frozen=True, slots=True)
class RecordExpr:
    fields: tuple[RecordField, ...]
    span: Span = _span()


Expr: TypeAlias = (
    Literal
    | Name
    | Call
    | Unary
    | Binary
    | Between
    | In
    | Matches
    | FieldAccess
    | Index
    | If
    | Match
    | ListExpr
    | TupleExpr
    | RecordExpr
)


# ---- configuration blocks --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    key: Ident
    value: Expr
    block_style: bool = field(default=False, compare=False)  # `key { ... }` without a colon
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SchemaBlock:
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ConfigBlock:
    items: tuple[ConfigEntry | SchemaBlock, ...]
    span: Span = _span()

    @property
    def entries(self) -> tuple[ConfigEntry, ...]:
        return tuple(item for item in self.items if isinstance(item, ConfigEntry))

    @property
    def schema(self) -> SchemaBlock | None:
        return next((item for item in self.items if isinstance(item, SchemaBlock)), None)


# ---- pipeline steps ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    target: Ident
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class MapStep:
    assignments: tuple[Assignment, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DeriveStep:
    assignments: tuple[Assignment, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class WhereStep:
    condition: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SelectStep:
    names: tuple[Ident, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DropStep:
    names: tuple[Ident, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RenamePair:
    old: Ident
    new: Ident
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RenameStep:
    pairs: tuple[RenamePair, ...]
    span: Span = _span()


RuleKind = Lit["expr", "required", "unique"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One validation rule. `expr` holds the condition; `required`/`unique` a Name."""

    kind: RuleKind
    expr: Expr
    action: Ident | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ValidateStep:
    rules: tuple[Rule, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DedupeStep:
    keys: tuple[Ident, ...]
    within: Literal | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AggregateStep:
    every: Literal
    by: tuple[Ident, ...]
    assignments: tuple[Assignment, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PersistStep:
    """`persist timescale NAME { ... }`, or `persist off` when `table` is None."""

    table: Ident | None
    config: ConfigBlock | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CacheStep:
    size: int
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SinkStep:
    names: tuple[Ident, ...]
    span: Span = _span()


Step: TypeAlias = (
    MapStep
    | DeriveStep
    | WhereStep
    | SelectStep
    | DropStep
    | RenameStep
    | ValidateStep
    | DedupeStep
    | AggregateStep
    | PersistStep
    | CacheStep
    | SinkStep
)


# ---- declarations -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Import:
    path: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Const:
    name: Ident
    type: TypeExpr | None
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Param:
    name: Ident
    type: TypeExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Fn:
    name: Ident
    params: tuple[Param, ...]
    result: TypeExpr
    body: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TypeDecl:
    name: Ident
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Source:
    name: Ident
    kind: Ident
    config: ConfigBlock
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Sink:
    name: Ident
    kind: Ident
    config: ConfigBlock
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Pipeline:
    name: Ident
    source: Ident
    output_type: Ident | None
    steps: tuple[Step, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DashSetting:
    key: Ident
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DashChart:
    kind: Ident
    options: RecordExpr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DashTable:
    options: RecordExpr
    span: Span = _span()


DashItem: TypeAlias = DashSetting | DashChart | DashTable


@dataclass(frozen=True, slots=True)
class Dashboard:
    name: Ident
    items: tuple[DashItem, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Given:
    target: Ident
    records: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Expect:
    target: Ident
    records: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestDecl:
    name: str
    items: tuple[Given | Expect, ...]
    span: Span = _span()

    __test__ = False  # not a pytest test class


Decl: TypeAlias = Import | Const | Fn | TypeDecl | Source | Sink | Pipeline | Dashboard | TestDecl


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed .flow file."""

    file: str
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
    # Names of declarations that did not parse: references to them are not reported again,
    # and nothing is called unused while part of the file could not be read.
    broken: tuple[str, ...] = field(default=(), compare=False)


def decl_name(decl: Decl) -> Ident | None:
    """The name a declaration introduces, if any."""
    if isinstance(decl, Import | TestDecl):
        return None
    return decl.name
