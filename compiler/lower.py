"""Checked AST to IR: sugar rewritten, constants and user functions inlined.

Runs only on a program without errors: every name resolves and every expression has a
type in the checker's table, so this stage has no diagnostics of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from flowc.compiler import ir
from flowc.compiler.checker import CheckResult
from flowc.compiler.pipelines import PipelineInfo, find_time
from flowc.compiler.scope import Record
from flowc.dsl import ast
from flowc.dsl import types as t

# A rule's `unique x`: true for the first row with each value of x. Not a user function.
UNIQUE = "__first_distinct"


class LoweringError(Exception):
    """The program has errors; lower only what `check` accepted."""


def lower_program(result: CheckResult) -> dict[str, ir.PipelineIR]:
    """Every pipeline of a checked unit as IR, in dependency order."""
    if not result.ok:
        raise LoweringError("the program has errors")
    assert result.symbols is not None
    pipelines: dict[str, ir.PipelineIR] = {}
    for name, info in result.pipelines.items():
        declared = result.symbols.by_name[name]
        assert isinstance(declared.decl, ast.Pipeline)
        pipelines[name] = _PipelineLowering(result, declared.decl, info).lower()
    return pipelines


def schema_of(record: Record, referenced: set[str] | None = None) -> ir.Schema:
    """A record's fields as a schema. An open record has the json fields it is read by."""
    fields = [(name, f.type) for name, f in record.fields.items()]
    if record.open and referenced:
        fields += [(name, t.JSON.nullable_()) for name in sorted(referenced - set(record.fields))]
    return ir.Schema(tuple(fields))


@dataclass
class _Scope:
    """What a name means while lowering: a substitution, a field, or a constant."""

    substitutions: dict[str, ir.Expr] = field(default_factory=dict)
    record: Record | None = None


