"""The `http` source at run time: poll a REST or GraphQL API, page by page.

A run reads credentials from the environment, loads the checkpoint, then loops: send the
request (with retries), take the records at `records`, emit them as one batch, save the
checkpoint, ask the pager for the next request. Each page is its own batch, so a long
backfill is persisted, cached and broadcast as it arrives, and a run that dies on page 40
has saved the checkpoint of page 39. Parsing a page and building its frame happen on a
worker thread: a large page must not stall the event loop that serves webhooks and the API.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import orjson

from flowc.compiler.manifest import Source, connector_config
from flowc.runtime.executor import Batch
from flowc.runtime.jsonpath import Json, JsonPathError, compile_path
from flowc.runtime.records import BodyError
from flowc.runtime.sources.base import Emit, RunResult, SourceState
from flowc.runtime.sources.http_auth import (
    Credentials,
    HttpSourceError,
    Resolver,
    credentials,
    redact,
    shown_url,
)
from flowc.runtime.sources.http_pages import Call, new_pager, query_text
from flowc.runtime.sources.http_records import (
    Schema,
    declared_schema,
    field_max,
    later,
    records_batch,
)
from flowc.runtime.sources.http_retry import Retrier, Sleep
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.http import HttpSource

log = logging.getLogger("flowc.runtime.sources.http")


@dataclass
class _Page:
    document: Json
    count: int
    batch: Batch | None
    newest: Json  # the largest cursor field value in the page


class HttpPollSource:
    """An `http` source as a PolledSource.

    `schema` is the source's declared fields (Flow types, as `records_frame` takes them);
    None infers the frame's types from each page. `client` is shared and left open by
    `close` when given (tests pass one with a mock transport); otherwise the source opens
    and closes its own.
    """

    def __init__(
        self,
        name: str,
        config: HttpSource,
        schema: Schema | None,
        client: httpx.AsyncClient | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.schema = schema
        try:
            self._records = compile_path(config.records)
            new_pager(config.pagination)  # compiles `next` and `has_more`
        except JsonPathError as error:
            raise HttpSourceError(f"source `{name}`: {error}") from None
        self._client = client
        self._owns_client = client is None
        self._resolver = Resolver(name) if environ is None else Resolver(name, environ)
        self._retrier = Retrier(
            name, config.retry, config.timeout.total_seconds(), sleep, rng or random.Random()
        )

    @classmethod
    def from_manifest(
        cls,
        source: Source,
        schema: Schema | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> HttpPollSource:
        """The source of a manifest entry (`kind: http`); `schema` defaults to the declared
        fields (see `reader_schema` for a source that declares none)."""
        config = connector_config(HttpSource, source.config)
        return cls(source.name, config, schema or declared_schema(source), client)

    async def run_once(self, emit: Emit, state: SourceState) -> RunResult:
        """One poll: every page up to the last (or `max_pages`), one batch per page."""
        creds = credentials(self.config.auth, self._resolver)
        call = self._first_call()
        checkpoint = await self._checkpoint(state)
        incremental = self.config.cursor
        if incremental is not None and checkpoint is not None:
            # Fixed for the whole run: moving it between pages would shift the pages.
            call = call.with_param(incremental.param, checkpoint)
        pager = new_pager(self.config.pagination)
        next_call: Call | None = pager.first(call)
        result = RunResult()
        previous: bytes | None = None
        pages = 0
        while next_call is not None:
            call = next_call
            response = await self._send(call, creds)
            pages += 1
            if previous is not None and response.content == previous:
                log.warning(
                    "source `%s`: page %d is the same as page %d; the API seems to ignore "
                    "the pagination parameter, so paging stops here", self.name, pages, pages - 1
                )  # fmt: skip
                break
            previous = response.content
            page = await asyncio.to_thread(self._page, response)
            log.debug("source `%s`: page %d, %d records", self.name, pages, page.count)
            if page.batch is not None:
                await emit(page.batch)
                result.records += page.count
                result.batches += 1
                if incremental is not None:
                    newest = later(checkpoint, page.newest)
                    if newest is not None and newest != checkpoint:
                        await state.save_cursor(self.name, orjson.dumps(newest).decode())
                        checkpoint = newest
            if self.config.max_pages is not None and pages >= self.config.max_pages:
                break
            next_call = pager.next(call, response, page.document, page.count)
        return result

    async def close(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- one request ----

    def _first_call(self) -> Call:
        config = self.config
        resolve = self._resolver.value
        headers = {key: resolve(value, f"headers.{key}") for key, value in config.headers.items()}
        if not any(key.lower() == "accept" for key in headers):
            headers["Accept"] = "application/json"
        params = {
            key: resolve(value, f"params.{key}") if isinstance(value, EnvRef) else query_text(value)
            for key, value in config.params.items()
        }
        if config.graphql is not None:
            body = {"query": config.graphql.query, "variables": dict(config.graphql.variables)}
            return Call(config.effective_method, config.url, params, headers, body, graphql=True)
        return Call(config.effective_method, config.url, params, headers, config.body)

    async def _send(self, call: Call, creds: Credentials) -> httpx.Response:
        client = self._client
        if client is None:
            client = self._client = httpx.AsyncClient(follow_redirects=True)
        # Merged into the URL's own query (httpx's `params=` would replace it): a key in
        # both takes the parameter's value.
        url = httpx.URL(call.url).copy_merge_params({**call.params, **creds.params})
        request = client.build_request(
            call.method,
            url,
            headers={**call.headers, **creds.headers},
            json=call.json,
            timeout=self.config.timeout.total_seconds(),
        )
        return await self._retrier.send(client, request)

    async def _checkpoint(self, state: SourceState) -> Json:
        """The cursor value this run sends: the saved one, else `initial`."""
        if self.config.cursor is None:
            return None
        saved = await state.load_cursor(self.name)
        if saved is None:
            return self.config.cursor.initial
        try:
            return orjson.loads(saved)
        except orjson.JSONDecodeError:
            return saved  # saved as plain text by something else: still a usable value

    # ---- one page (on a worker thread) ----

    def _page(self, response: httpx.Response) -> _Page:
        where = f"source `{self.name}`: {response.request.method} {shown_url(response.url)}"
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            start = redact(" ".join(response.text[:120].split()))
            raise HttpSourceError(f"{where} did not answer JSON: {start!r}") from None
        if self.config.graphql is not None:
            _check_graphql(where, document)
        records = self._records.records(document)
        if not records:
            return _Page(document, 0, None, None)
        try:
            batch = records_batch(records, self.schema)
        except BodyError as error:
            raise HttpSourceError(f"{where}: at `{self.config.records}`, {error}") from None
        newest = None
        if self.config.cursor is not None:
            newest = field_max(batch.frame, batch.raw, self.config.cursor.field)
        return _Page(document, len(records), batch, newest)


def _check_graphql(where: str, document: Json) -> None:
    """A GraphQL error answer comes with status 200: without `data`, the run fails with the
    server's first message. Partial data with errors is kept (GraphQL's own contract)."""
    if not isinstance(document, dict):
        return
    errors = document.get("errors")
    if errors and document.get("data") is None:
        first = errors[0] if isinstance(errors, list) else errors
        message = first.get("message", first) if isinstance(first, dict) else first
        raise HttpSourceError(f"{where}: the GraphQL query failed: {redact(str(message))}")
