"""Parsing on every keystroke: the parser's own per-declaration pieces, each parsed once.

`flowc.dsl.parser.parse` parses a whole file, and on a syntax error parses it again cut
into pieces at the lines that start a declaration. An edit changes one piece, so the
server cuts the file the same way and keeps each piece's declarations by its text and
position: a keystroke re-parses one declaration instead of the whole file.

The result is the one `parse` gives:

- when every piece parses, the whole file parses to the same declarations (each piece
  ends where an item may end, so joining them changes no token);
- when a piece fails, `parse` would have failed on the whole file and fallen back to the
  same pieces, unless a cut fell inside a declaration (a keyword in column 1 inside
  braces, after an operator that continues the line, or inside a long string). Such a
  cut sends the file to `parse` itself.
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from threading import Lock
from typing import TypeVar

from lark.exceptions import UnexpectedInput

from flowc.compiler.loader import Unit, load_unit
from flowc.dsl import ast
from flowc.dsl.builder import AstBuilder
from flowc.dsl.diagnostics import Diagnostic, DiagnosticSink
from flowc.dsl.lexing import CONTINUATION_TOKENS
from flowc.dsl.parser import (
    DECLARATION_NAME,  # the parser's own patterns, so the pieces are exactly its pieces
    DECLARATION_START,
    ParseResult,
    collect_comments,
    lark_parser,
    parse,
    syntax_diagnostic,
)
from flowc.dsl.span import Span

_CACHE_SIZE = 4096
_T = TypeVar("_T")
_TOKENS = re.compile(
    r'"{3}(?:[^"\\]|\\.|"(?!""))*"{3}|"{3}|"(?:[^"\\\n]|\\.)*"|//[^\n]*'
    r"|[A-Za-z_]\w*|@[\w:.+-]+|\d[\w.]*|->|=>|\?\?|\+\+|==|!=|<=|>=|\S"
)


@dataclass(frozen=True, slots=True)
class _Piece:
    line_offset: int  # the line before its first, where it was parsed
    decls: tuple[ast.Decl, ...]
    diagnostics: tuple[Diagnostic, ...]
    broken: str | None  # the name of a declaration that did not parse ("" when unnamed)
    opens: int  # brackets left open at its end
    dips: bool  # closes a bracket it did not open: it may continue the piece before
    continues: bool  # ends with a token after which a line goes on, or in a long string


class _Cache:
    """Pieces by (file, text, following keyword): an LRU shared by all files.

    A piece found at another line (lines were added or removed above it) is moved there,
    which is much cheaper than parsing it again.
    """

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[str, str, str], _Piece] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[str, str, str]) -> _Piece | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, str], piece: _Piece) -> None:
        with self.lock:
            self.items[key] = piece
            while len(self.items) > _CACHE_SIZE:
                self.items.popitem(last=False)


_PIECES = _Cache()


class _Fallback(Exception):
    """A piece the builder could not handle alone: the whole file goes to `parse`."""


def parse_incremental(text: str, file: str) -> ParseResult:
    """The same result as `parse(text, file)`, re-parsing only the pieces that changed."""
    starts = [m.start() for m in DECLARATION_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    pieces: list[_Piece] = []
    try:
        line_offset = 0
        for begin, end in itertools.pairwise(starts):
            piece_text = text[begin:end]
            following = DECLARATION_START.match(text, end)
            keyword = following.group() if following else ""
            key = (file, piece_text, keyword)
            piece = _PIECES.get(key)
            if piece is None:
                piece = _parse_piece(piece_text, file, line_offset, keyword)
                _PIECES.put(key, piece)
            elif piece.line_offset != line_offset:
                piece = _moved(piece, line_offset)
                _PIECES.put(key, piece)
            pieces.append(piece)
            line_offset += piece_text.count("\n")
    except _Fallback:
        return parse(text, file)
    failed = [i for i, p in enumerate(pieces) if p.broken is not None]
    if failed and _cut_inside_declaration(pieces):
        return parse(text, file)
    decls = tuple(d for p in pieces for d in p.decls)
    diagnostics = tuple(d for p in pieces for d in p.diagnostics)
    broken = tuple(p.broken for p in pieces if p.broken is not None)
    module = ast.Module(file, decls, collect_comments(text, file), broken)
    return ParseResult(module, diagnostics)


def _cut_inside_declaration(pieces: list[_Piece]) -> bool:
    for before, after in itertools.pairwise(pieces):
        if before.continues or (before.opens > 0 and after.dips):
            return True
    return False


def _parse_piece(text: str, file: str, line_offset: int, keyword: str) -> _Piece:
    sink = DiagnosticSink()
    opens, dips, continues = _shape(text)
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as error:
        following = None
        if keyword:
            line = line_offset + text.count("\n") + 1
            following = (keyword, Span(file, line, 1, line, 1 + len(keyword)))
        sink.add(syntax_diagnostic(error, text, file, line_offset, following))
        named = DECLARATION_NAME.match(text)
        name = named.group(1) if named else ""
        return _Piece(line_offset, (), tuple(sink.items), name, opens, dips, continues)
    try:
        decls = tuple(AstBuilder(file, sink, line_offset).transform(tree))
    except Exception as error:  # too deep for the builder: `parse` knows how to report it
        raise _Fallback from error
    return _Piece(line_offset, decls, tuple(sink.items), None, opens, dips, continues)


def _moved(piece: _Piece, line_offset: int) -> _Piece:
    """The piece as parsed `line_offset - piece.line_offset` lines further down."""
    lines = line_offset - piece.line_offset
    return replace(
        piece,
        line_offset=line_offset,
        decls=tuple(_shift(d, lines) for d in piece.decls),
        diagnostics=tuple(_shift(d, lines) for d in piece.diagnostics),
    )


_FIELDS: dict[type, tuple[str, ...]] = {}


def _shift(node: _T, lines: int) -> _T:
    """A copy of an AST node or diagnostic with every span moved down by `lines`."""
    if isinstance(node, Span):
        end_line = node.end_line + lines
        return Span(node.file, node.line + lines, node.column, end_line, node.end_column)  # type: ignore[return-value]
    if isinstance(node, tuple):
        return tuple(_shift(item, lines) for item in node)  # type: ignore[return-value]
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else ()
        _FIELDS[kind] = names
    if not names:
        return node  # str, int, datetime, ...: no spans inside
    values = {name: _shift(getattr(node, name), lines) for name in names}
    return kind(**values)


def _shape(text: str) -> tuple[int, bool, bool]:
    """Open brackets at the end, whether it closes one it did not open, and whether its
    last token continues the line (or a long string is left open)."""
    depth = 0
    dips = False
    last = ""
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token.startswith("//"):
            continue
        if token == '"""':
            return depth, dips, True  # an unterminated long string runs into the next piece
        if token in "{([":
            depth += 1
        elif token in "})]":
            depth -= 1
            dips = dips or depth < 0
        last = token
    return depth, dips, last in CONTINUATION_TOKENS


def load_unit_incremental(path: Path, overlays: dict[str, str] | None = None) -> Unit:
    """`flowc.compiler.loader.load_unit`, with each file parsed by `parse_incremental`."""
    return load_unit(path, overlays, parse_incremental)
