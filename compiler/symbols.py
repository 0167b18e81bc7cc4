"""The declarations of a unit, by kind and name, and which of them a file can see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from flowc.compiler.loader import Unit
from flowc.dsl import ast
from flowc.dsl.diagnostics import DiagnosticSink, Label
from flowc.dsl.suggest import closest

D = TypeVar("D", bound=ast.Decl)

IMPORT_NOTE = "an import of this file was not found (E111): the name may be declared there"

KIND_NAMES: dict[type, str] = {
    ast.Const: "constant",
    ast.Fn: "function",
    ast.TypeDecl: "type",
    ast.Source: "source",
    ast.Sink: "sink",
    ast.Pipeline: "pipeline",
    ast.Dashboard: "dashboard",
}


@dataclass(frozen=True, slots=True)
class Declared(Generic[D]):
    decl: D
    file: str


@dataclass
class Symbols:
    """Every named declaration of the unit. Names share one namespace across kinds."""

    unit: Unit
    by_name: dict[str, Declared[ast.Decl]] = field(default_factory=dict)
    # Names offered as "did you mean": a misspelt reference means the name is used.
    suggested: set[str] = field(default_factory=set)

    def visible_files(self, file: str) -> set[str]:
        return {file, *self.unit.imports.get(file, [])}

    def lookup(self, name: str, kinds: tuple[type, ...], file: str) -> Declared[ast.Decl] | None:
        found = self.by_name.get(name)
        if found is None or not isinstance(found.decl, kinds):
            return None
        if found.file not in self.visible_files(file):
            return None
        return found

    def names_of(self, kinds: tuple[type, ...], file: str) -> list[str]:
        visible = self.visible_files(file)
        return [
            n for n, d in self.by_name.items() if isinstance(d.decl, kinds) and d.file in visible
        ]

    def unknown(
        self,
        sink: DiagnosticSink,
        code: str,
        ident: ast.Ident,
        kinds: tuple[type, ...],
        what: str,
        file: str,
        extra: list[str] | None = None,
    ) -> None:
        """Report an unknown reference, explaining a missing import or a wrong kind."""
        if ident.name in self.unit.broken_names:
            return  # its declaration did not parse, which is reported already
        found = self.by_name.get(ident.name)
        help_text: str | None
        if found is not None and isinstance(found.decl, kinds):
            help_text = f'`{ident.name}` is declared in {found.file}: add `import "{found.file}"`'
            sink.error(
                code, f"unknown {what} `{ident.name}`", ident.span, "not imported", help=help_text
            )
            return
        if found is not None:
            kind = KIND_NAMES.get(type(found.decl), "declaration")
            name = ast.decl_name(found.decl)
            assert name is not None
            sink.error(
                code,
                f"`{ident.name}` is a {kind}, not a {what}",
                ident.span,
                f"expected a {what}",
                secondary=(Label(name.span, f"{kind} declared here"),),
            )
            return
        candidates = self.names_of(kinds, file) + (extra or [])
        suggestion = closest(ident.name, candidates)
        if suggestion is not None:
            self.suggested.add(suggestion)
        notes: tuple[str, ...] = ()
        if file in self.unit.failed_imports:
            notes = (IMPORT_NOTE,)
        sink.error(
            code,
            f"unknown {what} `{ident.name}`",
            ident.span,
            f"no {what} of this name",
            help=f"did you mean `{suggestion}`?" if suggestion else None,
            notes=notes,
        )


def collect(unit: Unit, sink: DiagnosticSink) -> Symbols:
    """Gather named declarations, reporting duplicates (E102)."""
    symbols = Symbols(unit)
    for file, module in unit.modules.items():
        for decl in module.decls:
            name = ast.decl_name(decl)
            if name is None:
                continue
            previous = symbols.by_name.get(name.name)
            if previous is not None:
                prev_name = ast.decl_name(previous.decl)
                assert prev_name is not None
                sink.error(
                    "E102",
                    f"`{name.name}` is declared twice",
                    name.span,
                    "declared again here",
                    secondary=(Label(prev_name.span, "first declared here"),),
                    help="sources, sinks, pipelines, types, functions, constants and "
                    "dashboards share one namespace: rename one of them",
                )
                continue
            symbols.by_name[name.name] = Declared(decl, file)
    return symbols
