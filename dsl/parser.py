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
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from flowc.dsl import ast
from flowc.dsl.builder import AstBuilder
from flowc.dsl.diagnostics import Diagnostic, DiagnosticSink
from flowc.dsl.lexing import NewlinePostLexer
from flowc.dsl.span import Span
from flowc.grammar import grammar_text

DECLARATION_KEYWORDS = (
    "import", "const", "fn", "type", "source", "sink", "pipeline", "dashboard", "test",
)  # fmt: skip
_DECL_START = re.compile(rf"^(?:{'|'.join(DECLARATION_KEYWORDS)})(?![A-Za-z0-9_])", re.M)
_STRINGS = r'"{3}(?:[^"\\]|\\.|"(?!""))*"{3}|"(?:[^"\\\n]|\\.)*"'
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
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput:
        decls = _parse_in_pieces(text, file, sink)
    else:
        decls = AstBuilder(file, sink).transform(tree)
    module = ast.Module(file, tuple(decls), _comments(text, file))
    return ParseResult(module, tuple(sink.items))


def _parse_in_pieces(text: str, file: str, sink: DiagnosticSink) -> list[ast.Decl]:
    starts = [m.start() for m in _DECL_START.finditer(text)]
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
            continue
        decls.extend(AstBuilder(file, sink, line_offset).transform(tree))
    return decls


def _following_keyword(text: str, position: int, file: str) -> tuple[str, Span] | None:
    """The declaration keyword that starts at `position`, where a piece was cut."""
    match = _DECL_START.match(text, position)
    if match is None:
        return None
    line = text.count("\n", 0, position) + 1
    return match.group(), Span(file, line, 1, line, 1 + len(match.group()))


def _comments(text: str, file: str) -> tuple[ast.Comment, ...]:
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
    return f"`{pattern}`" if pattern else terminal.lower()


@cache
def _terminal_patterns() -> dict[str, str]:
    patterns: dict[str, str] = {}
    for terminal in lark_parser().terminals:
        if terminal.pattern.type == "str":
            patterns[terminal.name] = str(terminal.pattern.value)
    return patterns


def _terminal_pattern(name: str) -> str | None:
    return _terminal_patterns().get(name)


def describe_expected(expected: set[str]) -> str:
    """A short phrase for what the parser wanted next."""
    if expected >= _EXPRESSION_STARTS:
        return "an expression"
    names = sorted(
        {_readable(t) for t in expected if not t.startswith("__ANON")}
        | {f"`{p}`" for t in expected if t.startswith("__ANON") and (p := _terminal_pattern(t))}
    )
    if len(names) > 8:
        names = [*names[:8], "…"]
    return " or ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " or " + names[-1]


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
        help_text = None
        if char == '"':
            help_text = 'strings end on the line they start; close it with `"`'
        elif char == "'":
            help_text = 'strings are written in double quotes: "text"'
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
        end_line = text.count("\n") + 1 + line_offset
        last = text.rstrip("\n").rsplit("\n", 1)[-1]
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
    width = max(1, len(str(token))) if token.type != "_NL" else 1
    span = Span(file, line, column, line, column + width)
    expected = set(error.expected)
    message = f"unexpected {_token_text(token)}; expected {describe_expected(expected)}"
    sink.error(
        "E001",
        message,
        span,
        f"unexpected {_token_text(token)}",
        help=_mistake_help(token, expected),
    )
    return sink.items[0]


def _mistake_help(token: Token, expected: set[str]) -> str | None:
    """The table of typical mistakes, matched by what came and what was expected."""
    value = str(token)
    if value == "=" and "COLON" in expected:
        return "configuration entries and record fields are written `key: value`"
    if value == ":" and "EQUAL" in expected:
        return "assignments in `map`, `derive` and `aggregate` are written `name = expression`"
    if value == "=" and "EQ" in expected:
        return "compare with `==`; `=` only assigns in `map`, `derive` and `aggregate`"
    if token.type == "_NL" and expected & {"RPAR", "RSQB"}:
        return "a bracket opened on this line is not closed"
    if value in ("&&", "||", "!"):
        return "boolean operators are spelled `and`, `or` and `not`"
    if token.type == "NAME" and "_NL" in expected:
        return "put each item on its own line"
    if token.type in ("SOURCE", "SINK", "PIPELINE", "FN", "CONST", "TYPE", "DASHBOARD", "TEST"):
        return "declarations start at the beginning of a line, after the previous one is closed"
    return None


def _unclosed_help(text: str) -> str | None:
    depth = 0
    for match in re.finditer(_STRINGS + r"|//[^\n]*|[{}]", text):
        if match.group() == "{":
            depth += 1
        elif match.group() == "}":
            depth -= 1
    if depth > 0:
        return f"{depth} `{{` {'is' if depth == 1 else 'are'} not closed with `}}`"
    return None


def parse_tree_for_benchmark(text: str) -> Any:
    """Lark's bare parse, without building the AST: the baseline of the check benchmark."""
    return lark_parser().parse(text)
