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
    """One diagnostic as text; `sources` maps a file name to its text (None if unknown).

    Labels are grouped by file (the primary's first) and shown in line order; labels on
    one line share its source line, and a `...` marks lines left out between them.
    """
    head = f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"
    labels = [(diagnostic.primary, True)] + [(label, False) for label in diagnostic.secondary]
    width = max(len(str(label.span.line)) for label, _ in labels)
    pad = " " * width
    lines = [head, f"{pad}--> {diagnostic.primary.span}", f"{pad} |"]
    files = list(dict.fromkeys(label.span.file for label, _ in labels))
    for file in files:
        in_file = sorted(
            (item for item in labels if item[0].span.file == file),
            key=lambda item: (item[0].span.line, not item[1], item[0].span.column),
        )
        if file != diagnostic.primary.span.file:
            lines.append(f"{pad}::: {in_file[0][0].span}")
        previous_line: int | None = None
        for label, primary in in_file:
            line = label.span.line
            show_source = line != previous_line
            if show_source and previous_line is not None and line > previous_line + 1:
                lines.append("...")
            lines.extend(_snippet(label, sources, width, primary=primary, source=show_source))
            previous_line = line
    if diagnostic.help or diagnostic.notes:
        lines.append(f"{pad} |")
    for note in diagnostic.notes:
        lines.append(f"{pad} = note: {note}")
    if diagnostic.help:
        lines.append(f"{pad} = help: {diagnostic.help}")
    return "\n".join(lines)


def _snippet(
    label: Label, sources: SourceLookup, width: int, *, primary: bool, source: bool = True
) -> list[str]:
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
    out = [f"{span.line:>{width}} | {line_text}".rstrip()] if source else []
    out.append(f"{' ' * width} | {caret_line}".rstrip())
    return out


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
