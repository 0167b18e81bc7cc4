"""What every command shares: exit codes, finding .flow files, printing diagnostics."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from flowc.compiler.checker import CheckResult, check_path
from flowc.dsl.diagnostics import Diagnostic, sort_key
from flowc.dsl.render import render_all

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line itself (exit status 2)."""


def flow_files(paths: Sequence[str]) -> list[Path]:
    """The .flow files named by `paths`: files as given, directories searched recursively."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.rglob("*.flow")))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {raw}")
    if not files:
        raise UsageError("no .flow files found in " + ", ".join(paths))
    return files


def one_file(path: str) -> Path:
    """The single .flow file a command works on."""
    files = flow_files([path])
    if len(files) != 1:
        raise UsageError(f"{path} holds {len(files)} .flow files; name one of them")
    return files[0]


def print_diagnostics(diagnostics: Iterable[Diagnostic], texts: dict[str, str]) -> None:
    ordered = sorted(diagnostics, key=sort_key)
    if ordered:
        print(render_all(ordered, texts.get), file=sys.stderr)


def checked(path: Path) -> CheckResult | None:
    """The check of `path`, or None after printing its errors (warnings are printed too)."""
    result = check_path(path)
    if not result.ok:
        print_diagnostics(result.diagnostics, result.unit.texts)
        return None
    warnings = [d for d in result.diagnostics if d.severity.value == "warning"]
    print_diagnostics(warnings, result.unit.texts)
    return result
