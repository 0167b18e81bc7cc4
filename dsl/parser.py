"""Source text to AST, reporting every syntax error in a file in one run.

The whole file is parsed first. When that fails, the file is split at the lines that
start a declaration (a declaration keyword in column 1) and each piece is parsed on its
own, so one broken declaration costs one diagnostic and the rest of the file is still
checked. No input, however broken, raises anything but diagnostics.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from lark import Lark, Token
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from flowc.dsl import ast
from flowc.dsl.builder import AstBuilder
from flowc.dsl.diagnostics import Diagnostic, DiagnosticSink
from flowc.dsl.lexing import NewlinePostLexer
from flowc.dsl.span import Span
from flowc.dsl.suggest import did_you_mean
from flowc.grammar import grammar_text

DECLARATION_KEYWORDS = (
    "import", "const", "fn", "type", "source", "sink", "pipeline", "dashboard", "test",
)  # fmt: skip
DECLARATION_START = re.compile(rf"^(?:{'|'.join(DECLARATION_KEYWORDS)})(?![A-Za-z0-9_])", re.M)
_STRINGS = r'"{3}(?:[^"\\]|\\.|"(?!""))*"{3}|"(?:[^"\\\n]|\\.)*"'
DECLARATION_NAME = re.compile(r"(?:const|fn|type|source|sink|pipeline|dashboard)\s+([A-Za-z_]\w*)")
_COMMENT_OR_STRING = re.compile(_STRINGS + r"|//[^\n]*")


@dataclass(frozen=True, slots=True)
class ParseResult:
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]


@cache
def lark_parser() -> Lark:
    """The LALR parser, built once per process."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=NewlinePostLexer(),
    )


def parse(text: str, file: str = "<input>") -> ParseResult:
    """Parse one .flow file."""
    sink = DiagnosticSink()
    decls: list[ast.Decl] = []
    broken: list[str] = []
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput:
        decls = _parse_in_pieces(text, file, sink, broken)
    else:
        try:
            decls = list(AstBuilder(file, sink).transform(tree))
        except (RecursionError, VisitError) as error:
            if isinstance(error, VisitError) and not isinstance(error.orig_exc, RecursionError):
                raise
            # Piece by piece, so the declaration that is too deep is the one reported.
            sink = DiagnosticSink()
            decls = _parse_in_pieces(text, file, sink, broken)
    module = ast.Module(file, tuple(decls), collect_comments(text, file), tuple(broken))
    return ParseResult(module, tuple(sink.items))


