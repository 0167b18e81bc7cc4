"""Name resolution and type checking of a compilation unit.

`check_unit` runs every check and collects every diagnostic; the result carries what the
later stages need (each pipeline's fields after each step, persistence, sinks, sources).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from flowc.compiler.check_dashboards import DashboardChecks
from flowc.compiler.config_values import config_values
from flowc.compiler.declarations import Declarations
from flowc.compiler.exprs import ExprChecker
from flowc.compiler.loader import Unit, load_unit, unit_from_text
from flowc.compiler.pipelines import PipelineInfo, StepChecker
from flowc.compiler.scope import ExprTypes, FieldInfo, NullOrigin, Record
from flowc.compiler.symbols import Symbols, collect
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.diagnostics import Diagnostic, DiagnosticSink, Label, sort_key
from flowc.dsl.span import Span
from flowc.dsl.suggest import did_you_mean
from flowc.stdlib.connectors import SINKS, SOURCES
from flowc.stdlib.connectors.base import Connector
from flowc.stdlib.connectors.generate import GenerateSource, generated_schema
from flowc.stdlib.connectors.validation import validate_config


@dataclass
class SourceInfo:
    name: str
    file: str
    kind: str
    config: BaseModel | None
    record: Record


@dataclass
class SinkInfo:
    name: str
    file: str
    kind: str
    config: BaseModel | None


@dataclass
class CheckResult:
    """Everything the checker learned, and every diagnostic, sorted by position."""

    unit: Unit
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    sinks: dict[str, SinkInfo] = field(default_factory=dict)
    pipelines: dict[str, PipelineInfo] = field(default_factory=dict)
    types: ExprTypes = field(default_factory=ExprTypes)
    symbols: Symbols | None = None
    decls: Declarations | None = None

    @property
    def ok(self) -> bool:
        return not any(d.severity.value == "error" for d in self.diagnostics)


def check_path(path: Path, overlays: dict[str, str] | None = None) -> CheckResult:
    """Load and check the unit rooted at `path`."""
    return check_unit(load_unit(path, overlays))


def check_text(text: str, file: str = "<input>") -> CheckResult:
    return check_unit(unit_from_text(text, file))


def check_unit(unit: Unit) -> CheckResult:
    sink = DiagnosticSink()
    for diagnostic in unit.diagnostics:
        sink.add(diagnostic)
    symbols = collect(unit, sink)
    checker = _Checker(unit, symbols, sink)
    try:
        checker.run()
    except RecursionError:
        # Parsed, but deeper than the checker's recursion: reported, never a crash.
        line = Span(unit.root, 1, 1, 1, 2)
        sink.error(
            "E005",
            "an expression in this file is nested too deeply to check",
            line,
            "",
            help="split deep expressions with intermediate fields in `derive`, or a `const`",
        )
    unique = {(d.code, d.span, d.message): d for d in sink.items}
    result = CheckResult(unit, sorted(unique.values(), key=sort_key))
    result.sources = checker.sources
    result.sinks = checker.sinks
    result.pipelines = checker.pipelines
    result.types = checker.decls.types
    result.symbols = symbols
    result.decls = checker.decls
    return result


class _Checker(DashboardChecks):
    def __init__(self, unit: Unit, symbols: Symbols, sink: DiagnosticSink) -> None:
        self.unit = unit
        self.symbols = symbols
        self.sink = sink
        self.decls = Declarations(symbols, sink)
        self.sources: dict[str, SourceInfo] = {}
        self.sinks: dict[str, SinkInfo] = {}
        self.pipelines: dict[str, PipelineInfo] = {}
        self.used: set[str] = set()

    def exprs_for(self, file: str) -> ExprChecker:
        return self.decls.expr_checker(file)

    def run(self) -> None:
        for file, module in self.unit.modules.items():
            for decl in module.decls:
                match decl:
                    case ast.Const():
                        self.decls.check_const(decl.name.name, file)
                    case ast.Fn():
                        self.decls.check_fn(decl, file)
                    case ast.TypeDecl():
                        self.decls.named_type(decl.name.name, file)
                    case ast.Source():
                        self._source(decl, file)
                    case ast.Sink():
                        self._sink(decl, file)
        for name in self._pipeline_order():
            found = self.symbols.by_name[name]
            assert isinstance(found.decl, ast.Pipeline)
            self._pipeline(found.decl, found.file)
        for file, module in self.unit.modules.items():
            for decl in module.decls:
                if isinstance(decl, ast.Dashboard):
                    self._dashboard(decl, file)
                elif isinstance(decl, ast.TestDecl):
                    self._test(decl, file)
        self._unused()

    # ---- sources and sinks ----

    def _connector_config(
        self, connector: Connector, block: ast.ConfigBlock, file: str, owner: ast.Ident
    ) -> BaseModel | None:
        converted = config_values(block, self.sink, lambda n: self.decls.const_expr(n, file))
        model, issues = validate_config(connector, converted.values)
        for issue in issues:
            if issue.code == "E302":
                span = converted.key_span_for(issue.path, block.span)
                label = "unknown key"
            elif issue.code == "E304":
                # Point at what lacks the key: its parent key, or the declaration's name.
                parent = issue.path[:-1]
                span = converted.key_span_for(parent, owner.span) if parent else owner.span
                label = f"`{issue.path[-1]}` is missing" if issue.path else "a key is missing"
            else:
                span = converted.span_for(issue.path, block.span)
                label = "a secret in the file" if issue.code == "E306" else "invalid value"
            self.sink.error(issue.code, issue.message, span, label, help=issue.help)
        return model

    def _source(self, decl: ast.Source, file: str) -> None:
        kind = decl.kind.name
        connector = SOURCES.get(kind)
        description = f"`{decl.name.name}`'s records"
        record = Record(open=True, description=description)
        if connector is None:
            self._unknown_kind(decl.kind, "source", list(SOURCES))
            self.sources[decl.name.name] = SourceInfo(decl.name.name, file, kind, None, record)
            return
        model = self._connector_config(connector, decl.config, file, decl.name)
        schema = decl.config.schema
        if schema is not None and not connector.accepts_schema:
            self.sink.error(
                "E302",
                f"a `{kind}` source has no `schema` block",
                schema.span,
                "not accepted here",
                help="its fields come from its own settings" if kind == "generate" else None,
            )
        elif schema is not None:
            record = Record(description=description)
            for f in schema.fields:
                type_ = self.decls.resolve_type(f.type, file)
                if f.name.name in record.fields:
                    self.sink.error(
                        "E109", f"field `{f.name.name}` is declared twice", f.name.span, "",
                        secondary=(Label(record.fields[f.name.name].span, "first declared here"),),
                    )  # fmt: skip
                    continue
                null = NullOrigin(f.type.span, f"`{f.name.name}` is declared {type_} in the schema")
                record.fields[f.name.name] = FieldInfo(
                    f.name.name, type_, f.name.span, null if type_.nullable else None
                )
        if isinstance(model, GenerateSource):
            record = Record(description=description)
            for name, spec in generated_schema(model).items():
                record.fields[name] = FieldInfo(name, t.parse_spec(spec), decl.name.span)
        if kind == "webhook" and model is not None:
            self._webhook_security(decl, model)
        self.sources[decl.name.name] = SourceInfo(decl.name.name, file, kind, model, record)

    def _webhook_security(self, decl: ast.Source, model: BaseModel) -> None:
        if getattr(model, "secret", None) is None and getattr(model, "token", None) is None:
            self.sink.error(
                "W503",
                f"webhook `{decl.name.name}` accepts requests from anyone",
                decl.name.span,
                "no `secret` or `token`",
                help='check senders with `secret: env("NAME")` (HMAC signature) or '
                '`token: env("NAME")` (bearer token)',
            )

    def _sink(self, decl: ast.Sink, file: str) -> None:
        kind = decl.kind.name
        connector = SINKS.get(kind)
        if connector is None:
            self._unknown_kind(decl.kind, "sink", list(SINKS))
            self.sinks[decl.name.name] = SinkInfo(decl.name.name, file, kind, None)
            return
        model = self._connector_config(connector, decl.config, file, decl.name)
        if decl.config.schema is not None:
            self.sink.error(
                "E302", "a sink has no `schema` block", decl.config.schema.span, "",
                help="a sink receives the fields of the pipelines that use it",
            )  # fmt: skip
        self.sinks[decl.name.name] = SinkInfo(decl.name.name, file, kind, model)

    def _unknown_kind(self, kind: ast.Ident, role: str, known: list[str]) -> None:
        self.sink.error(
            "E301",
            f"unknown {role} kind `{kind.name}`",
            kind.span,
            f"not a {role} kind",
            help=did_you_mean(kind.name, known) or f"the {role} kinds are " + ", ".join(known),
        )

    # ---- pipelines ----

    def _pipeline_order(self) -> list[str]:
        """Pipelines with every upstream first; cycles are reported (E108) and broken."""
        order: list[str] = []
        state: dict[str, str] = {}
        names = [n for n, d in self.symbols.by_name.items() if isinstance(d.decl, ast.Pipeline)]

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "active":
                cycle = [*path[path.index(name) :], name]
                found = self.symbols.by_name[name]
                assert isinstance(found.decl, ast.Pipeline)
                self.sink.error(
                    "E108",
                    "pipelines read from each other in a cycle: " + " -> ".join(cycle),
                    found.decl.source.span,
                    "closes the cycle",
                    help="a pipeline cannot depend on its own output: make one of the pipelines "
                    "read from a source or from a pipeline outside the cycle",
                )
                return
            state[name] = "active"
            decl = self.symbols.by_name[name].decl
            assert isinstance(decl, ast.Pipeline)
            upstream = self.symbols.by_name.get(decl.source.name)
            if upstream is not None and isinstance(upstream.decl, ast.Pipeline):
                visit(decl.source.name, [*path, name])
            state[name] = "done"
            order.append(name)

        for name in names:
            visit(name, [])
        return order

    def _pipeline(self, decl: ast.Pipeline, file: str) -> None:
        upstream = self.symbols.lookup(decl.source.name, (ast.Source, ast.Pipeline), file)
        upstream_time: str | None = None
        is_pipeline = False
        if upstream is None:
            self.symbols.unknown(
                self.sink,
                "E105",
                decl.source,
                (ast.Source, ast.Pipeline),
                "source or pipeline",
                file,
            )
            record = Record(open=True, description=f"`{decl.source.name}`", unknown=True)
        elif isinstance(upstream.decl, ast.Source):
            self.used.add(decl.source.name)
            source = self.sources.get(decl.source.name)
            record = source.record.copy() if source else Record(open=True)
        else:
            is_pipeline = True
            info = self.pipelines.get(decl.source.name)
            if info is None:  # part of a cycle, already reported
                record = Record(open=True, description=f"`{decl.source.name}`", unknown=True)
            else:
                record = info.output.copy()
                record.description = f"`{decl.source.name}`'s output"
                upstream_time = info.time_column
        info = PipelineInfo(decl.name.name, file, decl.source.name, is_pipeline, record)
        steps = StepChecker(
            self.sink,
            self.exprs_for(file),
            lambda ident: self._sink_ref(ident, file),
            lambda n: self.decls.const_expr(n, file),
        )
        steps.check(decl, info, upstream_time)
        if decl.output_type is not None:
            self._output_type(decl, info, file, steps)
        self.pipelines[decl.name.name] = info

    def _sink_ref(self, ident: ast.Ident, file: str) -> bool:
        if self.symbols.lookup(ident.name, (ast.Sink,), file) is None:
            self.symbols.unknown(self.sink, "E106", ident, (ast.Sink,), "sink", file)
            return False
        self.used.add(ident.name)
        return True

    def _output_type(
        self, decl: ast.Pipeline, info: PipelineInfo, file: str, steps: StepChecker
    ) -> None:
        assert decl.output_type is not None
        declared = self.decls.named_type(decl.output_type.name, file, decl.output_type)
        if declared is None:
            return
        output = info.output
        expected = dict(declared.fields)
        problems: list[str] = []
        for name, want in expected.items():
            have = output.get(name)
            if have is None:
                if not output.open:
                    problems.append(f"`{name}` is missing")
                continue
            if not t.assignable(have.type, want) or (
                have.type.kind is t.Kind.JSON and want.kind is not t.Kind.JSON
            ):
                problems.append(f"`{name}` is {have.type}, the type says {want}")
            elif have.type.may_be_null and not want.nullable:
                steps.null_error(name, decl.output_type.span, have, f"`{declared}`'s field")
        extra = [n for n in output.fields if n not in expected]
        problems += [f"`{n}` is not in the type" for n in extra]
        if problems:
            self.sink.error(
                "E208",
                f"the output of `{decl.name.name}` does not match `{declared}`",
                decl.output_type.span,
                "; ".join(problems),
                help="change the steps or the type so the fields and their types agree",
            )

    # ---- warnings ----

    def _unused(self) -> None:
        """W501 for declarations of the root file that nothing uses.

        Skipped while part of the file failed to parse: the broken part may be the user.
        """
        root = self.unit.modules.get(self.unit.root)
        if root is None or root.broken:
            return
        used = self.used | self.decls.used | self.symbols.suggested
        kinds = {ast.Source: "source", ast.Sink: "sink", ast.Const: "constant", ast.Fn: "function",
                 ast.TypeDecl: "type"}  # fmt: skip
        labels = {
            "source": "no pipeline reads this source",
            "sink": "no pipeline sends to this sink",
        }
        # A file without pipelines is a library of constants, functions and types for the
        # files that import it: nothing in it is unused on its own.
        library = not any(isinstance(d, ast.Pipeline) for d in root.decls)
        for name, declared in self.symbols.by_name.items():
            what = kinds.get(type(declared.decl))
            if what is None or name in used or declared.file != self.unit.root:
                continue
            if library and what in ("constant", "function", "type"):
                continue
            decl_ident = ast.decl_name(declared.decl)
            assert decl_ident is not None
            self.sink.error(
                "W501",
                f"{what} `{name}` is never used",
                decl_ident.span,
                labels.get(what, "never referred to"),
                help="use it or remove it",
            )
