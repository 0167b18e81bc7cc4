"""Semantic tokens, so any LSP editor highlights .flow files without a grammar of its own.

The text is cut into tokens by a tolerant scanner (it never fails, so a broken file is
highlighted too), and each name is classified by the index where the checker knows it: a
word is only a keyword where the grammar expects one, so a field called `type` or a
dashboard option called `from` is highlighted as what it is, not as the keyword.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from flowc.compiler.lsp.analysis import Analysis
from flowc.compiler.lsp.index import Role
from flowc.dsl import ast

TOKEN_TYPES = (
    "keyword", "type", "function", "variable", "property", "parameter", "string", "number",
    "comment", "operator", "namespace", "enumMember",
)  # fmt: skip
TOKEN_MODIFIERS = ("declaration", "readonly", "defaultLibrary")
LEGEND = lsp.SemanticTokensLegend(list(TOKEN_TYPES), list(TOKEN_MODIFIERS))

KEYWORDS = frozenset(
    (
        "import", "const", "fn", "type", "source", "sink", "pipeline", "dashboard", "test",
        "from", "map", "derive", "where", "select", "drop", "rename", "validate", "required",
        "unique", "else", "dedupe", "by", "within", "aggregate", "every", "persist",
        "timescale", "off", "cache", "chart", "table", "given", "expect", "schema", "if",
        "then", "match", "and", "or", "not", "between", "in", "matches", "true", "false",
        "null",
    )
)  # fmt: skip
_SCANNER = re.compile(
    r"(?P<comment>//[^\n]*)"
    r'|(?P<string>"{3}(?:[^"\\]|\\.|"(?!""))*(?:"{3}|\Z)|"(?:[^"\\\n]|\\.)*"?)'
    r"|(?P<number>@[0-9][0-9T:.+\-Z]*|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?:ms|[smhdw])?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<operator>\+\+|\?\?|==|!=|<=|>=|->|=>|[-+*/%<>=?])"
)
_TYPE = {name: index for index, name in enumerate(TOKEN_TYPES)}
_DECLARATION, _READONLY, _LIBRARY = 1, 2, 4
_DECL_TYPES: dict[type, tuple[str, int]] = {
    ast.Const: ("variable", _READONLY),
    ast.Fn: ("function", 0),
    ast.TypeDecl: ("type", 0),
}
_ROLES: dict[Role, tuple[str, int]] = {
    Role.FUNCTION: ("function", _LIBRARY),
    Role.FIELD_DEF: ("variable", _DECLARATION),
    Role.FIELD_REF: ("variable", 0),
    Role.PARAM_DEF: ("parameter", _DECLARATION),
    Role.PARAM_REF: ("parameter", 0),
    Role.MEMBER: ("property", 0),
    Role.CONFIG_KEY: ("property", 0),
    Role.KIND: ("type", _LIBRARY),
    Role.TYPE: ("type", _LIBRARY),
    Role.ACTION: ("enumMember", 0),
}


def semantic_tokens(analysis: Analysis) -> lsp.SemanticTokens:
    """Every token of the document, encoded relative to the one before (LSP's format)."""
    known = _classified_names(analysis)
    lines = analysis.text.split("\n")
    codec = analysis.codec
    data: list[int] = []
    previous_line, previous_start = 0, 0
    for kind, line_index, column, length, modifiers in _tokens(analysis.text, known):
        line = lines[line_index]
        start = codec.client_num_units(line[:column])
        size = codec.client_num_units(line[column : column + length])
        delta_line = line_index - previous_line
        delta_start = start - previous_start if delta_line == 0 else start
        data += [delta_line, delta_start, size, _TYPE[kind], modifiers]
        previous_line, previous_start = line_index, start
    return lsp.SemanticTokens(data=data)


def _tokens(
    text: str, known: dict[tuple[int, int], tuple[str, int]]
) -> list[tuple[str, int, int, int, int]]:
    """(type, line, column, length, modifiers) of each token, 0-based, one line each: a
    long string over several lines gives one token per line."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: list[tuple[str, int, int, int, int]] = []
    line_index = 0
    for match in _SCANNER.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        while line_index + 1 < len(starts) and starts[line_index + 1] <= match.start():
            line_index += 1
        column = match.start() - starts[line_index]
        modifiers = 0
        if kind == "name":
            kind, modifiers = known.get((line_index, column), ("", 0))
            if not kind:
                kind = "keyword" if match.group() in KEYWORDS else "variable"
        for offset, piece in enumerate(match.group().split("\n")):
            if piece:
                out.append((kind, line_index + offset, column if offset == 0 else 0,
                            len(piece), modifiers))  # fmt: skip
    return out


def _classified_names(analysis: Analysis) -> dict[tuple[int, int], tuple[str, int]]:
    """(line, column) of each name the index knows, both 0-based, to its token type."""
    out: dict[tuple[int, int], tuple[str, int]] = {}
    symbols = analysis.result.symbols
    for o in analysis.index.occurrences.get(analysis.file, ()):
        if o.role in (Role.DECL, Role.SYMBOL):
            found = symbols.by_name.get(o.name) if symbols else None
            kind, modifiers = ("namespace", 0)
            if found is not None:
                kind, modifiers = _DECL_TYPES.get(type(found.decl), ("namespace", 0))
            if o.role is Role.DECL:
                modifiers |= _DECLARATION
            out[(o.span.line - 1, o.span.column - 1)] = (kind, modifiers)
        else:
            out[(o.span.line - 1, o.span.column - 1)] = _ROLES[o.role]
    return out
