"""Checks a pipeline's steps in order, computing the record's fields after each one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flowc.compiler.config_values import ConstResolver, config_values
from flowc.compiler.exprs import ERROR_TYPE, Env, ExprChecker, field_info, is_error
from flowc.compiler.scope import FieldInfo, NullOrigin, Record, Typed
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.diagnostics import DiagnosticSink, Label
from flowc.dsl.span import Span
from flowc.dsl.suggest import did_you_mean

ACTIONS = ("dead_letter", "drop", "fail", "warn")
PERSIST_KEYS = ("time", "key", "chunk", "retention", "compress_after", "batch", "indexes")
DEFAULT_CACHE = 100
MAX_CACHE = 1_000_000  # records kept in memory per pipeline
DEFAULT_BATCH = 1000
DEFAULT_CHUNK = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PersistInfo:
    table: str
    time: str
    key: tuple[str, ...]
    chunk: dt.timedelta
    retention: dt.timedelta | None
    compress_after: dt.timedelta | None
    batch: int
    indexes: tuple[tuple[str, ...], ...]
    span: Span


@dataclass
class PipelineInfo:
    """What the checker learned about one pipeline: the compiler's input for it."""

    name: str
    file: str
    upstream: str
    upstream_is_pipeline: bool
    input: Record
    after_step: list[Record] = field(default_factory=list)
    persist: PersistInfo | None = None
    cache: int = DEFAULT_CACHE
    sinks: tuple[str, ...] = ()
    time_column: str | None = None
    persist_step: ast.PersistStep | None = None  # the first `persist`, table or `off`

    @property
    def output(self) -> Record:
        return self.after_step[-1] if self.after_step else self.input


