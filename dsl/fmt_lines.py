"""The formatter's output buffer: indented lines, blank lines and the comments between them.

Comments are not in the AST, only in `Module.comments` with their positions, so they are
placed by position while the layout code (`flowc.dsl.fmt`) writes items in source order:

- before an item is written, every comment that came before it in the source is written
  first: an own-line comment on its own line at the item's indentation (so it stays
  attached to the item that follows it), an end-of-line comment at the end of the line
  written last (so it stays on the line of the item it followed);
- a comment inside an item that is written on one line moves out of it: an own-line one
  above the line, an end-of-line one to the end of the line;
- before a closing `}`/`]`/`)`, the comments left inside the block are written, indented
  like the block's items;
- a line holds one end-of-line comment: when a second one comes, the first moves to a line
  of its own just above (inside the block, if the line closes one). Comments never merge
  and never change their order.

Blank lines: one where the source had one or more between two items or comments of the
same block, none right after an opening line or before a closing one, and wherever the
layout code asks for one (between declarations). That rule reads only the source lines of
what it writes, so formatting formatted text changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flowc.dsl import ast
from flowc.dsl.span import Span

INDENT = "  "
Pos = tuple[int, int]


def start_of(span: Span) -> Pos:
    """Where a span starts, as a comparable (line, column)."""
    return (span.line, span.column)


def end_of(span: Span) -> Pos:
    """Where a span ends (exclusive), as a comparable (line, column)."""
    return (span.end_line, span.end_column)


@dataclass(slots=True)
class _Line:
    indent: int
    text: str
    closes: bool = False  # the last line of a block: `}`, `]`, `)`
    comment: str | None = None  # at the end of the line

    def render(self) -> str:
        out = INDENT * self.indent + self.text if self.text else ""
        if self.comment is not None:
            out = f"{out}  {self.comment}" if out else INDENT * self.indent + self.comment
        return out


class Lines:
    """Collects output lines and interleaves the source's comments with them."""

    def __init__(self, comments: Sequence[ast.Comment], end_of_line: Iterable[bool]) -> None:
        self.collect_comments = list(comments)
        self._end_of_line = list(end_of_line)
        self._next = 0  # the first comment not written yet
        self._lines: list[_Line] = []
        self._last_line = 0  # the source line where the last thing written ended
        self._fresh = True  # at the top of the file or right after an opening line
        self._want_blank: bool | None = None

    # ---- items ----

    def line(self, indent: int, text: str, span: Span, *, blank: bool | None = None) -> None:
        """An item written on one line. `blank=True` asks for a blank line before it."""
        self._want_blank = blank
        self._before(start_of(span), indent)
        inside: list[tuple[ast.Comment, bool]] = []
        while self._pending_before(end_of(span)):
            inside.append(self._take())
        # Comments up to the last own-line one go above the line, the rest at its end,
        # so that they keep their order.
        above = max(
            (i + 1 for i, (_, end_of_line) in enumerate(inside) if not end_of_line), default=0
        )
        for comment, _ in inside[:above]:
            self._own_line(comment, indent)
        self._push(indent, text, span.line, span.end_line)
        for comment, _ in inside[above:]:
            self._attach(comment)

    def open(self, indent: int, text: str, span: Span, *, blank: bool | None = None) -> None:
        """The first line of an item written on several lines (it ends with `{`, `[`, `(`)."""
        self._want_blank = blank
        self._before(start_of(span), indent)
        self._push(indent, text, span.line, span.line)
        self._fresh = True

    def close(self, indent: int, text: str, span: Span) -> None:
        """The last line of an item opened with `open`; `indent` is the opening line's."""
        self._before(end_of(span), indent + 1)
        self._fresh = True  # no blank line before a closing line
        self._push(indent, text, span.end_line, span.end_line)
        self._lines[-1].closes = True

    def has_comment(self, span: Span) -> bool:
        """Whether a comment not written yet lies inside `span`."""
        start, end = start_of(span), end_of(span)
        for index in range(self._next, len(self.collect_comments)):
            position = start_of(self.collect_comments[index].span)
            if position >= end:
                return False
            if position >= start:
                return True
        return False

    def finish(self) -> str:
        """The formatted text, with every comment left written at the end."""
        self._before((1 << 62, 0), 0)
        if not self._lines:
            return ""
        return "\n".join(line.render() for line in self._lines) + "\n"

    # ---- comments and blank lines ----

    def _pending_before(self, position: Pos) -> bool:
        return (
            self._next < len(self.collect_comments)
            and start_of(self.collect_comments[self._next].span) < position
        )

    def _take(self) -> tuple[ast.Comment, bool]:
        index = self._next
        self._next += 1
        return self.collect_comments[index], self._end_of_line[index]

    def _before(self, position: Pos, indent: int) -> None:
        while self._pending_before(position):
            comment, end_of_line = self._take()
            if end_of_line and self._lines:
                self._attach(comment)
            else:
                self._own_line(comment, indent)

    def _attach(self, comment: ast.Comment) -> None:
        """An end-of-line comment at the end of the last line written.

        A comment already there moves to a line of its own above. After a line that holds
        only a comment (one moved out of an item), the comment gets its own line too.
        """
        self._last_line = max(self._last_line, comment.span.line)
        last = self._lines[-1]
        if not last.text:
            self._lines.append(_Line(last.indent, "", comment=_text(comment)))
            return
        if last.comment is not None:
            indent = last.indent + 1 if last.closes else last.indent
            self._lines.insert(len(self._lines) - 1, _Line(indent, "", comment=last.comment))
        last.comment = _text(comment)

    def _own_line(self, comment: ast.Comment, indent: int) -> None:
        self._push(indent, "", comment.span.line, comment.span.line)
        self._lines[-1].comment = _text(comment)

    def _push(self, indent: int, text: str, first_line: int, last_line: int) -> None:
        want, self._want_blank = self._want_blank, None
        if not self._fresh:
            gap = self._last_line > 0 and first_line - self._last_line > 1
            if want or (want is None and gap):
                self._lines.append(_Line(0, ""))
        self._lines.append(_Line(indent, text))
        self._fresh = False
        self._last_line = last_line


def _text(comment: ast.Comment) -> str:
    return comment.text.rstrip()  # a CRLF file leaves `\r` at the end of the comment


def end_of_line_flags(module: ast.Module) -> list[bool]:
    """For each comment, whether code comes before it on its line (an end-of-line comment).

    Every token belongs to a node whose span starts or ends on the token's line, except
    separators in the middle of a wrapped list, which do not make a comment trailing.
    """
    first_start: dict[int, int] = {}
    first_end: dict[int, int] = {}
    for span in _spans(module.decls):
        first_start[span.line] = min(first_start.get(span.line, span.column), span.column)
        end_column = first_end.get(span.end_line, span.end_column)
        first_end[span.end_line] = min(end_column, span.end_column)
    flags = []
    for comment in module.comments:
        line, column = comment.span.line, comment.span.column
        flags.append(
            first_start.get(line, column) < column or first_end.get(line, column + 1) <= column
        )
    return flags


def _spans(value: object) -> Iterable[Span]:
    """Every node span under `value` (an AST node or a tuple of them)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type | Span):
            span = getattr(item, "span", None)
            if isinstance(span, Span) and span.line > 0:
                yield span
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
