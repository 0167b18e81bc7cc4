"""Builds the index: walks a checked unit's AST beside the checker's results.

Each expression is read in the scope the checker read it in (a pipeline step's record, a
function's parameters, constants), so every name gets the meaning the checker gave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowc.compiler.checker import CheckResult
from flowc.compiler.lsp.index import Index, Occurrence, Origin, Role, children
from flowc.compiler.pipelines import PipelineInfo
from flowc.compiler.scope import FieldInfo, Record
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.span import Span
from flowc.stdlib.functions import REGISTRY


@dataclass
class _Scope:
    """What a name means where an expression is: a field, a parameter or a constant."""

    file: str
    owner: str = ""
    record: Record | None = None
    made: dict[str, FieldInfo] = field(default_factory=dict)  # assignments above, same block
    params: dict[str, tuple[Span, t.Type | None]] = field(default_factory=dict)
    constant: bool = False

    def field(self, name: str) -> FieldInfo | None:
        if self.constant:
            return None
        if name in self.made:
            return self.made[name]
        return self.record.get(name) if self.record is not None else None


def build_index(result: CheckResult) -> Index:
    """The index of every file of the checked unit."""
    builder = _Builder(result)
    for file, module in result.unit.modules.items():
        builder.module(file, module)
    return builder.index


class _Builder:
    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.index = Index()
        self.file = ""

    def add(self, occurrence: Occurrence) -> None:
        if occurrence.span.line > 0:
            self.index.occurrences.setdefault(self.file, []).append(occurrence)

    def symbol(self, ident: ast.Ident, kinds: tuple[type, ...]) -> None:
        symbols = self.result.symbols
        found = symbols.lookup(ident.name, kinds, self.file) if symbols else None
        name = ast.decl_name(found.decl) if found else None
        self.add(Occurrence(ident.span, Role.SYMBOL, ident.name, name.span if name else None))

    # ---- declarations ----

    def module(self, file: str, module: ast.Module) -> None:
        self.file = file
        for decl in module.decls:
            name = ast.decl_name(decl)
            if name is not None:
                self.add(Occurrence(name.span, Role.DECL, name.name, name.span))
            match decl:
                case ast.Const():
                    if decl.type is not None:
                        self.type_expr(decl.type)
                    self.expr(decl.value, _Scope(file, constant=True))
                case ast.Fn():
                    self.fn(decl)
                case ast.TypeDecl():
                    for f in decl.fields:
                        self.add(Occurrence(f.name.span, Role.MEMBER, f.name.name, f.name.span))
                        self.type_expr(f.type)
                case ast.Source():
                    self.source(decl)
                case ast.Sink():
                    self.add(Occurrence(decl.kind.span, Role.KIND, decl.kind.name, owner="sink"))
                    self.config(decl.config, f"sink:{decl.kind.name}")
                case ast.Pipeline():
                    self.pipeline(decl)
                case ast.Dashboard():
                    self.dashboard(decl)
                case ast.TestDecl():
                    self.test(decl)

    def fn(self, decl: ast.Fn) -> None:
        scope = _Scope(self.file)
        decls = self.result.decls
        signature = decls.fn_signature(decl.name.name, self.file) if decls else None
        types = dict(signature.params) if signature is not None else {}
        for param in decl.params:
            type_ = types.get(param.name.name)
            scope.params[param.name.name] = (param.name.span, type_)
            self.add(
                Occurrence(param.name.span, Role.PARAM_DEF, param.name.name, param.name.span, type_)
            )
            self.type_expr(param.type)
        self.type_expr(decl.result)
        self.expr(decl.body, scope)

    def source(self, decl: ast.Source) -> None:
        kind = decl.kind.name
        self.add(Occurrence(decl.kind.span, Role.KIND, kind, owner="source"))
        self.config(decl.config, f"source:{kind}")
        info = self.result.sources.get(decl.name.name)
        record = info.record if info is not None and info.file == self.file else None
        schema = decl.config.schema
        if schema is not None:
            for f in schema.fields:
                found = record.get(f.name.name) if record else None
                self.field_def(f.name, found, decl.name.name)
                origin = Origin("schema", f.name.name, decl.name.name, None, (), "source")
                self.index.origins[f.name.span] = origin
                self.type_expr(f.type)
        elif kind == "generate":
            origin = Origin("generate", "", decl.name.name, None, (), "source")
            self.index.origins[decl.name.span] = origin

    def config(self, block: ast.ConfigBlock, owner: str, scope: _Scope | None = None) -> None:
        """Keys of a block as config keys; values as constants, or fields for `persist`."""
        for entry in block.entries:
            path = (entry.key.name,)
            self.add(
                Occurrence(entry.key.span, Role.CONFIG_KEY, entry.key.name, owner=owner, path=path)
            )
            self.config_value(entry.value, owner, path, scope)

    def config_value(
        self, value: ast.Expr, owner: str, path: tuple[str, ...], scope: _Scope | None
    ) -> None:
        if isinstance(value, ast.RecordExpr):
            for f in value.fields:
                inner = (*path, f.name.name)
                self.add(Occurrence(f.name.span, Role.CONFIG_KEY, f.name.name, owner=owner,
                                    path=inner))  # fmt: skip
                self.config_value(f.value, owner, inner, scope)
        elif isinstance(value, ast.ListExpr | ast.TupleExpr):
            for item in value.items:
                self.config_value(item, owner, path, scope)
        elif isinstance(value, ast.Name):
            self.expr(value, scope or _Scope(self.file, constant=True))
        elif not isinstance(value, ast.Call):  # env("X") is configuration, not a function
            self.expr(value, _Scope(self.file, constant=True))

    # ---- pipelines ----

    def pipeline(self, decl: ast.Pipeline) -> None:
        self.symbol(decl.source, (ast.Source, ast.Pipeline))
        if decl.output_type is not None:
            self.symbol(decl.output_type, (ast.TypeDecl,))
        info = self._info(decl)
        for index, step in enumerate(decl.steps):
            before: Record | None = None
            after: Record | None = None
            if info is not None and index < len(info.after_step):
                before = info.after_step[index - 1] if index else info.input
                after = info.after_step[index]
            self.step(decl.name.name, step, _Scope(self.file, decl.name.name, before), after)

    def _info(self, decl: ast.Pipeline) -> PipelineInfo | None:
        symbols = self.result.symbols
        declared = symbols.by_name.get(decl.name.name) if symbols else None
        if declared is None or declared.decl is not decl:
            return None  # a duplicate: the checker only knows the first
        return self.result.pipelines.get(decl.name.name)

    def step(self, pipeline: str, step: ast.Step, scope: _Scope, after: Record | None) -> None:
        match step:
            case ast.MapStep() | ast.DeriveStep():
                kind = "map" if isinstance(step, ast.MapStep) else "derive"
                self.assignments(step.assignments, kind, pipeline, scope, after)
            case ast.WhereStep():
                self.expr(step.condition, scope)
            case ast.SelectStep() | ast.DropStep():
                for name in step.names:
                    self.field_ref(name.name, name.span, scope)
            case ast.RenameStep():
                for pair in step.pairs:
                    old = self.field_ref(pair.old.name, pair.old.span, scope)
                    made = after.get(pair.new.name) if after else None
                    self.field_def(pair.new, made, pipeline)
                    inputs = (old.target,) if old.target else ()
                    origin = Origin("rename", pair.new.name, pipeline, None, inputs)
                    self.index.origins[pair.new.span] = origin
            case ast.ValidateStep():
                for rule in step.rules:
                    self.expr(rule.expr, scope)
                    if rule.action is not None:
                        self.add(Occurrence(rule.action.span, Role.ACTION, rule.action.name))
            case ast.DedupeStep():
                for key in step.keys:
                    self.field_ref(key.name, key.span, scope)
            case ast.AggregateStep():
                self.aggregate(step, pipeline, scope, after)
            case ast.PersistStep():
                if step.config is not None:
                    self.config(step.config, "persist", scope)
            case ast.SinkStep():
                for name in step.names:
                    self.symbol(name, (ast.Sink,))
            case ast.CacheStep():
                pass

    def aggregate(
        self, step: ast.AggregateStep, pipeline: str, scope: _Scope, after: Record | None
    ) -> None:
        self.index.exprs.setdefault(self.file, []).append(step.every)
        for key in step.by:
            ref = self.field_ref(key.name, key.span, scope)
            # The key is also where the output field is made: it passes the input through.
            inputs = (ref.target,) if ref.target else ()
            self.index.origins[key.span] = Origin("by", key.name, pipeline, None, inputs)
            if ref.target is not None:
                self.index.aliases.setdefault(key.span, set()).add(ref.target)
                self.index.aliases.setdefault(ref.target, set()).add(key.span)
        origin = Origin("bucket", "bucket", pipeline, step.every, ())
        self.index.origins[step.every.span] = origin
        self.assignments(step.assignments, "aggregate", pipeline, scope, after)

    def assignments(
        self,
        items: tuple[ast.Assignment, ...],
        kind: str,
        pipeline: str,
        scope: _Scope,
        after: Record | None,
    ) -> None:
        for item in items:
            refs_before = len(self.index.occurrences.get(self.file, ()))
            self.expr(item.value, scope)
            read = self.index.occurrences.get(self.file, [])[refs_before:]
            inputs = tuple(
                dict.fromkeys(o.target for o in read if o.role is Role.FIELD_REF and o.target)
            )
            made = after.get(item.target.name) if after else None
            self.field_def(item.target, made, pipeline)
            origin = Origin(kind, item.target.name, pipeline, item.value, inputs)
            self.index.origins[item.target.span] = origin
            if kind != "aggregate" and made is not None:
                scope.made[item.target.name] = made

    def field_def(self, ident: ast.Ident, made: FieldInfo | None, owner: str) -> None:
        type_ = made.type if made is not None else None
        occurrence = Occurrence(ident.span, Role.FIELD_DEF, ident.name, ident.span, type_, owner)
        self.add(occurrence)
        self.index.definitions[ident.span] = occurrence

    def field_ref(self, name: str, span: Span, scope: _Scope) -> Occurrence:
        found = scope.field(name)
        open_record = scope.record is not None and scope.record.open and not scope.record.unknown
        type_ = found.type if found else (t.JSON if open_record else None)
        occurrence = Occurrence(
            span, Role.FIELD_REF, name, found.span if found else None, type_, scope.owner
        )
        self.add(occurrence)
        return occurrence

    # ---- dashboards and tests ----

    def dashboard(self, decl: ast.Dashboard) -> None:
        for item in decl.items:
            if isinstance(item, ast.DashSetting):
                self.add(Occurrence(item.key.span, Role.CONFIG_KEY, item.key.name,
                                    owner="dashboard", path=(item.key.name,)))  # fmt: skip
                self.expr(item.value, _Scope(self.file, constant=True))
                continue
            owner = "table"
            if isinstance(item, ast.DashChart):
                owner = "chart"
                self.add(Occurrence(item.kind.span, Role.KIND, item.kind.name, owner="chart"))
            record: Record | None = None
            pipeline = ""
            for f in item.options.fields:
                if f.name.name == "from" and isinstance(f.value, ast.Name):
                    pipeline = f.value.name
                    info = self.result.pipelines.get(pipeline)
                    record = info.output if info is not None else None
            scope = _Scope(self.file, pipeline, record)
            for f in item.options.fields:
                key = f.name.name
                self.add(Occurrence(f.name.span, Role.CONFIG_KEY, key, owner=owner, path=(key,)))
                values = f.value.items if isinstance(f.value, ast.ListExpr) else (f.value,)
                for value in values:
                    if key == "from" and isinstance(value, ast.Name):
                        self.symbol(ast.Ident(value.name, value.span), (ast.Pipeline,))
                    elif key in ("x", "y", "series", "fields") and isinstance(value, ast.Name):
                        self.field_ref(value.name, value.span, scope)
                    else:
                        self.expr(value, _Scope(self.file, constant=True))

    def test(self, decl: ast.TestDecl) -> None:
        for item in decl.items:
            kinds: tuple[type, ...] = (ast.Pipeline,)
            record: Record | None = None
            name = item.target.name
            info = self.result.pipelines.get(name)
            if isinstance(item, ast.Given):
                kinds = (ast.Source, ast.Pipeline)
                source = self.result.sources.get(name)
                record = source.record if source else info.input if info else None
            elif info is not None:
                record = info.output
            self.symbol(item.target, kinds)
            scope = _Scope(self.file, name, record)
            records = item.records.items if isinstance(item.records, ast.ListExpr) else ()
            for literal in records:
                if not isinstance(literal, ast.RecordExpr):
                    self.expr(literal, _Scope(self.file, constant=True))
                    continue
                for f in literal.fields:
                    self.field_ref(f.name.name, f.name.span, scope)
                    self.expr(f.value, _Scope(self.file, constant=True))

    # ---- expressions and types ----

    def expr(self, expr: ast.Expr, scope: _Scope) -> None:
        self.index.exprs.setdefault(self.file, []).append(expr)
        match expr:
            case ast.Name():
                self.name(expr, scope)
                return
            case ast.Call():
                symbols = self.result.symbols
                user = symbols.lookup(expr.func.name, (ast.Fn,), self.file) if symbols else None
                if user is not None:
                    self.symbol(expr.func, (ast.Fn,))
                elif expr.func.name in REGISTRY:
                    self.add(Occurrence(expr.func.span, Role.FUNCTION, expr.func.name))
            case ast.FieldAccess():
                type_ = self.result.types.by_node.get(id(expr))
                self.add(Occurrence(expr.field.span, Role.MEMBER, expr.field.name, None, type_))
        for child in children(expr):
            self.expr(child, scope)

    def name(self, expr: ast.Name, scope: _Scope) -> None:
        type_ = self.result.types.by_node.get(id(expr))
        if type_ is not None and type_.name == "<error>":
            type_ = None  # in error (reported already): its type is not known
        if expr.name in scope.params:
            span, declared = scope.params[expr.name]
            self.add(Occurrence(expr.span, Role.PARAM_REF, expr.name, span, type_ or declared))
            return
        found = scope.field(expr.name)
        if found is not None:
            self.add(Occurrence(expr.span, Role.FIELD_REF, expr.name, found.span,
                                type_ or found.type, scope.owner))  # fmt: skip
            return
        symbols = self.result.symbols
        if symbols is not None and symbols.lookup(expr.name, (ast.Const,), self.file):
            self.symbol(ast.Ident(expr.name, expr.span), (ast.Const,))
        elif scope.record is not None and scope.record.unknown and not scope.constant:
            self.add(Occurrence(expr.span, Role.FIELD_REF, expr.name, None, None, scope.owner))
        elif scope.record is not None and scope.record.open and not scope.constant:
            self.add(Occurrence(expr.span, Role.FIELD_REF, expr.name, None, t.JSON, scope.owner))

    def type_expr(self, node: ast.TypeExpr) -> None:
        if isinstance(node, ast.StructType):
            for f in node.fields:
                self.add(Occurrence(f.name.span, Role.MEMBER, f.name.name, f.name.span))
                self.type_expr(f.type)
            return
        if node.name.name in t.SCALAR_NAMES or node.name.name == "list":
            self.add(Occurrence(node.name.span, Role.TYPE, node.name.name))
        else:
            self.symbol(node.name, (ast.TypeDecl,))
        for arg in node.args:
            self.type_expr(arg)
