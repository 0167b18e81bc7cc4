"""Formatting: the edit that makes the document what `flowc fmt` would write.

A document with syntax errors gets no edit, as `flowc fmt` leaves such a file alone:
reformatting around an error would guess at what the user meant.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from flowc.compiler.lsp.analysis import Analysis
from flowc.dsl.fmt import format_source
from flowc.dsl.span import Span


def format_document(analysis: Analysis) -> list[lsp.TextEdit]:
    """One edit replacing the whole text, or none when it is formatted or does not parse."""
    formatted = format_source(analysis.text, analysis.file)
    if formatted is None or formatted == analysis.text:
        return []
    lines = analysis.text.splitlines(keepends=True)
    end = lsp.Position(len(lines), 0)
    if lines and not lines[-1].endswith(("\n", "\r")):
        last = len(lines[-1]) + 1
        span = Span(analysis.file, len(lines), last, len(lines), last)
        end = analysis.positions().range(span).end
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), formatted)]