def _parse_in_pieces(
    text: str, file: str, sink: DiagnosticSink, broken: list[str]
) -> list[ast.Decl]:
    starts = [m.start() for m in DECLARATION_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    decls: list[ast.Decl] = []
    for begin, end in itertools.pairwise(starts):
        piece = text[begin:end]
        line_offset = text.count("\n", 0, begin)
        following = _following_keyword(text, end, file)
        try:
            tree = lark_parser().parse(piece)
        except UnexpectedInput as error:
            sink.add(syntax_diagnostic(error, piece, file, line_offset, following))
            named = DECLARATION_NAME.match(piece)
            broken.append(named.group(1) if named else "")
            continue
        built = _build(AstBuilder(file, sink, line_offset), tree, piece, file, sink, broken)
        decls.extend(built)
    return decls


def _build(
    builder: AstBuilder,
    tree: Any,
    text: str,
    file: str,
    sink: DiagnosticSink,
    broken: list[str],
) -> list[ast.Decl]:
    """The AST of a parse tree; nesting deeper than Python's recursion is an error, not a
    crash (hundreds of brackets or chained operators, in practice only in generated text)."""
    try:
        return list(builder.transform(tree))
    except (RecursionError, VisitError) as error:
        if isinstance(error, VisitError) and not isinstance(error.orig_exc, RecursionError):
            raise
        line = builder.line_offset + 1
        named = DECLARATION_NAME.match(text)
        width = named.end(1) if named else 1
        span = Span(file, line, 1, line, width + 1)
        sink.error(
            "E005",
            "this is nested too deeply to compile",
            span,
            "too many nested brackets or chained operators",
            help="split the expression with intermediate fields in `derive`, or a `const`",
        )
        broken.append(named.group(1) if named else "")
        return []


def _following_keyword(text: str, position: int, file: str) -> tuple[str, Span] | None:
    """The declaration keyword that starts at `position`, where a piece was cut."""
    match = DECLARATION_START.match(text, position)
    if match is None:
        return None
    line = text.count("\n", 0, position) + 1
    return match.group(), Span(file, line, 1, line, 1 + len(match.group()))


def collect_comments(text: str, file: str) -> tuple[ast.Comment, ...]:
    comments: list[ast.Comment] = []
    for match in _COMMENT_OR_STRING.finditer(text):
        if not match.group().startswith("//"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        span = Span(file, line, column, line, column + len(match.group()))
        comments.append(ast.Comment(match.group(), span))
    return tuple(comments)


# ---- syntax errors ---------------------------------------------------------------

_READABLE = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "an integer",
    "FLOAT": "a number",
    "DURATION": "a duration such as 5m",
    "TIMESTAMP": "a timestamp",
    "_NL": "a new line",
    "$END": "the end of the file",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "DOT": "`.`",
    "QMARK": "`?`",
}
_EXPRESSION_STARTS = {"NAME", "INT", "STRING", "FLOAT"}


def _readable(terminal: str) -> str:
    if terminal in _READABLE:
        return _READABLE[terminal]
    pattern = _terminal_pattern(terminal)
    return f"`{pattern}`" if pattern else f"`{terminal.lower()}`"


@cache
def _terminal_patterns() -> dict[str, str]:
    patterns: dict[str, str] = {}
    for terminal in lark_parser().terminals:
        if terminal.pattern.type == "str":
            patterns[terminal.name] = str(terminal.pattern.value)
    return patterns


def _terminal_pattern(name: str) -> str | None:
    return _terminal_patterns().get(name)


# Terminal groups that read better as one phrase than as a list of tokens.
_OPERATORS = frozenset(
    {"EQ", "NE", "LE", "GE", "LT", "GT", "PLUS", "MINUS", "STAR", "SLASH", "PERCENT",
     "AND", "OR", "IN", "MATCHES", "BETWEEN", "DOT", "LSQB"}
)  # fmt: skip
_STEPS = frozenset(
    {"MAP", "DERIVE", "WHERE", "SELECT", "DROP", "RENAME", "VALIDATE", "DEDUPE",
     "AGGREGATE", "PERSIST", "CACHE", "SINK"}
)  # fmt: skip
_DECLARATIONS = frozenset(
    {"IMPORT", "CONST", "FN", "TYPE", "SOURCE", "SINK", "PIPELINE", "DASHBOARD", "TEST"}
)


def describe_expected(expected: set[str]) -> str:
    """A short phrase for what the parser wanted next."""
    expected = {t for t in expected if not _is_operator(t)} | (
        {"<operator>"} if any(_is_operator(t) for t in expected) else set()
    )
    phrases: list[str] = []
    if expected >= _EXPRESSION_STARTS:
        phrases.append("an expression")
        expected -= _EXPRESSION_STARTS | {"TIMESTAMP", "DURATION", "LONG_STRING", "LPAR",
                                          "LSQB", "LBRACE", "MINUS", "IF", "NOT", "MATCH",
                                          "TRUE", "FALSE", "NULL"}  # fmt: skip
    if len(expected & _STEPS) >= 4:
        phrases.append("a step")
        expected -= _STEPS
    if len(expected & _DECLARATIONS) >= 4:
        phrases.append("a declaration")
        expected -= _DECLARATIONS
    if "<operator>" in expected:
        phrases.append("an operator")
        expected.discard("<operator>")
    names = sorted(_readable(t) for t in expected)
    phrases += names
    if len(phrases) > 6:
        phrases = [*phrases[:5], "…"]
    if len(phrases) <= 2:
        return " or ".join(phrases)
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _is_operator(terminal: str) -> bool:
    if terminal in _OPERATORS:
        return True
    pattern = _terminal_pattern(terminal) if terminal.startswith("__ANON") else None
    return pattern in ("++", "??")


def _truly_expected(error: UnexpectedToken) -> set[str]:
    """The terminals that can really come next.

    LALR states merge look-aheads from several contexts, so `error.expected` lists tokens
    that would fail after a reduction; the interactive parser tries each one.
    """
    parser = getattr(error, "interactive_parser", None)
    if parser is None:
        return set(error.expected)
    try:
        accepted = set(parser.accepts())
    except Exception:  # the precise set is a nicety; never let it hide the real error
        return set(error.expected)
    return (accepted - {"$END"}) or set(error.expected)


def _token_text(token: Token) -> str:
    if token.type == "_NL":
        return "new line"
    if token.type == "$END":
        return "end of file"
    return f"`{token}`"


def syntax_diagnostic(
    error: UnexpectedInput,
    text: str,
    file: str,
    line_offset: int,
    following: tuple[str, Span] | None = None,
) -> Diagnostic:
    """One diagnostic for Lark's exception, with help for the common mistakes.

    `following` is the declaration keyword after the piece that failed: a piece that
    ends too early really stopped at that keyword, so the error points there.
    """
    sink = DiagnosticSink()
    line = (error.line if error.line and error.line > 0 else text.count("\n") + 1) + line_offset
    column = error.column if error.column and error.column > 0 else 1
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        span = Span(file, line, column, line, column + 1)
        help_text = _character_help(char)
        sink.error(
            "E002",
            f"unexpected character `{char}`",
            span,
            "not part of the language here",
            help=help_text,
        )
        return sink.items[0]
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        expected = set(getattr(error, "expected", set()))
        if following is not None:
            keyword, keyword_span = following
            sink.error(
                "E001",
                f"unexpected `{keyword}`; expected {describe_expected(expected)}",
                keyword_span,
                "a new declaration starts here",
                help="the declaration before it is not finished"
                + (f": {hint}" if (hint := _unclosed_help(text)) else ""),
            )
            return sink.items[0]
        content = text.rstrip()
        end_line = content.count("\n") + 1 + line_offset
        last = content.rsplit("\n", 1)[-1]
        span = Span(file, end_line, len(last) + 1, end_line, len(last) + 2)
        sink.error(
            "E003",
            "unexpected end of file"
            + (f"; expected {describe_expected(expected)}" if expected else ""),
            span,
            "the declaration is not finished",
            help=_unclosed_help(text),
        )
        return sink.items[0]
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = _truly_expected(error)
    width = max(1, len(str(token))) if token.type != "_NL" else 1
    span = Span(file, line, column, line, column + width)
    message = f"unexpected {_token_text(token)}; expected {describe_expected(expected)}"
    sink.error(
        "E001",
        message,
        span,
        f"unexpected {_token_text(token)}",
        help=_mistake_help(token, expected) or _unclosed_help(text, error.pos_in_stream),
    )
    return sink.items[0]


def _character_help(char: str) -> str | None:
    if char == '"':
        return (
            'strings end on the line they start; close it with `"`, or use `"""` for text '
            "over several lines"
        )
    if char == "'":
        return 'strings are written in double quotes: "text"'
    if char in "&|":
        return "boolean operators are spelled `and` and `or`"
    if char == "!":
        return "negation is spelled `not`; `!=` compares"
    if char == "$":
        return 'JSONPath expressions are strings: records: "$.items"'
    return None


def _mistake_help(token: Token, expected: set[str]) -> str | None:
    """The table of typical mistakes, matched by what came and what was expected."""
    value = str(token)
    if value == "=" and "COLON" in expected:
        return "configuration entries and record fields are written `key: value`"
    if value == ":" and "EQUAL" in expected:
        return "assignments in `map`, `derive` and `aggregate` are written `name = expression`"
    if value == "=" and "EQ" in expected:
        return "compare with `==`; `=` only assigns in `map`, `derive` and `aggregate`"
    if token.type == "NAME":
        keywords = [p for t in expected if (p := _terminal_pattern(t)) and p.isidentifier()]
        suggestion = did_you_mean(value, keywords)
        if suggestion:
            return suggestion
        if "_NL" in expected:
            return "put each item on its own line"
    if token.type in ("SOURCE", "SINK", "PIPELINE", "FN", "CONST", "TYPE", "DASHBOARD", "TEST"):
        return "declarations start at the beginning of a line, after the previous one is closed"
    return None


def _unclosed_help(text: str, until: int | None = None) -> str | None:
    """Which brackets are still open at `until` (default: the end), where they were opened."""
    stack: list[tuple[str, int]] = []
    closing = {")": "(", "]": "[", "}": "{"}
    limit = len(text) if until is None else until
    for match in re.finditer(_STRINGS + r"|//[^\n]*|[{}()\[\]]", text[:limit]):
        char = match.group()
        if char in "{([":
            stack.append((char, match.start()))
        elif char in closing and stack and stack[-1][0] == closing[char]:
            stack.pop()
    if not stack:
        return None
    char, position = stack[-1]
    line = text.count("\n", 0, position) + 1
    pairs = {"(": ")", "[": "]", "{": "}"}
    more = f" ({len(stack)} brackets are open)" if len(stack) > 1 else ""
    return f"the `{char}` on line {line} is not closed with `{pairs[char]}`{more}"


def parse_tree_for_benchmark(text: str) -> Any:
    """Lark's bare parse, without building the AST: the baseline of the check benchmark."""
    return lark_parser().parse(text)
