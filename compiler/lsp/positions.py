"""Spans (1-based, code points) to LSP ranges (0-based, the client's code units) and back.

flowc's spans count columns in Python characters (code points) from 1; LSP counts from 0 in
the encoding the client and server agreed on (UTF-16 unless the client offers another).
Every conversion goes through the text of the file the span is in, because the number of
code units of a character depends on the character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition, ServerTextRange

from flowc.compiler.loader import display_name
from flowc.dsl.span import Span


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in flowc's terms: 1-based line and column in code points."""

    line: int
    column: int

    def inside(self, span: Span) -> bool:
        """Whether the cursor touches `span`; its end counts, where an editor's caret sits
        after typing a name."""
        if span.line == 0:
            return False
        start = (span.line, span.column)
        end = (span.end_line, span.end_column)
        return start <= (self.line, self.column) <= end


def span_size(span: Span) -> tuple[int, int]:
    """A sort key: smaller spans first, so the innermost node under a cursor wins."""
    return (span.end_line - span.line, span.end_column - span.column)


class Positions:
    """Converts between spans and LSP ranges for one file's text."""

    def __init__(self, text: str, codec: PositionCodec) -> None:
        self.lines: Sequence[str] = text.splitlines(keepends=True) or [""]
        self.codec = codec

    def range(self, span: Span) -> lsp.Range:
        start = ServerTextPosition(max(span.line - 1, 0), max(span.column - 1, 0))
        end = ServerTextPosition(max(span.end_line - 1, 0), max(span.end_column - 1, 0))
        return self.codec.range_to_client_units(self.lines, ServerTextRange(start, end))

    def cursor(self, position: lsp.Position) -> Cursor:
        # pygls clamps a character past the end of the line in place: copy it first.
        copied = lsp.Position(position.line, position.character)
        server = self.codec.position_from_client_units(self.lines, copied)
        return Cursor(server.line + 1, server.character + 1)

    def offset(self, position: lsp.Position) -> int:
        """The index in the text of an LSP position."""
        cursor = self.cursor(position)
        before = sum(len(line) for line in self.lines[: cursor.line - 1])
        return before + cursor.column - 1


def uri_to_path(uri: str) -> Path:
    """The file a URI names; an `untitled:` buffer gets a path named after its URI."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else Path(uri.replace(":", "_").replace("/", "_"))


def display_of(uri: str) -> str:
    """The name the checker gives a document's file: what spans and overlays are keyed by."""
    return display_name(uri_to_path(uri))


def uri_of(display: str) -> str:
    """The URI of a file the checker named by its display name."""
    return from_fs_path(str(Path(display).resolve())) or display
