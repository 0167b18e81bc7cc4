"""Renders diagnostics the way a good compiler does: location, source line, carets, help.

error[E104]: unknown field `temprature`
  --> weather.flow:12:14
   |
12 |     temp_c = temprature
   |              ^^^^^^^^^^ not a field of `open_meteo`
   |
   = help: did you mean `temperature_2m`?
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flowc.dsl.diagnostics import Diagnostic, Label

SourceLookup = Callable[[str], str | None]


def render(diagnostic: Diagnostic, sources: SourceLookup) -> str:
    """One diagnostic as text; `sources` maps a file name to its text (None if unknown)."""
    head = f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"
    labels = [diagnostic.primary, *diagnostic.secondary]
    width = max(len(str(label.span.line)) for label in labels)
    pad = " " * width
    lines = [head, f"{pad}--> {diagnostic.primary.span}"]
    lines.append(f"{pad} |")
    for index, label in enumerate(labels):
        if index > 0 and label.span.file != labels[index - 1].span.file:
            lines.append(f"{pad}::: {label.span}")
        lines.extend(_snippet(label, sources, width, primary=index == 0))
    if diagnostic.help or diagnostic.notes:
        lines.append(f"{pad} |")
    for note in diagnostic.notes:
        lines.append(f"{pad} = note: {note}")
    if diagnostic.help:
        lines.append(f"{pad} = help: {diagnostic.help}")
    return "\n".join(lines)


def _snippet(label: Label, sources: SourceLookup, width: int, *, primary: bool) -> list[str]:
    span = label.span
    text = sources(span.file)
    if text is None or span.line < 1:
        return [f"{' ' * width} = {label.message}"] if label.message else []
    source_lines = text.split("\n")
    if span.line > len(source_lines):
        source_lines.append("")
    line_text = source_lines[span.line - 1].rstrip("\r").expandtabs(1)
    start = max(span.column, 1)
    end = span.end_column if span.end_line == span.line else len(line_text) + 1
    end = max(end, start + 1)
    marker = ("^" if primary else "-") * (end - start)
    caret_line = " " * (start - 1) + marker + (f" {label.message}" if label.message else "")
    return [
        f"{span.line:>{width}} | {line_text}".rstrip(),
        f"{' ' * width} | {caret_line}".rstrip(),
    ]


def render_all(diagnostics: Iterable[Diagnostic], sources: SourceLookup) -> str:
    """Every diagnostic, separated by blank lines, with a closing count."""
    items = list(diagnostics)
    parts = [render(d, sources) for d in items]
    errors = sum(1 for d in items if d.severity.value == "error")
    warnings = len(items) - errors
    summary = []
    if errors:
        summary.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        summary.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if summary:
        parts.append(", ".join(summary))
    return "\n\n".join(parts)