class _PipelineLowering:
    def __init__(self, result: CheckResult, decl: ast.Pipeline, info: PipelineInfo) -> None:
        self.result = result
        self.decl = decl
        self.info = info
        self.file = info.file
        self.exprs = ExprLowering(result, info.file)

    def lower(self) -> ir.PipelineIR:
        steps: list[ir.Step] = []
        record = self.info.input
        time_column = self._upstream_time()
        persist: ir.Persist | None = None
        for index, step in enumerate(self.decl.steps):
            lowered = self._step(index, step, record, time_column)
            steps.extend(lowered)
            after = self.info.after_step[index]
            if isinstance(step, ast.AggregateStep):
                time_column = "bucket"
            if isinstance(step, ast.PersistStep) and step.table is not None:
                aggregates = [
                    s for s in self.decl.steps[:index] if isinstance(s, ast.AggregateStep)
                ]
                persist = self._persist(after, aggregates[-1] if aggregates else None)
                time_column = persist.time
            record = after
        referenced = self.exprs.open_fields
        return ir.PipelineIR(
            name=self.info.name,
            file=self.file,
            upstream=self.info.upstream,
            upstream_kind="pipeline" if self.info.upstream_is_pipeline else "source",
            input=schema_of(self.info.input, referenced),
            steps=tuple(steps),
            output=schema_of(self.info.output, referenced if self.info.output.open else None),
            persist=persist,
            cache=self.info.cache,
            sinks=self.info.sinks,
            time_column=time_column,
        )

    def _upstream_time(self) -> str | None:
        if not self.info.upstream_is_pipeline:
            return None
        upstream = self.result.pipelines.get(self.info.upstream)
        return upstream.time_column if upstream else None

    def _step(
        self, index: int, step: ast.Step, record: Record, time_column: str | None
    ) -> list[ir.Step]:
        lower = self.exprs
        match step:
            case ast.MapStep(assignments=items) | ast.DeriveStep(assignments=items):
                return [
                    ir.Project(lower.assignments(items, record), isinstance(step, ast.DeriveStep))
                ]
            case ast.WhereStep():
                return [ir.Filter(lower.expr(step.condition, _Scope(record=record)))]
            case ast.SelectStep():
                return [ir.Select(tuple(n.name for n in step.names))]
            case ast.DropStep():
                return [ir.Drop(tuple(n.name for n in step.names))]
            case ast.RenameStep():
                return [ir.Rename(tuple((p.old.name, p.new.name) for p in step.pairs))]
            case ast.ValidateStep():
                rules = tuple(
                    self._rule(f"{index}.{i}", rule, record) for i, rule in enumerate(step.rules)
                )
                return [ir.Validate(rules)]
            case ast.DedupeStep():
                within = (
                    dt.timedelta(microseconds=int(step.within.value))  # type: ignore[arg-type]
                    if step.within is not None
                    else None
                )
                return [ir.Dedupe(tuple(k.name for k in step.keys), within)]
            case ast.AggregateStep():
                time_name = find_time(record, time_column)
                assert time_name is not None  # checked (E305)
                aggregations = tuple(
                    (a.target.name, lower.expr(a.value, _Scope(record=record)))
                    for a in step.assignments
                )
                every = dt.timedelta(microseconds=int(step.every.value))  # type: ignore[arg-type]
                return [
                    ir.Aggregate(every, time_name, tuple(k.name for k in step.by), aggregations)
                ]
            case ast.PersistStep():
                if step.table is None:
                    return []
                return [ir.Tap("persist", step.table.name)]
            case ast.CacheStep():
                return [ir.Tap("cache", str(step.size))]
            case ast.SinkStep():
                return [ir.Tap("sink", name.name) for name in step.names]
        raise AssertionError(f"unhandled step {type(step).__name__}")

    def _rule(self, rule_id: str, rule: ast.Rule, record: Record) -> ir.Rule:
        action: ir.Action = rule.action.name if rule.action else "dead_letter"  # type: ignore[assignment]
        text = self._source_text(rule)
        if rule.kind in ("required", "unique"):
            # `required x` and `unique x` name a field; the checker resolved it in the record.
            assert isinstance(rule.expr, ast.Name)
            found = record.get(rule.expr.name)
            column = ir.Col(rule.expr.name, found.type if found else t.JSON, rule.expr.span)
            if found is None:
                self.exprs.open_fields.add(rule.expr.name)
            fn = "is_not_null" if rule.kind == "required" else UNIQUE
            passes: ir.Expr = ir.Call(fn, (column,), t.BOOL)
        else:
            passes = self.exprs.expr(rule.expr, _Scope(record=record))
        fields = tuple(sorted(ir.columns_used(passes)))
        return ir.Rule(rule_id, text, action, passes, fields)

    def _source_text(self, rule: ast.Rule) -> str:
        text = self.result.unit.texts.get(rule.span.file, "")
        lines = text.split("\n")
        span = rule.expr.span if rule.kind == "expr" else rule.span
        if span.line == span.end_line and 0 < span.line <= len(lines):
            source = lines[span.line - 1][span.column - 1 : span.end_column - 1]
            if rule.kind != "expr":
                return source.split(" else ")[0].strip()
            return source.strip()
        return rule.kind

    def _persist(self, record: Record, aggregate: ast.AggregateStep | None) -> ir.Persist:
        info = self.info.persist
        assert info is not None
        key = info.key
        if aggregate is not None and not key and info.time == "bucket":
            # A window is one row per bucket and group: that is its key, so recomputing
            # it replaces the row.
            key = (*(k.name for k in aggregate.by), "bucket")
        return ir.Persist(
            table=info.table,
            time=info.time,
            key=key,
            upsert=aggregate is not None and bool(key),
            chunk=info.chunk,
            retention=info.retention,
            compress_after=info.compress_after,
            batch=info.batch,
            indexes=info.indexes,
            schema=schema_of(record),
        )


