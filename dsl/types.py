"""The language's types, shared by the checker, the stdlib declarations and the compiler."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum


class Kind(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"
    TIMESTAMP = "timestamp"
    DATE = "date"
    DURATION = "duration"
    JSON = "json"
    NULL = "null"  # the type of the literal `null`, before it meets another type
    LIST = "list"
    STRUCT = "struct"


SCALAR_NAMES = {
    k.value: k
    for k in (
        Kind.INT,
        Kind.FLOAT,
        Kind.BOOL,
        Kind.STR,
        Kind.TIMESTAMP,
        Kind.DATE,
        Kind.DURATION,
        Kind.JSON,
    )
}


@dataclass(frozen=True, slots=True)
class Type:
    """A type. `nullable` is the `?` of `T?`; `name` remembers a named record type."""

    kind: Kind
    nullable: bool = False
    elem: Type | None = None
    fields: tuple[tuple[str, Type], ...] = ()
    name: str | None = None

    def __str__(self) -> str:
        if self.kind is Kind.NULL:
            return "null"
        if self.kind is Kind.LIST:
            text = f"list<{self.elem}>"
        elif self.kind is Kind.STRUCT:
            text = self.name or "{ " + ", ".join(f"{n}: {t}" for n, t in self.fields) + " }"
        else:
            text = self.kind.value
        return text + ("?" if self.nullable else "")

    def nullable_(self, nullable: bool = True) -> Type:
        """This type with nullability set (null stays null)."""
        if self.kind is Kind.NULL or self.nullable == nullable:
            return self
        return replace(self, nullable=nullable)

    def non_null(self) -> Type:
        return self.nullable_(False)

    @property
    def is_numeric(self) -> bool:
        return self.kind in (Kind.INT, Kind.FLOAT)

    @property
    def may_be_null(self) -> bool:
        return self.nullable or self.kind in (Kind.NULL, Kind.JSON)

    def field(self, name: str) -> Type | None:
        return dict(self.fields).get(name)


INT = Type(Kind.INT)
FLOAT = Type(Kind.FLOAT)
BOOL = Type(Kind.BOOL)
STR = Type(Kind.STR)
TIMESTAMP = Type(Kind.TIMESTAMP)
DATE = Type(Kind.DATE)
DURATION = Type(Kind.DURATION)
JSON = Type(Kind.JSON)
NULL = Type(Kind.NULL, nullable=True)


def list_of(elem: Type, nullable: bool = False) -> Type:
    return Type(Kind.LIST, nullable, elem=elem)


def struct(fields: dict[str, Type], name: str | None = None, nullable: bool = False) -> Type:
    return Type(Kind.STRUCT, nullable, fields=tuple(fields.items()), name=name)


def same_shape(a: Type, b: Type) -> bool:
    """Equal but for nullability (anywhere at the top) and the record name."""
    return a.non_null() == b.non_null() or (
        a.kind is b.kind is Kind.STRUCT and a.fields == b.fields
    )


def assignable(source: Type, target: Type) -> bool:
    """Whether a value of `source` may flow where `target` is wanted, ignoring null.

    Null is checked separately, so the error can say where the null comes from.
    `int` widens to `float`; `null` fits anywhere.
    """
    if source.kind is Kind.NULL:
        return True
    if target.kind is Kind.JSON:
        return True
    if source.kind is Kind.INT and target.kind is Kind.FLOAT:
        return True
    if source.kind is not target.kind:
        return False
    if source.kind is Kind.LIST:
        assert source.elem is not None
        assert target.elem is not None
        return assignable(source.elem, target.elem)
    if source.kind is Kind.STRUCT:
        theirs = dict(target.fields)
        ours = dict(source.fields)
        return set(ours) == set(theirs) and all(
            assignable(ours[n], theirs[n]) and (theirs[n].nullable or not ours[n].nullable)
            for n in ours
        )
    return True


def common(a: Type, b: Type) -> Type | None:
    """The type both values fit in (for `if`, `match`, `??`, list items), or None."""
    nullable = a.nullable or b.nullable
    if a.kind is Kind.NULL:
        return b.nullable_()
    if b.kind is Kind.NULL:
        return a.nullable_()
    if a.kind is Kind.JSON or b.kind is Kind.JSON:
        return JSON if a.kind is b.kind else None
    if a.is_numeric and b.is_numeric:
        kind = Kind.FLOAT if Kind.FLOAT in (a.kind, b.kind) else Kind.INT
        return Type(kind, nullable)
    if a.kind is Kind.LIST and b.kind is Kind.LIST:
        assert a.elem is not None
        assert b.elem is not None
        elem = common(a.elem, b.elem)
        return list_of(elem, nullable) if elem is not None else None
    if a.kind is Kind.STRUCT and b.kind is Kind.STRUCT:
        return _common_struct(a, b, nullable)
    if same_shape(a, b):
        return a.nullable_(nullable)
    return None


def _common_struct(a: Type, b: Type, nullable: bool) -> Type | None:
    """Field by field; a field that only one side has is nullable in the result."""
    if a.name is not None and a.name == b.name:
        return a.nullable_(nullable)
    ours, theirs = dict(a.fields), dict(b.fields)
    fields: dict[str, Type] = {}
    for name in [*ours, *(n for n in theirs if n not in ours)]:
        if name in ours and name in theirs:
            merged = common(ours[name], theirs[name])
            if merged is None:
                return None
            fields[name] = merged
        else:
            fields[name] = (ours.get(name) or theirs[name]).nullable_()
    return struct(fields, nullable=nullable)


_SPEC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|<|>|,|\?|\{|\}|:)")


def parse_spec(spec: str, variables: frozenset[str] = frozenset()) -> Type:
    """Parse a type written as in the language (`list<str>?`), for declarations in code.

    Names in `variables` are kept as placeholders: `Type(Kind.STRUCT, name=<var>)` with
    no fields, which `flowc.stdlib` resolves against the argument types.
    """
    tokens = [m.group(1) for m in _SPEC.finditer(spec)]
    if "".join(tokens) != spec.replace(" ", ""):
        raise ValueError(f"bad type spec {spec!r}")
    position = 0

    def take() -> str:
        nonlocal position
        token = tokens[position]
        position += 1
        return token

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def one() -> Type:
        token = take()
        if token == "{":
            fields: dict[str, Type] = {}
            while peek() != "}":
                name = take()
                if take() != ":":
                    raise ValueError(f"bad type spec {spec!r}")
                fields[name] = one()
                if peek() == ",":
                    take()
            take()
            result = struct(fields)
        elif token == "list":
            if take() != "<":
                raise ValueError(f"bad type spec {spec!r}")
            elem = one()
            if take() != ">":
                raise ValueError(f"bad type spec {spec!r}")
            result = list_of(elem)
        elif token in SCALAR_NAMES:
            result = Type(SCALAR_NAMES[token])
        elif token in variables:
            result = Type(Kind.STRUCT, name=token)
        else:
            raise ValueError(f"unknown type {token!r} in spec {spec!r}")
        if peek() == "?":
            take()
            result = result.nullable_()
        return result

    result = one()
    if position != len(tokens):
        raise ValueError(f"bad type spec {spec!r}")
    return result
