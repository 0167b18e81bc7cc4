"""The open documents, their latest analyses, and when to check them again.

Checking is debounced: each change restarts a short timer for its document, and the check
runs when the user pauses, so a burst of keystrokes costs one check. Checks run one at a
time on a worker thread, so requests (hover, completion) are still answered meanwhile; a
request that needs the current text checks it at once instead of waiting for the timer.

A document is checked as the root of its unit (itself and what it imports), with every open
buffer standing in for its file on disk; a change to one document also re-checks the open
documents whose units include it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import PositionCodec

from flowc.compiler.lsp.analysis import Analysis, LastGood, analyze
from flowc.compiler.lsp.diagnostics import document_diagnostics
from flowc.compiler.lsp.positions import display_of, uri_of, uri_to_path

# Seconds. A check of a 2,000-line project costs ~25 ms (re-parsing only what changed), so
# checking after each keystroke is affordable; the short wait still folds a paste, an
# auto-repeated key or an editor's multi-edit into one check, and keeps the time from a
# change to its diagnostics under 100 ms.
DEFAULT_DEBOUNCE = 0.03
log = logging.getLogger(__name__)


@dataclass
class Workspace:
    server: LanguageServer
    debounce: float = DEFAULT_DEBOUNCE
    analyses: dict[str, Analysis] = field(default_factory=dict)
    last_good: dict[str, LastGood] = field(default_factory=dict)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    running: set[asyncio.Future[Analysis | None]] = field(default_factory=set)
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="flowc-check")
    )

    # ---- documents ----

    def open_uris(self) -> list[str]:
        return list(self.server.workspace.text_documents)

    def text(self, uri: str) -> str | None:
        document = self.server.workspace.text_documents.get(uri)
        return document.source if document is not None else None

    def version(self, uri: str) -> int | None:
        document = self.server.workspace.text_documents.get(uri)
        return document.version if document is not None else None

    def uri_of(self, display: str) -> str:
        """The URI of a file of a unit: the open document's own URI when it is open."""
        for uri in self.open_uris():
            if display_of(uri) == display:
                return uri
        return uri_of(display)

    def codec(self) -> PositionCodec:
        return PositionCodec(self.server.workspace.position_encoding)

    def others(self, uri: str) -> list[Analysis]:
        """The analyses of the other open documents (their units may import this one)."""
        return [a for other, a in self.analyses.items() if other != uri]

    def memory(self, uri: str) -> LastGood:
        return self.last_good.setdefault(uri, LastGood())

    # ---- scheduling ----

    def changed(self, uri: str, delay: float | None = None) -> None:
        """Check `uri` after the debounce delay, and the open documents that import it."""
        wait = self.debounce if delay is None else delay
        self._schedule(uri, wait)
        display = display_of(uri)
        for other, analysis in list(self.analyses.items()):
            if other != uri and display in analysis.result.unit.modules:
                self._schedule(other, wait)

    def closed(self, uri: str) -> None:
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        analysis = self.analyses.pop(uri, None)
        self.last_good.pop(uri, None)
        self.server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))
        if analysis is not None:  # documents importing it now read the file from disk
            display = display_of(uri)
            for other, found in list(self.analyses.items()):
                if display in found.result.unit.modules:
                    self._schedule(other, self.debounce)

    def _schedule(self, uri: str, delay: float) -> None:
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self.timers[uri] = loop.call_later(delay, self._fire, uri)

    def _fire(self, uri: str) -> None:
        self.timers.pop(uri, None)
        task = asyncio.ensure_future(self.refresh(uri))
        # The loop keeps only a weak reference to a task: hold it until it is done.
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def fresh(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text, checking it now if needed."""
        found = self.analyses.get(uri)
        if found is not None and found.version == self.version(uri):
            return found
        if self.text(uri) is None:
            return found
        timer = self.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        return await self.refresh(uri)

    async def refresh(self, uri: str) -> Analysis | None:
        """Check the document as it is now and publish its diagnostics."""
        text = self.text(uri)
        if text is None:
            return None
        version = self.version(uri)
        overlays = {display_of(u): t for u in self.open_uris() if (t := self.text(u)) is not None}
        loop = asyncio.get_running_loop()
        try:
            analysis = await loop.run_in_executor(
                self.executor, analyze, uri, uri_to_path(uri), version, overlays, self.codec()
            )
        except Exception:  # never let a checker bug take the server down
            log.exception("checking %s failed", uri)
            return self.analyses.get(uri)
        current = self.analyses.get(uri)
        if self.text(uri) is None:
            return None  # closed meanwhile
        if current is not None and (current.version or 0) > (version or 0):
            return current  # a newer check finished first
        self.analyses[uri] = analysis
        self.memory(uri).remember(analysis)
        self.publish(analysis)
        return analysis

    def publish(self, analysis: Analysis) -> None:
        open_files = {display_of(u) for u in self.open_uris()}
        try:
            diagnostics = document_diagnostics(analysis, open_files, self.uri_of)
        except Exception:
            log.exception("converting the diagnostics of %s failed", analysis.uri)
            return
        self.server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(analysis.uri, diagnostics, analysis.version)
        )