class ExprLowering:
    """AST expressions to IR, inlining constants and user functions."""

    def __init__(self, result: CheckResult, file: str) -> None:
        self.result = result
        self.file = file
        self.open_fields: set[str] = set()  # json fields read from an open record

    def type_of(self, expr: ast.Expr) -> t.Type:
        return self.result.types.of(expr)

    def assignments(
        self, items: tuple[ast.Assignment, ...], record: Record
    ) -> tuple[tuple[str, ir.Expr], ...]:
        """Assignments that see earlier ones, rewritten to read only the input record."""
        scope = _Scope(record=record)
        out: list[tuple[str, ir.Expr]] = []
        for item in items:
            value = self.expr(item.value, scope)
            scope.substitutions[item.target.name] = value
            out.append((item.target.name, value))
        return tuple(out)

    def expr(self, node: ast.Expr, scope: _Scope) -> ir.Expr:
        type_ = self.type_of(node)
        span = node.span
        match node:
            case ast.Literal():
                return literal(node)
            case ast.Name(name=name):
                return self._name(name, type_, scope, node)
            case ast.Call():
                return self._call(node, type_, scope)
            case ast.Unary(op=op, operand=operand):
                return ir.Op(
                    "neg" if op == "-" else "not", (self.expr(operand, scope),), type_, span
                )
            case ast.Binary(op=op, left=left, right=right):
                args = (self.expr(left, scope), self.expr(right, scope))
                return ir.Op(op, args, type_, span)  # type: ignore[arg-type]
            case ast.Between(value=value, low=low, high=high):
                v = self.expr(value, scope)
                lower_bound = ir.Op(">=", (v, self.expr(low, scope)), t.BOOL, span)
                upper_bound = ir.Op("<=", (v, self.expr(high, scope)), t.BOOL, span)
                return ir.Op("and", (lower_bound, upper_bound), type_, span)
            case ast.In(value=value, options=options):
                args = (self.expr(value, scope), self.expr(options, scope))
                return ir.Op("in", args, type_, span)
            case ast.Matches(value=value, pattern=pattern):
                args = (self.expr(value, scope), self.expr(pattern, scope))
                return ir.Call("regex_matches", args, type_, span)
            case ast.FieldAccess(value=value, field=name):
                return ir.GetField(self.expr(value, scope), name.name, type_, span)
            case ast.Index(value=value, index=index):
                return ir.GetIndex(self.expr(value, scope), self.expr(index, scope), type_, span)
            case ast.If(condition=c, then=a, otherwise=b):
                branch = (self.expr(c, scope), self.expr(a, scope))
                return ir.Cond((branch,), self.expr(b, scope), type_, span)
            case ast.Match():
                return self._match(node, type_, scope)
            case ast.ListExpr(items=items):
                return ir.MakeList(tuple(self.expr(i, scope) for i in items), type_, span)
            case ast.RecordExpr(fields=fields):
                lowered = tuple((f.name.name, self.expr(f.value, scope)) for f in fields)
                return ir.MakeStruct(lowered, type_, span)
        raise AssertionError(f"cannot lower {type(node).__name__}")

    def _name(self, name: str, type_: t.Type, scope: _Scope, node: ast.Name) -> ir.Expr:
        if name in scope.substitutions:
            return scope.substitutions[name]
        record = scope.record
        if record is not None and name in record.fields:
            return ir.Col(name, type_, node.span)
        assert self.result.decls is not None
        const = self.result.decls.const_expr(name, self.file)
        if const is not None:
            return self.expr(const, _Scope())
        assert record is not None, f"unresolved name {name}"
        assert record.open, f"unresolved name {name}"
        self.open_fields.add(name)
        return ir.Col(name, type_, node.span)

    def _call(self, node: ast.Call, type_: t.Type, scope: _Scope) -> ir.Expr:
        args = tuple(self.expr(a, scope) for a in node.args)
        assert self.result.symbols is not None
        declared = self.result.symbols.lookup(node.func.name, (ast.Fn,), self.file)
        if declared is None:
            return ir.Call(node.func.name, args, type_, node.span)
        fn = declared.decl
        assert isinstance(fn, ast.Fn)
        # Inline: the body, with each parameter replaced by its argument (widened to the
        # parameter's type, so an int passed as a float divides like a float).
        substitutions: dict[str, ir.Expr] = {}
        assert self.result.decls is not None
        signature = self.result.decls.fn_signature(fn.name.name, self.file)
        assert signature is not None
        for (param, param_type), arg in zip(signature.params, args, strict=True):
            substitutions[param] = widen(arg, param_type)
        body = ExprLowering(self.result, declared.file)
        lowered = body.expr(fn.body, _Scope(substitutions=substitutions))
        return widen(lowered, type_)

    def _match(self, node: ast.Match, type_: t.Type, scope: _Scope) -> ir.Expr:
        value = self.expr(node.value, scope)
        branches: list[tuple[ir.Expr, ir.Expr]] = []
        otherwise: ir.Expr = ir.Lit(None, type_.nullable_(), node.span)
        for arm in node.arms:
            result = self.expr(arm.result, scope)
            if arm.pattern is None:
                otherwise = result
                break
            test = ir.Op("==", (value, literal(arm.pattern)), t.BOOL)
            branches.append((test, result))
        return ir.Cond(tuple(branches), otherwise, type_, node.span)


def literal(node: ast.Literal) -> ir.Lit:
    kind_types: Mapping[str, t.Type] = {
        "int": t.INT, "float": t.FLOAT, "str": t.STR, "bool": t.BOOL, "null": t.NULL,
        "duration": t.DURATION, "timestamp": t.TIMESTAMP, "date": t.DATE,
    }  # fmt: skip
    value = node.value
    if node.kind == "duration":
        assert isinstance(value, int)
        return ir.Lit(dt.timedelta(microseconds=value), t.DURATION, node.span)
    return ir.Lit(value, kind_types[node.kind], node.span)


def widen(expr: ir.Expr, target: t.Type) -> ir.Expr:
    """An int where a float is wanted becomes a float, as the checker allowed."""
    if expr.type.kind is t.Kind.INT and target.kind is t.Kind.FLOAT:
        return ir.Call("float", (expr,), t.FLOAT.nullable_(expr.type.nullable))
    return expr
