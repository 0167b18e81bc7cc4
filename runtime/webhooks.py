"""Webhook sources: checking, parsing and micro-batching POSTed records, then the spool.

A request goes through, in order: the bearer token or the signature header (401 before the
body is read when it is missing), the content type (415), the declared and the actual size
(413, without reading more than `max_body` bytes), the HMAC-SHA256 signature of the raw body
(401), parsing (400, saying where) and the schema (400, naming the record and the field).
Requests of one source that arrive together then form one micro-batch: one conversion to a
frame, one spool entry (and, with other sources' batches, one fsync), after which every
request of the batch is answered 202. The pipelines run on the batch afterwards, and merge
batches that queued up meanwhile, so a burst of small requests costs a few plan runs rather
than one each. An entry is marked done in the spool once the pipelines have processed it;
what a crash interrupts is replayed at the next start (`replay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from flowc.runtime.executor import Batch
from flowc.runtime.records import (
    BodyError,
    RecordError,
    RecordsPath,
    Schema,
    looks_like_ndjson,
    parse_json,
    parse_ndjson,
    records_frame,
    require_objects,
)
from flowc.runtime.spool import Spool, SpoolError
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.webhook import WebhookSource

log = logging.getLogger(__name__)

Emit = Callable[[str, Batch], Awaitable[object]]
"""Hand a source's batch to the pipelines reading it (`Runtime.emit`)."""
Orphan = Callable[[str, list[bytes], str], Awaitable[None]]
"""Keep spooled records that can no longer be processed: (source, JSON texts, reason)."""

_JSON_TYPES = {"application/json", "text/json"}
_NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl",
                 "application/x-jsonlines", "application/jsonlines"}  # fmt: skip
_SNIFFED_TYPES = {"", "text/plain", "application/octet-stream"}


@dataclass(frozen=True)
class WebhookSettings:
    """How requests are grouped; the defaults suit most loads."""

    batch_window: float = 0.002  # seconds a batch waits for more requests after its first
    batch_max_records: int = 10_000
    batch_max_bytes: int = 8 << 20
    queue_batches: int = 16  # spooled batches waiting for the pipelines, per source
    attempts: int = 5  # tries at processing a batch before leaving it to the next start
    backoff: float = 0.2  # seconds before the first retry; doubles each time


@dataclass
class WebhookMetrics:
    """Per webhook source, for the API and `/metrics`."""

    requests: int = 0
    accepted: int = 0  # requests answered 202
    records: int = 0  # records accepted
    bytes: int = 0  # body bytes accepted
    spooled: int = 0  # spool entries (micro-batches) written
    batches: int = 0  # batches the pipelines processed
    replayed: int = 0  # records replayed from the spool at start
    failures: int = 0  # batches left in the spool after every attempt failed
    rejected: dict[int, int] = field(default_factory=dict)  # HTTP status -> requests
    last_error: str | None = None


class WebhookConfigError(Exception):
    """A webhook cannot be served as configured (a secret's variable is not set)."""


class HttpError(Exception):
    """A request refused with a status and a JSON body `{"error": ..., "detail": ...}`."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        body = {"error": self.error, "detail": self.detail}
        return JSONResponse(body, status_code=self.status, headers=headers)


def read_secret(ref: EnvRef, source: str, key: str) -> bytes:
    """The value of `env("NAME")`; only the variable's name ever appears in messages."""
    value = os.environ.get(ref.name)
    if not value:
        raise WebhookConfigError(
            f"webhook `{source}`: `{key}` reads the environment variable {ref.name}, "
            "which is not set"
        )
    return value.encode()


# ---- one request ----


@dataclass
class _Pending:
    records: list[Any]
    texts: list[bytes]
    size: int
    future: asyncio.Future[int]


@dataclass
class _Writing:
    batch: list[_Pending]
    frame: pl.DataFrame
    raw: pl.Series
    write: asyncio.Task[int]  # the spool append: its sequence number once durable


@dataclass
class _Spooled:
    seq: int
    frame: pl.DataFrame
    raw: pl.Series


