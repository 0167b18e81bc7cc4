"""Where the cursor is, read from the text alone, so it works on text that does not parse.

While the user types, the declaration around the cursor is almost never valid, and the
parser drops it whole. Completion and signature help still need to know "inside the
`validate` block of pipeline `weather`, third step, after `else`": this scans the text of
the declaration (from the last line starting with a declaration keyword) and keeps the
open brackets, what opened each brace, and the steps seen so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flowc.dsl.parser import DECLARATION_START

STEP_KEYWORDS = (
    "map", "derive", "where", "select", "drop", "rename", "validate", "dedupe", "aggregate",
    "persist", "cache", "sink",
)  # fmt: skip
_SCAN = re.compile(
    r'"{3}(?:[^"\\]|\\.|"(?!""))*(?:"{3}|\Z)|"(?:[^"\\\n]|\\.)*"?|//[^\n]*|[{}()\[\]\n,]'
)
_STEP_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|//[^\n]*|[{}()\[\]\n]|[A-Za-z_]\w*')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class Brace:
    """An unclosed `{`, `(` or `[` before the cursor."""

    char: str
    offset: int
    opener: str  # for `{`: the text of its item before it, e.g. "map", "auth", "pipeline p from s"


@dataclass
class Context:
    text: str
    offset: int
    decl_start: int | None = None  # offset of the enclosing declaration's keyword
    open: list[Brace] = field(default_factory=list)
    item: str = ""  # the current item up to the cursor, without the word being typed
    word: str = ""  # the partial name being typed at the cursor
    in_string: bool = False
    in_comment: bool = False
    steps_before: int = 0  # steps of the enclosing pipeline before the cursor's step
    block_lines: list[str] = field(default_factory=list)  # lines of the innermost `{` so far
    cut: int = 0  # start of the line where the cursor's item (in its braces) starts

    @property
    def braces(self) -> list[Brace]:
        return [b for b in self.open if b.char == "{"]

    @property
    def header(self) -> str:
        """The first line of the enclosing declaration (up to its first brace)."""
        if self.decl_start is None:
            return ""
        end = self.text.find("{", self.decl_start)
        line_end = self.text.find("\n", self.decl_start)
        stops = [p for p in (end, line_end, self.offset) if p != -1 and p >= self.decl_start]
        return self.text[self.decl_start : min(stops)].strip()

    @property
    def so_far(self) -> str:
        """The enclosing declaration's text up to the word being typed."""
        begin = self.decl_start if self.decl_start is not None else 0
        return self.text[begin : self.offset - len(self.word)]

    @property
    def decl_keyword(self) -> str:
        return self.header.split(" ", 1)[0] if self.header else ""

    def truncated(self) -> str:
        """The text with the cursor's item and the rest of its declaration cut off and its
        braces closed: the declaration as it stands before the cursor, so that it parses."""
        closing = "".join("\n}" for b in self.braces if b.offset < self.cut)
        rest = DECLARATION_START.search(self.text, self.offset)
        tail = self.text[rest.start() :] if rest else ""
        return self.text[: self.cut] + closing + "\n" + tail

    @property
    def in_parens(self) -> bool:
        return bool(self.open) and self.open[-1].char in "(["


def context_at(text: str, offset: int) -> Context:
    """The context of the cursor at `offset` in `text`."""
    ctx = Context(text, offset)
    starts = [m.start() for m in DECLARATION_START.finditer(text, 0, offset)]
    # A keyword on the cursor's own line at column 1 is being typed: the declaration is it.
    ctx.decl_start = starts[-1] if starts else None
    begin = ctx.decl_start or 0
    word = _WORD.search(text, 0, offset)
    ctx.word = word.group() if word else ""
    before_word = offset - len(ctx.word)
    item_start = begin
    for match in _SCAN.finditer(text, begin, before_word):
        token = match.group()
        if match.end() > before_word and token[0] in '"/':
            ctx.in_string = token.startswith('"')
            ctx.in_comment = token.startswith("//")
            break
        if token in "{([":
            opener = text[item_start : match.start()].strip() if token == "{" else ""
            ctx.open.append(Brace(token, match.start(), opener))
            item_start = match.end()
        elif token in "})]":
            if ctx.open:
                ctx.open.pop()
            item_start = match.end()
        elif token == "\n" and not ctx.in_parens:
            if not _continues(text[item_start : match.start()]):
                item_start = match.end()
        elif token == "," and ctx.open and ctx.open[-1].char == "{" and not _in_steps(ctx):
            item_start = match.end()  # steps take comma lists (`select a, b`): not there
    ctx.steps_before = _count_steps(text, ctx, item_start)
    parens = [b.offset for b in ctx.open if b.char in "(["]
    braces = [b.offset for b in ctx.braces]
    outer = [p for p in parens if not braces or p > braces[-1]]
    anchor = outer[0] if outer else item_start
    ctx.cut = text.rfind("\n", 0, anchor) + 1
    ctx.item = text[item_start:before_word].strip() if not ctx.in_comment else ""
    if ctx.braces:
        inner = ctx.braces[-1]
        ctx.block_lines = text[inner.offset + 1 : before_word].split("\n")
    return ctx


def _in_steps(ctx: Context) -> bool:
    """Whether the innermost brace is a pipeline's body, where items are steps."""
    return ctx.decl_keyword == "pipeline" and len(ctx.braces) == 1


def _continues(item: str) -> bool:
    """Whether an item's text so far goes on over the newline (it ends with an operator)."""
    stripped = item.rstrip()
    return bool(stripped) and (
        stripped.endswith(("=", ":", "+", "-", "*", "/", "%", "??", "->", "=>", "<", ">", "("))
        or re.search(r"\b(and|or|not|then|else|if|between|in|matches)\Z", stripped) is not None
    )


def _count_steps(text: str, ctx: Context, item_start: int) -> int:
    """Steps of the pipeline that start before the step the cursor is in."""
    braces = ctx.braces
    if ctx.decl_keyword != "pipeline" or not braces:
        return 0
    body = braces[0].offset
    # The cursor's step starts at its item (in the body) or on the line of its block's `{`.
    limit = item_start if len(braces) == 1 else text.rfind("\n", 0, braces[1].offset) + 1
    count = 0
    depth = 0
    line_start = True
    for match in _STEP_SCAN.finditer(text, body + 1, max(limit, body + 1)):
        token = match.group()
        if token in "{([":
            depth += 1
        elif token in "})]":
            depth -= 1
        elif token == "\n":
            line_start = True
            continue
        elif depth == 0 and line_start and token in STEP_KEYWORDS:
            count += 1
        line_start = False
    return count
