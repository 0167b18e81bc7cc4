"""The terminal rendering of diagnostics."""

from __future__ import annotations

from flowc.dsl.diagnostics import Diagnostic, Label
from flowc.dsl.render import render, render_all
from flowc.dsl.span import Span

TEXT = "const a = 1\nconst b = 2\nconst a = 3\n"


def span(line: int, column: int, end: int) -> Span:
    return Span("t.flow", line, column, line, end)


def test_primary_and_secondary_labels_in_line_order() -> None:
    diagnostic = Diagnostic(
        "E102",
        "`a` is declared twice",
        Label(span(3, 7, 8), "declared again here"),
        (Label(span(1, 7, 8), "first declared here"),),
        help="rename one of them",
    )
    assert render(diagnostic, {"t.flow": TEXT}.get) == (
        "error[E102]: `a` is declared twice\n"
        " --> t.flow:3:7\n"
        "  |\n"
        "1 | const a = 1\n"
        "  |       - first declared here\n"
        "...\n"
        "3 | const a = 3\n"
        "  |       ^ declared again here\n"
        "  |\n"
        "  = help: rename one of them"
    )


def test_labels_on_one_line_share_it() -> None:
    diagnostic = Diagnostic(
        "E201",
        "mismatch",
        Label(span(2, 11, 12), "this is int"),
        (Label(span(2, 1, 6), "declared here"),),
    )
    assert render(diagnostic, {"t.flow": TEXT}.get) == (
        "error[E201]: mismatch\n"
        " --> t.flow:2:11\n"
        "  |\n"
        "2 | const b = 2\n"
        "  |           ^ this is int\n"
        "  | ----- declared here"
    )


def test_unknown_source_and_summary() -> None:
    diagnostic = Diagnostic("W501", "unused", Label(span(1, 1, 2), "here"))
    text = render_all([diagnostic], lambda _: None)
    assert text == "warning[W501]: unused\n --> t.flow:1:1\n  |\n  = here\n\n1 warning"