class WebhookEndpoint:
    """One webhook source: its HTTP endpoint and the batcher behind it."""

    def __init__(
        self, name: str, config: WebhookSource, schema: Schema, settings: WebhookSettings
    ) -> None:
        self.name = name
        self.config = config
        self.schema = schema
        self.settings = settings
        self.path = RecordsPath(config.records)
        self.secret = read_secret(config.secret, name, "secret") if config.secret else None
        token = read_secret(config.token, name, "token") if config.token else None
        self.token = token
        self.metrics = WebhookMetrics()
        self.spool: Spool | None = None
        self.emit: Emit | None = None
        self._intake: asyncio.Queue[_Pending] = asyncio.Queue()
        # Batches being written: the next batch is formed while the last one's fsync runs.
        self._writing: asyncio.Queue[_Writing] = asyncio.Queue(4)
        self._spooled: asyncio.Queue[_Spooled] = asyncio.Queue(settings.queue_batches)
        self._tasks: list[asyncio.Task[None]] = []
        self._accepting = False

    # ---- HTTP ----

    async def handle(self, request: Request) -> Response:
        """The POST endpoint: 202 `{"accepted": n}` once the records are in the spool."""
        metrics = self.metrics
        metrics.requests += 1
        try:
            if not self._accepting:
                raise HttpError(503, "the server is starting or stopping; try again")
            body = await self._checked_body(request)
            records, texts = self._records(body, request.headers.get("content-type", ""))
            accepted = await self._submit(records, texts, len(body)) if records else 0
        except HttpError as error:
            metrics.rejected[error.status] = metrics.rejected.get(error.status, 0) + 1
            return error.response()
        metrics.accepted += 1
        metrics.records += accepted
        metrics.bytes += len(body)
        return JSONResponse({"accepted": accepted}, status_code=202)

    async def _checked_body(self, request: Request) -> bytes:
        headers = request.headers
        if self.token is not None:
            given = headers.get("authorization", "").encode()
            scheme, _, credentials = given.partition(b" ")  # the scheme is case-insensitive
            if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials, self.token):
                what = "is missing" if not given else "does not match"
                raise HttpError(401, f"the bearer token {what}", {"header": "Authorization"})
        signature = headers.get(self.config.signature_header)
        if self.secret is not None and signature is None:
            raise HttpError(
                401, "the signature is missing", {"header": self.config.signature_header}
            )
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in _JSON_TYPES | _NDJSON_TYPES | _SNIFFED_TYPES and not media.endswith(
            "+json"
        ):
            raise HttpError(
                415,
                f"unsupported content type {media}: send JSON (application/json) or JSON "
                "lines (application/x-ndjson)",
                {"content_type": media},
            )
        limit = self.config.max_body
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HttpError(413, f"the body is larger than {limit} bytes", {"max_body": limit})
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:  # a missing or lying Content-Length
                    raise HttpError(
                        413, f"the body is larger than {limit} bytes", {"max_body": limit}
                    )
                chunks.append(chunk)
        except ClientDisconnect:
            raise HttpError(400, "the client went away before sending the whole body") from None
        body = b"".join(chunks)
        if self.secret is not None:
            assert signature is not None
            expected = (
                self.config.signature_prefix
                + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            )
            if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
                raise HttpError(
                    401,
                    f"the signature in {self.config.signature_header} does not match the body",
                    {"header": self.config.signature_header},
                )
        return body

    def _records(self, body: bytes, content_type: str) -> tuple[list[Any], list[bytes]]:
        """The body's records and their JSON texts (400 when malformed)."""
        media = content_type.split(";")[0].strip().lower()
        try:
            if not body.strip():
                raise BodyError("the body is empty: send a JSON object, array or JSON lines")
            if media in _NDJSON_TYPES:
                return self._from_lines(body)
            try:
                document = parse_json(body)
            except BodyError:
                if looks_like_ndjson(body):
                    return self._from_lines(body)
                raise
            records = self.path.select(document)
            require_objects(records)
            return records, list(map(orjson.dumps, records))
        except BodyError as error:
            raise HttpError(400, error.message, error.detail) from None

    def _from_lines(self, body: bytes) -> tuple[list[Any], list[bytes]]:
        documents, lines = parse_ndjson(body)
        if self.path.is_root and set(map(type, documents)) <= {dict}:
            return documents, lines  # the common case: the lines are the records, as sent
        records = [record for document in documents for record in self.path.select(document)]
        require_objects(records)
        return records, list(map(orjson.dumps, records))

    async def _submit(self, records: list[Any], texts: list[bytes], size: int) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._intake.put_nowait(_Pending(records, texts, size, future))
        try:
            return await future
        except RecordError as error:
            raise HttpError(400, error.message, error.detail) from None
        except SpoolError as error:
            log.error("webhook %s: %s", self.name, error)
            raise HttpError(503, "the records could not be stored; try again") from None

    # ---- batching ----

    def start(self, spool: Spool, emit: Emit) -> None:
        self.spool = spool
        self.emit = emit
        self._tasks = [
            asyncio.create_task(self._collect(), name=f"webhook {self.name}: batches"),
            asyncio.create_task(self._acknowledge(), name=f"webhook {self.name}: answers"),
            asyncio.create_task(self._process(), name=f"webhook {self.name}: pipelines"),
        ]
        self._accepting = True

    async def _collect(self) -> None:
        """Group waiting requests into batches, spool each, answer its requests."""
        settings = self.settings
        while True:
            batch = [await self._intake.get()]
            self._drain(batch)
            if settings.batch_window > 0 and not self._full(batch):
                await asyncio.sleep(settings.batch_window)
                self._drain(batch)
            try:
                await self._commit(batch)
            except Exception as error:  # never let one batch stop the source
                log.exception("webhook %s: a batch failed", self.name)
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(SpoolError(str(error)))
            finally:
                for _ in batch:
                    self._intake.task_done()

    def _full(self, batch: list[_Pending]) -> bool:
        return (
            sum(len(p.records) for p in batch) >= self.settings.batch_max_records
            or sum(p.size for p in batch) >= self.settings.batch_max_bytes
        )

    def _drain(self, batch: list[_Pending]) -> None:
        while not self._intake.empty() and not self._full(batch):
            batch.append(self._intake.get_nowait())

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            frame, raw = self._convert(batch)
        except RecordError:
            batch = self._reject_misfits(batch)
            if not batch:
                return
            frame, raw = self._convert(batch)
        assert self.spool is not None
        texts = [text for pending in batch for text in pending.texts]
        write = asyncio.create_task(self.spool.append(encode_entry(self.name, texts)))
        await self._writing.put(_Writing(batch, frame, raw, write))

    async def _acknowledge(self) -> None:
        """Answer each batch's requests once it is durable, then queue it for the pipelines
        (in spool order: batches are written in the order they were formed)."""
        while True:
            item = await self._writing.get()
            try:
                seq = await item.write
            except Exception as error:
                for pending in item.batch:
                    if not pending.future.done():
                        pending.future.set_exception(SpoolError(str(error)))
                self._writing.task_done()
                continue
            self.metrics.spooled += 1
            for pending in item.batch:
                if not pending.future.done():
                    pending.future.set_result(len(pending.records))
            try:
                await self._spooled.put(_Spooled(seq, item.frame, item.raw))
            finally:
                self._writing.task_done()

    def _convert(self, batch: list[_Pending]) -> tuple[pl.DataFrame, pl.Series]:
        if len(batch) == 1:
            return records_frame(batch[0].records, self.schema, texts=batch[0].texts)
        records = [record for pending in batch for record in pending.records]
        texts = [text for pending in batch for text in pending.texts]
        return records_frame(records, self.schema, texts=texts)

    def _reject_misfits(self, batch: list[_Pending]) -> list[_Pending]:
        """Answer the requests whose records do not fit with 400; keep the others."""
        kept = []
        for pending in batch:
            try:
                records_frame(pending.records, self.schema, texts=pending.texts)
            except RecordError as error:
                pending.future.set_exception(error)
            else:
                kept.append(pending)
        return kept

    async def _process(self) -> None:
        """Run the pipelines on spooled batches, merging those that queued up meanwhile."""
        while True:
            items = [await self._spooled.get()]
            rows = items[0].frame.height
            while not self._spooled.empty() and rows < self.settings.batch_max_records:
                items.append(self._spooled.get_nowait())
                rows += items[-1].frame.height
            try:
                await self._emit_with_retries(items)
            finally:
                for _ in items:
                    self._spooled.task_done()

    async def _emit_with_retries(self, items: list[_Spooled]) -> None:
        assert self.emit is not None
        assert self.spool is not None
        if len(items) == 1:
            batch = Batch(items[0].frame, items[0].raw)
        else:
            batch = Batch(pl.concat([i.frame for i in items]), pl.concat([i.raw for i in items]))
        for attempt in range(self.settings.attempts):
            try:
                await self.emit(self.name, batch)
            except Exception as error:
                self.metrics.last_error = f"{type(error).__name__}: {error}"
                log.warning("webhook %s: processing failed (attempt %d): %s",
                            self.name, attempt + 1, self.metrics.last_error)  # fmt: skip
                if attempt + 1 < self.settings.attempts:
                    await asyncio.sleep(self.settings.backoff * 2**attempt)
                continue
            self.metrics.batches += 1
            for item in items:
                self.spool.mark_done(item.seq)
            return
        self.metrics.failures += 1  # the entries stay in the spool: replayed at next start

    async def stop(self, timeout: float) -> None:
        """Stop taking requests, answer and process the ones taken, within `timeout`."""
        self._accepting = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._intake.join()
                await self._writing.join()
                await self._spooled.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        # What was not spooled in time: tell the senders to try again.
        waiting = [self._intake.get_nowait() for _ in range(self._intake.qsize())]
        while not self._writing.empty():
            waiting.extend(self._writing.get_nowait().batch)
        for pending in waiting:
            if not pending.future.done():
                pending.future.set_exception(SpoolError("the server stopped"))


# ---- the spool's entries, and replay ----


def encode_entry(source: str, texts: list[bytes]) -> bytes:
    """A spool entry: a JSON header line, then one record's JSON text per line."""
    return b"\n".join([orjson.dumps({"source": source, "records": len(texts)}), *texts])


def decode_entry(payload: bytes) -> tuple[str, list[bytes]]:
    head, _, body = payload.partition(b"\n")
    source = orjson.loads(head)["source"]
    assert isinstance(source, str)
    return source, body.split(b"\n") if body else []