class StepChecker:
    """Checks one pipeline's steps; every problem is reported and checking goes on."""

    def __init__(
        self,
        sink: DiagnosticSink,
        exprs: ExprChecker,
        sink_known: Any,
        consts: ConstResolver,
    ) -> None:
        self.sink = sink
        self.exprs = exprs
        self.sink_known = sink_known  # callable(Ident) -> bool, reporting unknown sinks
        self.consts = consts

    def check(self, pipeline: ast.Pipeline, info: PipelineInfo, upstream_time: str | None) -> None:
        record = info.input
        time_column = upstream_time
        for step in pipeline.steps:
            record = self._step(step, record, info, time_column)
            if isinstance(step, ast.AggregateStep):
                time_column = "bucket"
            if info.persist is not None and isinstance(step, ast.PersistStep):
                time_column = info.persist.time
            info.after_step.append(record)
        info.time_column = time_column

    # ---- steps ----

    def _step(
        self, step: ast.Step, record: Record, info: PipelineInfo, time_column: str | None
    ) -> Record:
        match step:
            case ast.MapStep():
                return self._assign(
                    step.assignments, record, Record(description=record.description)
                )
            case ast.DeriveStep():
                if not step.assignments:
                    self._no_effect(step.span, "`derive {}` adds nothing")
                return self._assign(step.assignments, record, record.copy())
            case ast.WhereStep():
                typed = self.exprs.check(step.condition, Env(record))
                self.exprs.require_bool(step.condition, typed, "`where`")
                return _narrow(record, step.condition)
            case ast.SelectStep():
                out = Record(description=record.description, unknown=record.unknown)
                for name in step.names:
                    found = self._field(name, record)
                    if found is not None:
                        self._put(out, found, name.span)
                return out
            case ast.DropStep():
                out = record.copy()
                for name in step.names:
                    if self._field(name, record) is not None:
                        out.fields.pop(name.name, None)
                return out
            case ast.RenameStep():
                return self._rename(step, record)
            case ast.ValidateStep():
                return self._validate(step, record)
            case ast.DedupeStep():
                for key in step.keys:
                    self._field(key, record)
                return record
            case ast.AggregateStep():
                return self._aggregate(step, record, time_column)
            case ast.PersistStep():
                self._persist(step, record, info)
                return record
            case ast.CacheStep():
                if not 1 <= step.size <= MAX_CACHE:
                    self.sink.error(
                        "E303", f"the cache holds from 1 to {MAX_CACHE:,} records", step.span, "",
                        help="write `cache 100`, or leave the step out for the default of 100",
                    )  # fmt: skip
                info.cache = step.size
                return record
            case ast.SinkStep():
                for name in step.names:
                    self.sink_known(name)
                info.sinks = info.sinks + tuple(n.name for n in step.names)
                return record
        raise AssertionError(f"unhandled step {type(step).__name__}")

    def _assign(
        self, assignments: tuple[ast.Assignment, ...], record: Record, out: Record
    ) -> Record:
        # Each assignment sees the input record and the assignments before it.
        visible = record.copy()
        assigned: dict[str, ast.Assignment] = {}
        for item in assignments:
            name = item.target.name
            if name in assigned:
                self._duplicate(item.target, assigned[name].target.span)
                continue
            assigned[name] = item
            typed = self.exprs.check(item.value, Env(visible))
            produced = field_info(name, typed, item.target.span)
            visible.fields[name] = produced
            out.fields[name] = produced
        out.open = out.open and record.open
        return out

    def _rename(self, step: ast.RenameStep, record: Record) -> Record:
        out = Record(open=record.open, description=record.description, unknown=record.unknown)
        renames: dict[str, ast.RenamePair] = {}
        for item in step.pairs:
            if self._field(item.old, record) is not None:
                renames[item.old.name] = item
        # Where each resulting name comes from: a rename target, or a field kept as it is.
        claimed: dict[str, Span] = {}
        for name, info in record.fields.items():
            if name not in renames:
                claimed[name] = info.span
        for item in step.pairs:
            if item.old.name not in renames or renames[item.old.name] is not item:
                continue
            if item.new.name in claimed:
                self._duplicate(item.new, claimed[item.new.name])
                del renames[item.old.name]
                continue
            claimed[item.new.name] = item.new.span
        for name, info in record.fields.items():
            pair = renames.get(name)
            new_name = pair.new.name if pair else name
            if new_name in out.fields:
                continue  # the rename was refused above; keep the original
            span = pair.new.span if pair else info.span
            out.fields[new_name] = FieldInfo(new_name, info.type, span, info.null)
        return out

    def _validate(self, step: ast.ValidateStep, record: Record) -> Record:
        if not step.rules:
            self._no_effect(step.span, "`validate {}` has no rules")
        out = record.copy()
        for rule in step.rules:
            action = rule.action.name if rule.action else "dead_letter"
            if rule.action is not None and action not in ACTIONS:
                self.sink.error(
                    "E110",
                    f"unknown action `{action}`",
                    rule.action.span,
                    "not an action",
                    help=did_you_mean(action, ACTIONS)
                    or "the actions are dead_letter (the default), drop, fail and warn",
                )
            if rule.kind == "expr":
                typed = self.exprs.check(rule.expr, Env(record))
                self.exprs.require_bool(rule.expr, typed, "a validation rule")
            else:
                assert isinstance(rule.expr, ast.Name)
                self._field(ast.Ident(rule.expr.name, rule.expr.span), record)
            # A rule whose answer is null fails, so after a rule that rejects (anything but
            # `warn`), the fields it tested are known not to be null.
            if action != "warn":
                if rule.kind == "required":
                    assert isinstance(rule.expr, ast.Name)
                    _mark_non_null(out, rule.expr.name)
                elif rule.kind == "expr":
                    out = _narrow(out, rule.expr)
        return out

    def _aggregate(
        self, step: ast.AggregateStep, record: Record, time_column: str | None
    ) -> Record:
        out = Record(description=record.description, unknown=record.unknown)
        time_name = find_time(record, time_column)
        if time_name is None and not record.unknown:
            self.sink.error(
                "E305",
                "`aggregate` needs a timestamp column to bucket by",
                step.every.span,
                "no non-null timestamp field here",
                help="add a field `ts` of type timestamp (for example "
                "`derive { ts = parse_timestamp(time) ?? now() }`)",
            )
        out.fields["bucket"] = FieldInfo("bucket", t.TIMESTAMP, step.every.span)
        if (
            step.every.value is not None
            and isinstance(step.every.value, int)
            and step.every.value <= 0
        ):
            self.sink.error("E303", "the window must be longer than zero", step.every.span, "")
        grouped: set[str] = set()
        for key in step.by:
            found = self._field(key, record)
            if found is not None:
                grouped.add(key.name)
                self._put(out, FieldInfo(key.name, found.type, key.span, found.null), key.span)
        env = Env(record, aggregate=True, grouped=frozenset(grouped))
        for item in step.assignments:
            if item.target.name in out.fields:
                self._duplicate(item.target, out.fields[item.target.name].span)
                continue
            typed = self.exprs.check(item.value, env)
            out.fields[item.target.name] = field_info(item.target.name, typed, item.target.span)
        return out

    def _persist(self, step: ast.PersistStep, record: Record, info: PipelineInfo) -> None:
        if info.persist_step is not None:
            self.sink.error(
                "E303", "a pipeline persists once", step.span, "second `persist`",
                secondary=(Label(info.persist_step.span, "first `persist` here"),),
                help="keep one `persist` step: a table, or `persist off` for memory only",
            )  # fmt: skip
            return
        info.persist_step = step
        if step.table is None:
            return
        values: dict[str, Any] = {}
        spans_for: Any = None
        if step.config is not None:
            converted = config_values(step.config, self.sink, self.consts)
            values = converted.values
            spans_for = converted
            for key in values:
                if key not in PERSIST_KEYS:
                    self.sink.error(
                        "E302",
                        f"unknown setting `{key}` for `persist`",
                        converted.key_spans[(key,)],
                        "not a persist setting",
                        help=did_you_mean(key, PERSIST_KEYS)
                        or "the settings are " + ", ".join(PERSIST_KEYS),
                    )
            if step.config.schema is not None:
                self.sink.error(
                    "E302", "`persist` has no `schema`", step.config.schema.span, "",
                    help="the table's columns are the pipeline's fields",
                )  # fmt: skip

        def span(key: str) -> Span:
            if spans_for is None:
                return step.span
            return spans_for.span_for((key,), step.span)  # type: ignore[no-any-return]

        time_name = values.get("time")
        if time_name is None:
            time_name = find_time(record, info.time_column, strict=True)
            if time_name is None:
                self.sink.error(
                    "E304",
                    "`persist` needs a `time` column",
                    step.table.span,
                    "no `time:` setting",
                    help="name the timestamp field: `persist timescale t { time: ts }`",
                )
                time_name = ""
        if not isinstance(time_name, str):
            self.sink.error("E303", "`time` names one field", span("time"), "")
            time_name = ""
        if time_name:
            self._column(time_name, span("time"), record, "time", need=t.TIMESTAMP)
        key_value = values.get("key", [])
        keys = [key_value] if isinstance(key_value, str) else key_value
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            self.sink.error("E303", "`key` names fields: `key: (city, ts)`", span("key"), "")
            keys = []
        for index, key in enumerate(keys):
            key_span = spans_for.span_for(("key", index), span("key")) if spans_for else step.span
            self._column(key, key_span, record, "key")
        durations = {}
        for name in ("chunk", "retention", "compress_after"):
            value = values.get(name)
            if value is not None and not isinstance(value, dt.timedelta):
                self.sink.error("E303", f"`{name}` must be a duration such as 7d", span(name), "")
                value = None
            durations[name] = value
        batch = values.get("batch", DEFAULT_BATCH)
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            self.sink.error("E303", "`batch` must be a positive integer", span("batch"), "")
            batch = DEFAULT_BATCH
        indexes = _indexes(values.get("indexes", []))
        if indexes is None:
            self.sink.error(
                "E303", "`indexes` is a list of fields or of tuples of fields", span("indexes"), ""
            )
            indexes = ()
        for index_columns in indexes:
            for column in index_columns:
                self._column(column, span("indexes"), record, "index")
        info.persist = PersistInfo(
            table=step.table.name,
            time=time_name,
            key=tuple(keys),
            chunk=durations["chunk"] or DEFAULT_CHUNK,
            retention=durations["retention"],
            compress_after=durations["compress_after"],
            batch=batch,
            indexes=indexes,
            span=step.span,
        )

    # ---- helpers ----

    def _column(
        self, name: str, span: Span, record: Record, role: str, need: t.Type | None = None
    ) -> None:
        found = record.get(name)
        if found is None and record.unknown:
            return
        if found is None:
            self.sink.error(
                "E104",
                f"unknown field `{name}`",
                span,
                f"the {role} column must be a field of the pipeline",
                help=did_you_mean(name, record.fields),
            )
            return
        if need is not None and found.type.kind is not need.kind and not is_error(found.type):
            self.sink.error(
                "E305",
                f"the {role} column `{name}` must be a {need}, found {found.type}",
                span,
                f"this is {found.type}",
                secondary=(Label(found.span, f"`{name}` is declared here"),),
                help="convert it, for example with `parse_timestamp(...)`"
                if need.kind is t.Kind.TIMESTAMP
                else None,
            )
            return
        if found.type.may_be_null:
            self.null_error(name, span, found, f"the {role} column")

    def null_error(self, name: str, span: Span, found: FieldInfo, role: str) -> None:
        if is_error(found.type):
            return
        secondary: tuple[Label, ...] = ()
        notes: tuple[str, ...] = ()
        if found.null is not None:
            secondary = (Label(found.null.span, f"null can come from here: {found.null.reason}"),)
        elif found.type.kind is t.Kind.JSON:
            notes = (f"`{name}` is raw json, which may be missing or null",)
        self.sink.error(
            "E202",
            f"{role} `{name}` may be null",
            span,
            f"`{name}` is {found.type}",
            secondary=secondary,
            notes=notes,
            help=f"give a default with `??` (`{name} = ... ?? default`), reject nulls with "
            f"`required {name}` in a `validate` step, or keep only rows with "
            f"`where {name} != null`",
        )

    def _field(self, name: ast.Ident, record: Record) -> FieldInfo | None:
        found = record.get(name.name)
        if found is not None:
            return found
        if record.unknown:
            return FieldInfo(name.name, ERROR_TYPE, name.span)
        if record.open:
            return FieldInfo(name.name, t.JSON, name.span)
        self.sink.error(
            "E104",
            f"unknown field `{name.name}`",
            name.span,
            f"not a field of {record.description}",
            help=did_you_mean(name.name, record.fields),
        )
        return None

    def _put(self, out: Record, found: FieldInfo, span: Span) -> None:
        if found.name in out.fields:
            self._duplicate(ast.Ident(found.name, span), out.fields[found.name].span)
            return
        out.fields[found.name] = found

    def _duplicate(self, ident: ast.Ident, first: Span) -> None:
        self.sink.error(
            "E109",
            f"field `{ident.name}` is defined twice",
            ident.span,
            "defined again here",
            secondary=(Label(first, "first defined here"),),
        )

    def _no_effect(self, span: Span, message: str) -> None:
        self.sink.error("W502", message, span, "this step changes nothing", help="remove it")


