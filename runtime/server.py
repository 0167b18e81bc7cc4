"""The runtime's HTTP server: one ASGI app that webhooks, the API and dashboards share.

`build_app(runtime)` mounts one POST route per webhook source at its `path`, the REST API
under `/api` (`flowc.runtime.api`, described by `/openapi.json`) and `/metrics` for
Prometheus (`flowc.runtime.prometheus`). Everything served is a `Component`: routes plus
`start`/`stop` hooks that the app's lifespan runs in order (and stops in reverse), so the
dashboards join as one more component without this module changing shape. The app is a
FastAPI app so that the API's routes are validated and documented; other components may
bring plain Starlette routes. Errors are JSON everywhere: `{"error": "...", "detail": ...}`.

With `require_token` (see `flowc.runtime.api_auth.api_token`: required when listening
beyond loopback), every request but the webhooks' needs that token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import orjson
import polars as pl
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from flowc.runtime.api import Api, ApiSettings
from flowc.runtime.api_auth import TokenGuard
from flowc.runtime.api_errors import error_handlers
from flowc.runtime.app import Runtime
from flowc.runtime.executor import Batch
from flowc.runtime.prometheus import PrometheusEndpoint
from flowc.runtime.records import BodyError, Schema, records_frame
from flowc.runtime.spool import Spool
from flowc.runtime.store.base import DEAD_LETTER_SCHEMA
from flowc.runtime.webhooks import (
    Emit,
    Orphan,
    WebhookEndpoint,
    WebhookSettings,
    decode_entry,
)
from flowc.stdlib.connectors.webhook import WebhookSource

log = logging.getLogger(__name__)


class Component(Protocol):
    """A part of the server: its routes, and what to do when the server starts and stops."""

    def routes(self) -> Sequence[BaseRoute]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_app(
    runtime: Runtime,
    *,
    spool_dir: Path | None = None,
    settings: WebhookSettings | None = None,
    components: Sequence[Component] = (),
    require_token: str | None = None,
    api_settings: ApiSettings | None = None,
) -> Starlette:
    """The ASGI app serving `runtime`'s webhooks, API and metrics, plus other `components`.

    The spool lives in `spool_dir` (by default `.flowc/<program>.spool` next to the
    program). Starting the app (its lifespan) replays what the spool holds before the
    first request is taken; stopping it answers and processes the requests in flight.
    `app.state.api.close_streams()` ends the API's event streams: call it when shutting
    down begins, as the server waits for open responses before stopping.
    """
    webhooks = Webhooks(runtime, spool_dir or default_spool_dir(runtime), settings)
    api = Api(runtime, api_settings)
    metrics = PrometheusEndpoint(runtime, webhooks.endpoints)
    parts: list[Component] = [webhooks, api, metrics, *components]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started: list[Component] = []
        try:
            for part in parts:
                await part.start()
                started.append(part)
            yield
        finally:
            for part in reversed(started):
                await part.stop()

    open_paths = frozenset(e.config.path for e in webhooks.endpoints.values())
    middleware = []
    if require_token:
        middleware.append(Middleware(TokenGuard, token=require_token, open_paths=open_paths))
    app = FastAPI(
        title="flowc",
        version=version("flowc"),
        summary="The pipelines of a running flowc program: status, records, history, "
        "runs and dead letters",
        routes=[route for part in parts for route in part.routes()],
        lifespan=lifespan,
        exception_handlers={**error_handlers(), HTTPException: _http_error},
        middleware=middleware,
        openapi_url="/openapi.json",
        # Swagger UI and ReDoc load their code from a CDN: the server serves nothing that
        # needs the internet, so /openapi.json is read with whatever tool one has.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.webhooks = webhooks
    app.state.api = api
    return app


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    detail = {"path": request.url.path, "method": request.method}
    return JSONResponse(
        {"error": error.detail, "detail": detail}, error.status_code, headers=error.headers
    )


def default_spool_dir(runtime: Runtime) -> Path:
    program = Path(runtime.result.unit.root)
    return program.parent / ".flowc" / f"{program.stem}.spool"


def source_schema(runtime: Runtime, source: str) -> Schema:
    """The fields a source's records are checked and converted against: its declared
    schema, or for a source without one, the (json) fields its pipelines read."""
    record = runtime.result.sources[source].record
    if not record.open:
        return {name: info.type for name, info in record.fields.items()}
    schema: dict[str, object] = {}
    for runner in runtime.readers(source):
        for name, type_ in runtime.compiled.pipelines[runner.spec.name].input.fields:
            schema.setdefault(name, type_)
    return schema  # type: ignore[return-value]


class Webhooks:
    """Every webhook source of a runtime: their routes, the spool they share, replay."""

    def __init__(
        self, runtime: Runtime, spool_dir: Path, settings: WebhookSettings | None = None
    ) -> None:
        self.runtime = runtime
        self.spool_dir = spool_dir
        self.settings = settings or WebhookSettings()
        self.spool: Spool | None = None
        self.endpoints: dict[str, WebhookEndpoint] = {}
        paths: dict[str, str] = {}
        for source in runtime.compiled.manifest.sources:
            if source.kind != "webhook":
                continue
            config = runtime.result.sources[source.name].config
            assert isinstance(config, WebhookSource)
            if config.path in paths:
                raise ValueError(
                    f"webhooks `{paths[config.path]}` and `{source.name}` both use the path "
                    f"{config.path}"
                )
            paths[config.path] = source.name
            schema = source_schema(runtime, source.name)
            self.endpoints[source.name] = WebhookEndpoint(
                source.name, config, schema, self.settings
            )

    def routes(self) -> list[BaseRoute]:
        return [
            Route(e.config.path, e.handle, methods=["POST"], name=f"webhook:{e.name}")
            for e in self.endpoints.values()
        ]

    async def start(self) -> None:
        """Open the spool, replay what it holds, then take requests."""
        if not self.endpoints:
            return
        self.spool = await asyncio.to_thread(Spool.open, self.spool_dir)
        recovery = self.spool.recovery
        if recovery.torn_bytes or recovery.damaged:
            log.warning(
                "spool %s: cut a torn write of %d bytes; damaged segments: %s",
                self.spool_dir,
                recovery.torn_bytes,
                recovery.damaged or "none",
            )
        schemas = {name: e.schema for name, e in self.endpoints.items()}
        replayed = await replay(self.spool, self.runtime.emit, schemas, self._orphan)
        if replayed:
            log.info("spool %s: replayed %d records", self.spool_dir, replayed)
        for endpoint in self.endpoints.values():
            endpoint.start(self.spool, self.runtime.emit)

    async def stop(self, timeout: float = 30.0) -> None:
        """Answer and process the requests taken (within `timeout`), then close the spool."""
        await asyncio.gather(*(e.stop(timeout) for e in self.endpoints.values()))
        if self.spool is not None:
            await self.spool.close()
            self.spool = None

    async def _orphan(self, source: str, texts: list[bytes], reason: str) -> None:
        log.error("webhook %s: %d spooled records go to the dead letters: %s",
                  source, len(texts), reason)  # fmt: skip
        await self.runtime.store.dead_letters(dead_letters(source, texts, reason))


async def replay(
    spool: Spool,
    emit: Emit,
    schemas: Mapping[str, Schema],
    orphan: Orphan,
    *,
    max_records: int = 10_000,
) -> int:
    """Process the spool's entries that were not marked done (after a crash); the number
    of records replayed. Consecutive entries of a source are processed as one batch.

    An entry whose source is gone from the program, or whose records no longer fit its
    schema, goes to `orphan` (the dead-letter store) rather than being dropped.
    """
    replayed = 0
    group: list[tuple[int, list[bytes]]] = []
    group_source = ""

    async def flush() -> None:
        nonlocal replayed
        if not group:
            return
        texts = [text for _, entry_texts in group for text in entry_texts]
        schema = schemas.get(group_source)
        try:
            if schema is None:
                raise BodyError(f"the program has no webhook source `{group_source}` any more")
            frame, raw = records_frame(list(map(orjson.loads, texts)), schema, texts=texts)
        except BodyError as error:
            await orphan(group_source, texts, f"replayed from the spool: {error.message}")
        else:
            await emit(group_source, Batch(frame, raw))
            replayed += len(texts)
        for seq, _ in group:
            spool.mark_done(seq)
        group.clear()

    for entry in spool.pending():
        source, texts = decode_entry(entry.payload)
        size = sum(len(t) for _, t in group)
        if group and (source != group_source or size + len(texts) > max_records):
            await flush()
        group_source = source
        group.append((entry.seq, texts))
    await flush()
    return replayed


def dead_letters(source: str, texts: list[bytes], reason: str) -> pl.DataFrame:
    """Spooled records that cannot be processed, as rows of the dead-letter store."""
    records = pl.Series(texts, dtype=pl.Binary).cast(pl.String)
    return pl.DataFrame(
        {"pipeline": f"source:{source}", "rule": "webhook", "action": "undelivered",
         "reason": reason, "record": records, "at": dt.datetime.now(dt.UTC)},
        schema=DEAD_LETTER_SCHEMA,
    )  # fmt: skip
