"""`flowc check`'s diagnostics as LSP diagnostics: the same codes, messages, labels and help.

A flowc diagnostic has a primary label, secondary labels that explain it, a help line and
notes. LSP has a message, related information and free `data`: the labels' texts and the
help go into the message (every editor shows it), the secondary labels become related
information (editors link them to their place), and `data` keeps the parts apart for
clients that render them themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsprotocol import types as lsp

from flowc.compiler.loader import display_name
from flowc.compiler.lsp.analysis import Analysis
from flowc.compiler.lsp.positions import Positions
from flowc.dsl import ast
from flowc.dsl.diagnostics import Diagnostic, Severity

SOURCE = "flowc"


def to_lsp(
    diagnostic: Diagnostic,
    positions: Callable[[str], Positions],
    uri_of: Callable[[str], str],
) -> lsp.Diagnostic:
    """One diagnostic; `positions` and `uri_of` map a file of the unit to ranges and URIs."""
    primary = diagnostic.primary
    lines = [diagnostic.message]
    if primary.message:
        lines.append(primary.message)
    lines += [f"help: {diagnostic.help}"] if diagnostic.help else []
    lines += [f"note: {note}" for note in diagnostic.notes]
    related = [
        lsp.DiagnosticRelatedInformation(
            lsp.Location(uri_of(label.span.file), positions(label.span.file).range(label.span)),
            label.message or "see here",
        )
        for label in diagnostic.secondary
        if label.span.line > 0
    ]
    return lsp.Diagnostic(
        range=positions(primary.span.file).range(primary.span),
        message="\n".join(lines),
        severity=(
            lsp.DiagnosticSeverity.Warning
            if diagnostic.severity is Severity.WARNING
            else lsp.DiagnosticSeverity.Error
        ),
        code=diagnostic.code,
        source=SOURCE,
        related_information=related or None,
        tags=[lsp.DiagnosticTag.Unnecessary] if diagnostic.code == "W501" else None,
        data={"help": diagnostic.help, "notes": list(diagnostic.notes), "label": primary.message},
    )


def document_diagnostics(
    analysis: Analysis, open_files: set[str], uri_of: Callable[[str], str]
) -> list[lsp.Diagnostic]:
    """The diagnostics to show on the analysed document.

    Its own, and, for each file it imports that is not open (an open file shows its own),
    one diagnostic on the `import` saying that the file has errors and where the first is:
    otherwise a syntax error there would only show as names silently missing here.
    """
    out = [
        to_lsp(d, analysis.positions, uri_of)
        for d in analysis.result.diagnostics
        if d.span.file == analysis.file
    ]
    module = analysis.module
    if module is None:
        return out
    here = Path(analysis.file).resolve().parent
    for decl in module.decls:
        if not isinstance(decl, ast.Import):
            continue
        target = display_name((here / decl.path).resolve())
        if target in open_files or target not in analysis.result.unit.modules:
            continue
        errors = [
            d
            for d in analysis.result.diagnostics
            if d.span.file == target and d.severity is Severity.ERROR
        ]
        if not errors:
            continue
        first = errors[0]
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        location = lsp.Location(uri_of(target), analysis.positions(target).range(first.span))
        out.append(
            lsp.Diagnostic(
                range=analysis.positions().range(decl.span),
                message=f"{target} has {count}; the first: [{first.code}] {first.message}",
                severity=lsp.DiagnosticSeverity.Error,
                source=SOURCE,
                related_information=[lsp.DiagnosticRelatedInformation(location, first.message)],
            )
        )
    return out