def find_time(record: Record, preferred: str | None, strict: bool = False) -> str | None:
    """The column to bucket or partition by: the upstream's time, else `ts`/`time`/the only one."""
    candidates = [
        name
        for name, f in record.fields.items()
        if f.type.kind is t.Kind.TIMESTAMP and not f.type.nullable
    ]
    if preferred in record.fields:
        return preferred
    for name in ("ts", "time", "timestamp", "bucket"):
        if name in candidates:
            return name
    if len(candidates) == 1:
        return candidates[0]
    if strict:
        return None
    return candidates[0] if candidates else None


def _indexes(value: Any) -> tuple[tuple[str, ...], ...] | None:
    if not isinstance(value, list):
        return None
    out: list[tuple[str, ...]] = []
    for item in value:
        if isinstance(item, str):
            out.append((item,))
        elif isinstance(item, list) and all(isinstance(c, str) for c in item):
            out.append(tuple(item))
        else:
            return None
    return tuple(out)


def _mark_non_null(record: Record, name: str) -> None:
    found = record.get(name)
    if found is not None and found.type.nullable:
        record.fields[name] = FieldInfo(name, found.type.non_null(), found.span, None)


def _narrow(record: Record, condition: ast.Expr) -> Record:
    """Fields that `condition` being true proves non-null (`x != null`, `x > 0`, ...)."""
    out = record.copy()
    for name in _non_null_when_true(condition):
        _mark_non_null(out, name)
    return out


