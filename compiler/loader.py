"""Reads a .flow file and the files it imports: the only I/O of the front end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flowc.dsl import ast
from flowc.dsl.diagnostics import Diagnostic, DiagnosticSink
from flowc.dsl.parser import ParseResult, parse


@dataclass
class Unit:
    """A compilation unit: the root file and every file it imports, parsed."""

    root: str
    modules: dict[str, ast.Module] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    imports: dict[str, list[str]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    failed_imports: set[str] = field(default_factory=set)  # files with an import not found

    @property
    def broken_names(self) -> frozenset[str]:
        """Names of declarations that failed to parse, in any file of the unit."""
        return frozenset(n for m in self.modules.values() for n in m.broken if n)

    def source(self, file: str) -> str | None:
        return self.texts.get(file)


def display_name(path: Path) -> str:
    """The path as diagnostics show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_unit(
    path: Path,
    overlays: dict[str, str] | None = None,
    parse_file: Callable[[str, str], ParseResult] = parse,
) -> Unit:
    """Parse `path` and, transitively, the files it imports.

    `overlays` maps display names to unsaved editor text (the language server's view);
    `parse_file` is the parser (the language server's re-parses only what changed).
    """
    overlays = overlays or {}
    root = display_name(path)
    unit = Unit(root)
    sink = DiagnosticSink()
    pending: list[tuple[Path, str]] = [(path, root)]
    while pending:
        file_path, name = pending.pop()
        if name in unit.modules:
            continue
        text = overlays.get(name)
        if text is None:
            try:
                text = file_path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""  # vanished or unreadable since it was named: nothing to check
        result = parse_file(text, name)
        unit.texts[name] = text
        unit.modules[name] = result.module
        unit.diagnostics.extend(result.diagnostics)
        unit.imports[name] = []
        for decl in result.module.decls:
            if not isinstance(decl, ast.Import):
                continue
            target = (file_path.parent / decl.path).resolve()
            target_name = display_name(target)
            if target_name not in overlays and not target.is_file():
                sink.error(
                    "E111",
                    f"cannot import `{decl.path}`: no such file",
                    decl.span,
                    f"looked for {target_name}",
                    help="import paths are relative to the importing file",
                )
                unit.failed_imports.add(name)
                continue
            unit.imports[name].append(target_name)
            pending.append((target, target_name))
    unit.diagnostics.extend(sink.items)
    return unit


def unit_from_text(text: str, file: str = "<input>") -> Unit:
    """A unit whose root file's text is given (imports are read relative to the cwd)."""
    return load_unit(Path(file), {display_name(Path(file)): text})
