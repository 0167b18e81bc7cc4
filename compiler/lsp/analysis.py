"""One check of an open document, and what is remembered from the last checks that parsed.

An `Analysis` is `flowc check` on the unit rooted at a document, with the editor's unsaved
buffers standing in for the files on disk. While the user types, the declaration under
the cursor usually does not parse, and the parser drops it; `LastGood` keeps the latest
checked version of each pipeline and function, so completion and signature help still know
the fields and parameters of a declaration that is half typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pygls.workspace.position_codec import PositionCodec

from flowc.compiler.checker import CheckResult, SourceInfo, check_unit
from flowc.compiler.lsp.index import Index
from flowc.compiler.lsp.indexer import build_index
from flowc.compiler.lsp.parsing import load_unit_incremental
from flowc.compiler.lsp.positions import Positions, display_of, uri_to_path
from flowc.compiler.pipelines import PipelineInfo
from flowc.dsl import ast


@dataclass
class Analysis:
    """The checker's result for one version of one document."""

    uri: str
    file: str  # the display name of the document's file: what its spans are keyed by
    version: int | None
    text: str
    result: CheckResult
    codec: PositionCodec
    _positions: dict[str, Positions] = field(default_factory=dict, repr=False)

    @cached_property
    def index(self) -> Index:
        # Built on first use: publishing diagnostics, the hot path, never needs it.
        return build_index(self.result)

    @property
    def module(self) -> ast.Module | None:
        return self.result.unit.modules.get(self.file)

    @property
    def parses(self) -> bool:
        """Whether the document has no syntax errors (then formatting and rename are safe)."""
        return not any(
            d.code.startswith("E00") and d.span.file == self.file for d in self.result.diagnostics
        )

    def positions(self, file: str | None = None) -> Positions:
        """Span/range conversion for a file of the unit (the document's by default)."""
        name = file or self.file
        if name not in self._positions:
            text = self.text if name == self.file else self.result.unit.texts.get(name, "")
            self._positions[name] = Positions(text, self.codec)
        return self._positions[name]


def analyze(
    uri: str, file: Path, version: int | None, overlays: dict[str, str], codec: PositionCodec
) -> Analysis:
    """Check the unit rooted at `file`; `overlays` are the open buffers by display name."""
    display = display_of(uri)
    unit = load_unit_incremental(file, overlays)
    result = check_unit(unit)
    return Analysis(uri, display, version, overlays.get(display, ""), result, codec)


def check_variant(analysis: Analysis, text: str) -> CheckResult:
    """The unit checked again with the document's text replaced by `text` (the other files
    as they were): what completion uses to see a half-typed declaration as far as it goes."""
    overlays = dict(analysis.result.unit.texts)
    overlays[analysis.file] = text
    return check_unit(load_unit_incremental(uri_to_path(analysis.uri), overlays))


@dataclass
class LastGood:
    """The latest checked version of each declaration of a document, by name."""

    pipelines: dict[str, tuple[ast.Pipeline, PipelineInfo]] = field(default_factory=dict)
    fns: dict[str, ast.Fn] = field(default_factory=dict)
    sources: dict[str, SourceInfo] = field(default_factory=dict)

    def remember(self, analysis: Analysis) -> None:
        module = analysis.module
        if module is None:
            return
        result = analysis.result
        for decl in module.decls:
            if isinstance(decl, ast.Pipeline):
                info = result.pipelines.get(decl.name.name)
                if info is not None and info.file == analysis.file:
                    self.pipelines[decl.name.name] = (decl, info)
            elif isinstance(decl, ast.Fn):
                self.fns[decl.name.name] = decl
            elif isinstance(decl, ast.Source) and decl.name.name in result.sources:
                self.sources[decl.name.name] = result.sources[decl.name.name]
