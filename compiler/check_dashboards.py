"""Checks of `dashboard` and `test` declarations: they refer to pipelines and their fields.

A mixin of the checker: it reads what the checker has learnt about every pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowc.compiler.exprs import Env, ExprChecker, is_error
from flowc.compiler.pipelines import PipelineInfo
from flowc.compiler.scope import Record
from flowc.compiler.symbols import Symbols
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.diagnostics import DiagnosticSink
from flowc.dsl.suggest import did_you_mean

if TYPE_CHECKING:
    from flowc.compiler.checker import SourceInfo


class DashboardChecks:
    sink: DiagnosticSink
    symbols: Symbols
    pipelines: dict[str, PipelineInfo]
    sources: dict[str, SourceInfo]

    def exprs_for(self, file: str) -> ExprChecker:
        raise NotImplementedError  # provided by the checker

    # ---- dashboards and tests ----

    def _dashboard(self, decl: ast.Dashboard, file: str) -> None:
        settings = {"title": t.STR, "refresh": t.DURATION, "description": t.STR}
        for item in decl.items:
            if isinstance(item, ast.DashSetting):
                want = settings.get(item.key.name)
                if want is None:
                    self.sink.error(
                        "E112",
                        f"unknown dashboard setting `{item.key.name}`",
                        item.key.span,
                        "not a dashboard setting",
                        help=did_you_mean(item.key.name, settings)
                        or "the settings are " + ", ".join(settings),
                    )
                    continue
                typed = self.exprs_for(file).check(item.value, Env(constant=True))
                if typed.type.kind is not want.kind and not is_error(typed.type):
                    wanted = (
                        "a duration such as 30s" if want.kind is t.Kind.DURATION else "a string"
                    )
                    self.sink.error(
                        "E303",
                        f"`{item.key.name}` must be {wanted}, found {typed.type}",
                        item.value.span,
                        "invalid value",
                    )
            elif isinstance(item, ast.DashChart):
                kinds = ("line", "bar", "area", "scatter")
                if item.kind.name not in kinds:
                    self.sink.error(
                        "E112",
                        f"unknown chart kind `{item.kind.name}`",
                        item.kind.span,
                        "not a chart kind",
                        help=did_you_mean(item.kind.name, kinds)
                        or "the chart kinds are " + ", ".join(kinds),
                    )
                self._dash_options(
                    item.options, file, ("from", "x", "y", "series", "range", "title")
                )
            else:
                self._dash_options(item.options, file, ("from", "last", "fields", "title"))

    def _dash_options(self, options: ast.RecordExpr, file: str, allowed: tuple[str, ...]) -> None:
        values = {f.name.name: f for f in options.fields}
        for name, f in values.items():
            if name not in allowed:
                self.sink.error(
                    "E112", f"unknown option `{name}`", f.name.span, "",
                    help=did_you_mean(name, allowed) or "the options are " + ", ".join(allowed),
                )  # fmt: skip
        source = values.get("from")
        if source is None:
            self.sink.error(
                "E304", "a chart or table needs `from: <pipeline>`", options.span, "",
            )  # fmt: skip
            return
        if not isinstance(source.value, ast.Name):
            self.sink.error("E303", "`from` names a pipeline", source.value.span, "")
            return
        ident = ast.Ident(source.value.name, source.value.span)
        if self.symbols.lookup(ident.name, (ast.Pipeline,), file) is None:
            self.symbols.unknown(self.sink, "E105", ident, (ast.Pipeline,), "pipeline", file)
            return
        info = self.pipelines.get(ident.name)
        if info is None:
            return
        output = info.output
        for key in ("x", "y", "series", "fields"):
            option = values.get(key)
            if option is None:
                continue
            refs = option.value.items if isinstance(option.value, ast.ListExpr) else (option.value,)
            for ref in refs:
                if not isinstance(ref, ast.Name):
                    self.sink.error("E303", f"`{key}` names fields of `{ident.name}`", ref.span, "")
                elif ref.name not in output.fields and not output.open:
                    self.sink.error(
                        "E104", f"unknown field `{ref.name}`", ref.span,
                        f"not a field of `{ident.name}`",
                        help=did_you_mean(ref.name, output.fields),
                    )  # fmt: skip
        for key, kind in (("range", t.Kind.DURATION), ("last", t.Kind.INT)):
            option = values.get(key)
            if option is None:
                continue
            value = option.value
            if not (isinstance(value, ast.Literal) and _literal_kind(value) is kind):
                self.sink.error("E303", f"`{key}` must be a {kind.value} literal", value.span, "")

    def _test(self, decl: ast.TestDecl, file: str) -> None:
        for item in decl.items:
            kinds: tuple[type, ...] = (
                (ast.Source, ast.Pipeline) if isinstance(item, ast.Given) else (ast.Pipeline,)
            )
            what = "source or pipeline" if isinstance(item, ast.Given) else "pipeline"
            if self.symbols.lookup(item.target.name, kinds, file) is None:
                self.symbols.unknown(self.sink, "E113", item.target, kinds, what, file)
                continue
            typed = self.exprs_for(file).check(item.records, Env(constant=True))
            if typed.type.kind is not t.Kind.LIST or not (
                typed.type.elem is not None and typed.type.elem.kind in (t.Kind.STRUCT, t.Kind.NULL)
            ):
                self.sink.error(
                    "E201",
                    "test records are a list of records: `[{ a: 1 }, { a: 2 }]`",
                    item.records.span,
                    f"this is {typed.type}",
                )
                continue
            record = self._target_record(item, file)
            if record is None or record.open or not isinstance(item.records, ast.ListExpr):
                continue
            for literal in item.records.items:
                if not isinstance(literal, ast.RecordExpr):
                    continue
                for f in literal.fields:
                    if f.name.name not in record.fields:
                        self.sink.error(
                            "E104", f"unknown field `{f.name.name}`", f.name.span,
                            f"not a field of `{item.target.name}`",
                            help=did_you_mean(f.name.name, record.fields),
                        )  # fmt: skip

    def _target_record(self, item: ast.Given | ast.Expect, file: str) -> Record | None:
        name = item.target.name
        if isinstance(item, ast.Given) and name in self.sources:
            return self.sources[name].record
        info = self.pipelines.get(name)
        if info is None:
            return None
        return info.input if isinstance(item, ast.Given) else info.output


def _literal_kind(literal: ast.Literal) -> t.Kind:
    return {"duration": t.Kind.DURATION, "int": t.Kind.INT}.get(literal.kind, t.Kind.NULL)
