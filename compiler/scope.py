"""What an expression can see: the record's fields (with null provenance), params, consts."""

from __future__ import annotations

from dataclasses import dataclass, field

from flowc.dsl.span import Span
from flowc.dsl.types import Kind, Type


@dataclass(frozen=True, slots=True)
class NullOrigin:
    """Where a null can come from, so an error can point at its cause."""

    span: Span
    reason: str


@dataclass(frozen=True, slots=True)
class Typed:
    """An expression's type, and why it may be null when it may."""

    type: Type
    null: NullOrigin | None = None

    def nullable(self, origin: NullOrigin | None) -> Typed:
        return Typed(self.type.nullable_(), self.null or origin)


# The type of an expression that already has an error: it fits anywhere and is never
# reported again, so one mistake gives one diagnostic.
ERROR_TYPE = Type(Kind.JSON, name="<error>")
ERROR = Typed(ERROR_TYPE)


def is_error(type_: Type) -> bool:
    return type_.name == "<error>"


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A field of the record at some step: its type and the span that produced it."""

    name: str
    type: Type
    span: Span
    null: NullOrigin | None = None

    @property
    def typed(self) -> Typed:
        return Typed(self.type, self.null if self.type.may_be_null else None)


@dataclass
class Record:
    """The fields after a step, in order. An open record (no schema) has any field, as json."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)
    open: bool = False
    description: str = "the record"
    # The record of an upstream that is itself in error (unknown, or in a cycle): every
    # name is accepted silently, so one mistake is reported once.
    unknown: bool = False

    def get(self, name: str) -> FieldInfo | None:
        return self.fields.get(name)

    def copy(self) -> Record:
        return Record(dict(self.fields), self.open, self.description, self.unknown)


@dataclass
class ExprTypes:
    """The type of every checked expression: by node (for the compiler) and by span (tools).

    Nodes are keyed by identity: the AST is immutable and stays alive with the result.
    """

    by_node: dict[int, Type] = field(default_factory=dict)
    by_span: list[tuple[Span, Type]] = field(default_factory=list)

    def record(self, expr: object, span: Span, type_: Type) -> None:
        self.by_node[id(expr)] = type_
        self.by_span.append((span, type_))

    def of(self, expr: object) -> Type:
        return self.by_node[id(expr)]