def _non_null_when_true(expr: ast.Expr) -> set[str]:
    match expr:
        case ast.Binary(op="and", left=left, right=right):
            return _non_null_when_true(left) | _non_null_when_true(right)
        case (
            ast.Binary(op="!=", left=ast.Name(name=n), right=ast.Literal(kind="null"))
            | ast.Binary(op="!=", left=ast.Literal(kind="null"), right=ast.Name(name=n))
        ):
            return {n}
        case ast.Binary(op="==" | "<" | "<=" | ">" | ">=", left=left, right=right):
            return _names_compared(left, right)
        case ast.Binary(op="!=", left=left, right=right):
            return _names_compared(left, right)
        case ast.Between(value=ast.Name(name=n)) | ast.In(value=ast.Name(name=n)):
            return {n}
        case ast.Matches(value=ast.Name(name=n)):
            return {n}
        case ast.Call(func=ast.Ident(name="is_not_null"), args=(ast.Name(name=n),)):
            return {n}
    return set()


def _names_compared(left: ast.Expr, right: ast.Expr) -> set[str]:
    # `x > 0` is null (so false) when x is null: true proves x is not null.
    names = set()
    for side, other in ((left, right), (right, left)):
        if isinstance(side, ast.Name) and not (
            isinstance(other, ast.Literal) and other.kind == "null"
        ):
            names.add(side.name)
    return names


def typed_field(name: str, typed: Typed, span: Span) -> FieldInfo:
    return field_info(name, typed, span)


__all__ = ["NullOrigin", "PersistInfo", "PipelineInfo", "StepChecker"]
