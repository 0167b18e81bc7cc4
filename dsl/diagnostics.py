"""Diagnostics: the one error object that the terminal, JSON and the language server share.

Each diagnostic has a stable code from the registry in `codes.py`, a primary label on the
span that is wrong, optional secondary labels that explain why, and a help line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flowc.dsl.codes import CODES
from flowc.dsl.span import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Label:
    span: Span
    message: str = ""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    primary: Label
    secondary: tuple[Label, ...] = ()
    help: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.code.startswith("W") else Severity.ERROR

    @property
    def span(self) -> Span:
        return self.primary.span

    def to_json(self) -> dict[str, Any]:
        """The shape of `flowc check --format json`, documented in docs/cli.md."""

        def label(item: Label) -> dict[str, Any]:
            s = item.span
            return {
                "file": s.file,
                "line": s.line,
                "column": s.column,
                "end_line": s.end_line,
                "end_column": s.end_column,
                "message": item.message,
            }

        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "primary": label(self.primary),
            "secondary": [label(item) for item in self.secondary],
            "help": self.help,
            "notes": list(self.notes),
        }


@dataclass
class DiagnosticSink:
    """Collects diagnostics while a stage goes on after an error."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        label: str = "",
        *,
        secondary: tuple[Label, ...] = (),
        help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.items.append(Diagnostic(code, message, Label(span, label), secondary, help, notes))

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    s = diagnostic.span
    return (s.file, s.line, s.column, diagnostic.code)
