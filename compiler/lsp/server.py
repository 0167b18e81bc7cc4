"""The language server: registers each LSP feature and hands it to the module that does it.

Handlers stay thin: they find the document's analysis and call hover, completion,
navigation, ... Every handler is guarded, so a bug in one feature answers "nothing here"
and is logged, instead of taking the server (and the user's editor session) down.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ParamSpec, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from flowc.compiler.lsp import (
    completion,
    formatting,
    hover,
    navigation,
    outline,
    signature,
    tokens,
)
from flowc.compiler.lsp.workspace import DEFAULT_DEBOUNCE, Workspace

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def _version() -> str:
    try:
        return version("flowc")
    except PackageNotFoundError:
        return "0"


class FlowServer(LanguageServer):
    """pygls' server plus the workspace of analyses the features read."""

    def __init__(self) -> None:
        super().__init__(
            "flowc", _version(), text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental
        )
        self.flow = Workspace(self)


def _guarded(handler: Callable[P, Awaitable[R | None]]) -> Callable[P, Awaitable[R | None]]:
    @functools.wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return await handler(*args, **kwargs)
        except Exception:
            log.exception("%s failed", handler.__name__)
            return None

    return run


def build_server() -> FlowServer:
    """A server with every feature registered (not yet connected to anything)."""
    server = FlowServer()
    flow = server.flow

    @server.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce_ms"), int | float):
            flow.debounce = max(0.0, float(options["debounce_ms"]) / 1000)
        else:
            flow.debounce = DEFAULT_DEBOUNCE

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        flow.changed(params.text_document.uri, delay=0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        flow.changed(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        flow.closed(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @_guarded
    async def on_hover(params: lsp.HoverParams) -> lsp.Hover | None:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        return hover.hover(analysis, analysis.positions().cursor(params.position))

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=[".", ":"]),
    )
    @_guarded
    async def on_completion(params: lsp.CompletionParams) -> lsp.CompletionList | None:
        uri = params.text_document.uri
        analysis = await flow.fresh(uri)
        if analysis is None:
            return None
        # On the checking thread: completion may check a truncated copy of the document,
        # which should neither block the event loop nor run beside another check.
        return await asyncio.get_running_loop().run_in_executor(
            flow.executor, completion.complete, analysis, flow.memory(uri), params.position
        )

    @server.feature(
        lsp.TEXT_DOCUMENT_SIGNATURE_HELP,
        lsp.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[","]),
    )
    @_guarded
    async def on_signature(params: lsp.SignatureHelpParams) -> lsp.SignatureHelp | None:
        uri = params.text_document.uri
        analysis = await flow.fresh(uri)
        if analysis is None:
            return None
        return signature.signature_help(analysis, flow.memory(uri), params.position)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    @_guarded
    async def on_definition(params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        return navigation.definition(analysis, params.position, flow.uri_of)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    @_guarded
    async def on_references(params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        include = params.context.include_declaration
        others = flow.others(params.text_document.uri)
        return navigation.references(analysis, params.position, include, flow.uri_of, others)

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    async def on_prepare_rename(params: lsp.PrepareRenameParams) -> Any:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        return navigation.prepare_rename(analysis, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    async def on_rename(params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        others = flow.others(params.text_document.uri)
        return navigation.rename(analysis, params.position, params.new_name, flow.uri_of, others)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_guarded
    async def on_symbols(params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol] | None:
        uri = params.text_document.uri
        analysis = await flow.fresh(uri)
        if analysis is None:
            return None
        return outline.document_symbols(analysis)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    @_guarded
    async def on_formatting(params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        return formatting.format_document(analysis)

    @server.feature(
        lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
        tokens.LEGEND,
    )
    @_guarded
    async def on_tokens(params: lsp.SemanticTokensParams) -> lsp.SemanticTokens | None:
        analysis = await flow.fresh(params.text_document.uri)
        if analysis is None:
            return None
        return tokens.semantic_tokens(analysis)

    return server
