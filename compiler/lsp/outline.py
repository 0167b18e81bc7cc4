"""Document symbols: the outline of a file, declarations with their steps and fields.

A declaration that does not parse is still listed, from the line that starts it, so the
outline does not lose an entry while the user is in the middle of typing it.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from flowc.compiler.lsp.analysis import Analysis
from flowc.compiler.lsp.describe import user_fn_signature
from flowc.dsl import ast
from flowc.dsl.parser import DECLARATION_KEYWORDS
from flowc.dsl.span import Span

_KINDS: dict[type, lsp.SymbolKind] = {
    ast.Import: lsp.SymbolKind.File,
    ast.Const: lsp.SymbolKind.Constant,
    ast.Fn: lsp.SymbolKind.Function,
    ast.TypeDecl: lsp.SymbolKind.Struct,
    ast.Source: lsp.SymbolKind.Event,
    ast.Sink: lsp.SymbolKind.Interface,
    ast.Pipeline: lsp.SymbolKind.Class,
    ast.Dashboard: lsp.SymbolKind.Object,
    ast.TestDecl: lsp.SymbolKind.Method,
}
_START = re.compile(rf"^({'|'.join(DECLARATION_KEYWORDS)})\s+(\"[^\"\n]*\"?|[A-Za-z_]\w*)?", re.M)


def document_symbols(analysis: Analysis) -> list[lsp.DocumentSymbol]:
    module = analysis.module
    symbols: list[lsp.DocumentSymbol] = []
    covered: set[int] = set()
    for decl in module.decls if module else ():
        symbols.append(_decl(analysis, decl))
        covered.update(range(decl.span.line, decl.span.end_line + 1))
    for match in _START.finditer(analysis.text):
        line = analysis.text.count("\n", 0, match.start()) + 1
        if line in covered:
            continue
        keyword, name = match.group(1), match.group(2) or match.group(1)
        span = Span(analysis.file, line, 1, line, 1 + len(match.group()))
        where = analysis.positions().range(span)
        symbols.append(
            lsp.DocumentSymbol(
                name=name, kind=lsp.SymbolKind.Null, range=where, selection_range=where,
                detail=f"{keyword} (does not parse)",
            )
        )  # fmt: skip
    return sorted(symbols, key=lambda s: (s.range.start.line, s.range.start.character))


def _decl(analysis: Analysis, decl: ast.Decl) -> lsp.DocumentSymbol:
    positions = analysis.positions()
    name_ident = ast.decl_name(decl)
    if isinstance(decl, ast.Import):
        name, detail, selection = decl.path, "import", decl.span
    elif isinstance(decl, ast.TestDecl):
        name, detail, selection = decl.name, "test", decl.span
    else:
        assert name_ident is not None
        name, selection = name_ident.name, name_ident.span
        detail = _detail(analysis, decl)
    children: list[lsp.DocumentSymbol] = []
    if isinstance(decl, ast.Pipeline):
        children = [_step(analysis, step) for step in decl.steps]
    elif isinstance(decl, ast.TypeDecl):
        children = [_field(analysis, f.name, lsp.SymbolKind.Field) for f in decl.fields]
    elif isinstance(decl, ast.Source) and decl.config.schema is not None:
        children = [
            _field(analysis, f.name, lsp.SymbolKind.Field) for f in decl.config.schema.fields
        ]
    return lsp.DocumentSymbol(
        name=name or "(unnamed)",
        kind=_KINDS[type(decl)],
        range=positions.range(decl.span),
        selection_range=positions.range(selection),
        detail=detail,
        children=children or None,
    )


def _detail(analysis: Analysis, decl: ast.Decl) -> str:
    match decl:
        case ast.Source() | ast.Sink():
            return f"{type(decl).__name__.lower()}: {decl.kind.name}"
        case ast.Pipeline():
            return f"from {decl.source.name}"
        case ast.Fn():
            return user_fn_signature(decl, analysis.result, analysis.file)
        case ast.Const():
            typed = analysis.result.types.by_node.get(id(decl.value))
            return str(typed) if typed is not None else "const"
    return type(decl).__name__.lower()


def _step(analysis: Analysis, step: ast.Step) -> lsp.DocumentSymbol:
    positions = analysis.positions()
    lines = analysis.text.splitlines()
    first = lines[step.span.line - 1][step.span.column - 1 :] if step.span.line else ""
    title = first.split("//")[0].split("{")[0].strip() or type(step).__name__
    assignments: tuple[ast.Assignment, ...] = ()
    if isinstance(step, ast.MapStep | ast.DeriveStep | ast.AggregateStep):
        assignments = step.assignments
    children = [_field(analysis, a.target, lsp.SymbolKind.Field) for a in assignments]
    return lsp.DocumentSymbol(
        name=title,
        kind=lsp.SymbolKind.Method,
        range=positions.range(step.span),
        selection_range=positions.range(step.span),
        children=children or None,
    )


def _field(analysis: Analysis, ident: ast.Ident, kind: lsp.SymbolKind) -> lsp.DocumentSymbol:
    where = analysis.positions().range(ident.span)
    return lsp.DocumentSymbol(name=ident.name, kind=kind, range=where, selection_range=where)
