"""The IR: a checked pipeline, free of syntax, that every back end reads.

Between the checker and the generators (Polars plans, SQL, the manifest, lineage). Here
there is no sugar left: `between`, `in`, `match`, `??`, constants and user functions are
gone (rewritten or inlined), every expression carries its type, and steps that assign
several fields refer only to the fields of their input, so each becomes one projection.
`to_json` gives a JSON dump of each stage for `flowc explain`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from flowc.dsl.span import NO_SPAN, Span
from flowc.dsl.types import Type

# ---- expressions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Col:
    """A field of the step's input record."""

    name: str
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Lit:
    """A constant: int, float, str, bool, None, datetime (UTC), date, timedelta, list, dict."""

    value: Any
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    """A stdlib function call (user functions are inlined before this stage)."""

    fn: str
    args: tuple[Expr, ...]
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


OpName = Literal[
    "+", "-", "*", "/", "%", "++", "??", "==", "!=", "<", "<=", ">", ">=",
    "and", "or", "not", "neg", "in",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Op:
    """An operator. `neg` and `not` are unary; `in` tests membership in a list."""

    op: OpName
    args: tuple[Expr, ...]
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Cond:
    """`if`/`match`: the first branch whose condition holds gives the value."""

    branches: tuple[tuple[Expr, Expr], ...]
    otherwise: Expr  # a null literal when a `match` has no `_` arm
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class GetField:
    """A field of a record value, or a JSONPath step into a json value."""

    value: Expr
    name: str
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class GetIndex:
    value: Expr
    index: Expr
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class MakeList:
    items: tuple[Expr, ...]
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class MakeStruct:
    fields: tuple[tuple[str, Expr], ...]
    type: Type
    span: Span = field(default=NO_SPAN, compare=False)


Expr: TypeAlias = Col | Lit | Call | Op | Cond | GetField | GetIndex | MakeList | MakeStruct


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions."""
    match expr:
        case Call(args=args) | Op(args=args) | MakeList(items=args):
            return args
        case Cond(branches=branches, otherwise=otherwise):
            return (*(e for pair in branches for e in pair), otherwise)
        case GetField(value=value):
            return (value,)
        case GetIndex(value=value, index=index):
            return (value, index)
        case MakeStruct(fields=fields):
            return tuple(e for _, e in fields)
    return ()


def columns_used(expr: Expr) -> set[str]:
    """The input fields an expression reads."""
    if isinstance(expr, Col):
        return {expr.name}
    used: set[str] = set()
    for child in children(expr):
        used |= columns_used(child)
    return used


# ---- steps ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Project:
    """`map` (keep=False: exactly these fields) or `derive` (keep=True: add or replace)."""

    assignments: tuple[tuple[str, Expr], ...]
    keep: bool


@dataclass(frozen=True, slots=True)
class Filter:
    condition: Expr  # rows where it is null are dropped, like SQL's WHERE


@dataclass(frozen=True, slots=True)
class Select:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Drop:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rename:
    pairs: tuple[tuple[str, str], ...]


Action = Literal["dead_letter", "drop", "fail", "warn"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One validation rule: a row passes when `passes` is true (null fails)."""

    id: str  # stable within the pipeline: "<step>.<rule>"
    text: str  # the rule as written, for people
    action: Action
    passes: Expr
    fields: tuple[str, ...]  # the fields it reads, shown in the reason


@dataclass(frozen=True, slots=True)
class Validate:
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Dedupe:
    keys: tuple[str, ...]
    within: dt.timedelta | None


@dataclass(frozen=True, slots=True)
class Aggregate:
    """A tumbling window: `bucket` is `time` truncated to `every`, then group by `by`."""

    every: dt.timedelta
    time: str
    by: tuple[str, ...]
    aggregations: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Tap:
    """Where a `persist`, `cache` or `sink` step takes the records: the frame at this point."""

    kind: Literal["persist", "cache", "sink"]
    name: str


Step: TypeAlias = Project | Filter | Select | Drop | Rename | Validate | Dedupe | Aggregate | Tap


# ---- pipelines --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schema:
    fields: tuple[tuple[str, Type], ...]

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def get(self, name: str) -> Type | None:
        return dict(self.fields).get(name)


@dataclass(frozen=True, slots=True)
class Persist:
    table: str
    time: str
    key: tuple[str, ...]
    chunk: dt.timedelta
    retention: dt.timedelta | None
    compress_after: dt.timedelta | None
    batch: int
    indexes: tuple[tuple[str, ...], ...]
    schema: Schema  # the columns stored: the record at the `persist` step
    # After an `aggregate`, a window's row is recomputed as its records arrive, so a
    # stored row is replaced (upsert on the key), not kept as first written.
    upsert: bool = False


@dataclass(frozen=True, slots=True)
class PipelineIR:
    """One pipeline: input schema, typed steps, output schema, and where records go."""

    name: str
    file: str
    upstream: str
    upstream_kind: Literal["source", "pipeline"]
    input: Schema
    steps: tuple[Step, ...]
    output: Schema
    persist: Persist | None
    cache: int
    sinks: tuple[str, ...]
    time_column: str | None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for s in self.steps if isinstance(s, Validate) for r in s.rules)


def to_json(value: Any) -> Any:
    """A JSON-able dump of any IR value, for `flowc explain` and debugging."""
    if isinstance(value, Type):
        return str(value)
    if isinstance(value, Span):
        return str(value)
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()}s"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        out: dict[str, Any] = {"node": type(value).__name__}
        for name in value.__dataclass_fields__:
            if name != "span":
                out[name] = to_json(getattr(value, name))
        return out
    return value


def step_schemas(pipeline: PipelineIR) -> list[Schema]:
    """The record after each step, computed from the IR alone (back ends need them)."""
    current = dict(pipeline.input.fields)
    out: list[Schema] = []
    for step in pipeline.steps:
        match step:
            case Project(assignments=assignments, keep=keep):
                assigned = {name: expr.type for name, expr in assignments}
                current = {**current, **assigned} if keep else assigned
            case Select(names=names):
                current = {name: current[name] for name in names}
            case Drop(names=names):
                current = {n: ty for n, ty in current.items() if n not in names}
            case Rename(pairs=pairs):
                mapping = dict(pairs)
                current = {mapping.get(n, n): ty for n, ty in current.items()}
            case Aggregate(time=time, by=by, aggregations=aggregations):
                bucket = current[time].non_null()
                current = {"bucket": bucket, **{k: current[k] for k in by}}
                current.update({name: expr.type for name, expr in aggregations})
        out.append(Schema(tuple(current.items())))
    return out
