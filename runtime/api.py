"""The REST API of `flowc run`: pipelines, their records, history, runs and dead letters.

`Api` is one of the server's components (`flowc.runtime.server.Component`): its routes
are FastAPI routes under `/api`, so parameters are validated and `/openapi.json`
describes every answer with the models of `api_models`. The dashboards are built on the
same endpoints. The contract, with examples, is docs/api.md.

Reads of live state (metrics, caches, the plan) never touch the store; history, runs and
dead letters are queried from it (`api_queries`); a stream subscribes to the pipeline's
broadcast (`api_stream`); replays and triggered runs go through the same runners and
scheduler as everything else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from starlette.routing import BaseRoute

from flowc.dsl import types as t
from flowc.runtime import api_queries as queries
from flowc.runtime.api_activity import Activity
from flowc.runtime.api_errors import ApiError, error_responses
from flowc.runtime.api_models import (
    DeadLetter,
    DeadLetterList,
    PipelineDetail,
    PipelineList,
    RecordsPage,
    ReplayResult,
    Run,
    RunAccepted,
    RunList,
    Series,
    SeriesPoint,
)
from flowc.runtime.api_pipelines import (
    detail,
    json_fields,
    numeric_columns,
    pipeline_spec,
    plan_text,
    polled_source,
    summary,
)
from flowc.runtime.api_replay import replay
from flowc.runtime.api_stream import StreamSettings, batch_events
from flowc.runtime.api_values import decode_json, rows_json
from flowc.runtime.app import Runtime
from flowc.runtime.store.series import (
    Agg,
    SeriesQuery,
    default_bucket,
    format_duration,
    parse_duration,
)

log = logging.getLogger("flowc.api")
T = TypeVar("T")

MAX_BUCKET = dt.timedelta(weeks=5200)  # wider ones reach years the stores cannot bucket
Name = Annotated[str, Path(description="the pipeline's name")]
PageLimit = Annotated[int, Query(ge=1, le=1000, description="at most this many (1..1000)")]


@dataclass(frozen=True)
class ApiSettings:
    stream: StreamSettings = field(default_factory=StreamSettings)
    sample_every: float = 5.0  # seconds between samples of the metrics (records/minute)
    rate_window: float = 300.0  # seconds behind records_per_minute
    idle_after: float = 900.0  # seconds without a batch before a pipeline is `idle`
    series_span: dt.timedelta = dt.timedelta(hours=24)  # the default range of a series
    series_points: int = 1000  # the most buckets a default bucket width gives
    series_max_points: int = 10_000  # the most buckets an explicit width may ask for


class Api:
    """The `/api` routes over one runtime, and the sampler behind `records_per_minute`."""

    def __init__(self, runtime: Runtime, settings: ApiSettings | None = None) -> None:
        self.runtime = runtime
        self.settings = settings or ApiSettings()
        self.activity = Activity(
            runtime.metrics, window=self.settings.rate_window, idle_after=self.settings.idle_after
        )
        self.closing = asyncio.Event()
        self._plans: dict[str, str] = {}
        self._replaying = asyncio.Lock()
        self._direct_runs: dict[str, asyncio.Task[None]] = {}
        self._sampler: asyncio.Task[None] | None = None
        self.router = self._router()

    # ---- Component ----

    def routes(self) -> Sequence[BaseRoute]:
        return self.router.routes

    async def start(self) -> None:
        self.closing.clear()
        self._sampler = asyncio.create_task(
            self.activity.run(self.settings.sample_every), name="api: metrics sampler"
        )

    async def stop(self) -> None:
        self.close_streams()
        tasks = [task for task in (self._sampler, *self._direct_runs.values()) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sampler = None
        self._direct_runs.clear()

    def close_streams(self) -> None:
        """End every open event stream: call it when the server starts shutting down, as
        an open stream would keep the server waiting for it to finish."""
        self.closing.set()

    # ---- routes ----

    def _router(self) -> APIRouter:
        router = APIRouter(prefix="/api")
        # path, method, handler, answer, error statuses, summary
        table: list[tuple[str, str, Any, Any, tuple[int, ...], str]] = [
            ("/pipelines", "GET", self.list_pipelines, PipelineList, (),
             "Every pipeline, with its status and metrics"),
            ("/pipelines/{name}", "GET", self.get_pipeline, PipelineDetail, (404,),
             "One pipeline: schema, rules, storage, SQL, plan, sinks, neighbours"),
            ("/pipelines/{name}/records", "GET", self.records, RecordsPage, (400, 404),
             "The pipeline's cached records, most recent first"),
            ("/pipelines/{name}/series", "GET", self.series, Series, (400, 404, 409, 501, 503),
             "History from the store, bucketed by the database"),
            ("/pipelines/{name}/runs", "GET", self.runs, RunList, (404, 501, 503),
             "Run history, newest first"),
            ("/pipelines/{name}/run", "POST", self.trigger, RunAccepted, (404, 409),
             "Run the pipeline's polled source now"),
            ("/dead-letters", "GET", self.dead_letters, DeadLetterList, (501, 503),
             "Dead letters, newest first"),
            ("/dead-letters/{id}/replay", "POST", self.replay, ReplayResult,
             (404, 409, 501, 503), "Process a dead letter's record again"),
        ]  # fmt: skip
        for path, method, handler, model, statuses, text in table:
            router.add_api_route(
                path,
                handler,
                methods=[method],
                response_model=model,
                status_code=202 if handler == self.trigger else 200,
                responses=error_responses(401, *statuses),
                summary=text,
            )
        router.add_api_route(
            "/pipelines/{name}/stream",
            self.stream,
            methods=["GET"],
            response_class=StreamingResponse,
            responses={
                **error_responses(401, 404),
                200: {
                    "description": "server-sent events: `batch` events, keep-alive comments",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
            },
            summary="The pipeline's batches, live (server-sent events)",
        )
        return router

    async def list_pipelines(self) -> PipelineList:
        self.activity.observe()
        specs = self.runtime.compiled.manifest.pipelines
        return PipelineList(pipelines=[summary(self.runtime, self.activity, s) for s in specs])

    async def get_pipeline(self, name: Name) -> PipelineDetail:
        spec = pipeline_spec(self.runtime, name)
        self.activity.observe()
        if name not in self._plans:
            self._plans[name] = await asyncio.to_thread(plan_text, self.runtime, name)
        return detail(self.runtime, self.activity, spec, self._plans[name])

    async def records(
        self,
        name: Name,
        limit: Annotated[int | None, Query(ge=1, description="1..the cache's size")] = None,
    ) -> RecordsPage:
        spec = pipeline_spec(self.runtime, name)
        if limit is not None and limit > spec.cache:
            raise ApiError(
                400,
                f"limit must be between 1 and {spec.cache}, the size of `{name}`'s cache",
                {"parameter": "limit", "max": spec.cache},
            )
        frame = self.runtime.caches[name].latest(limit or min(100, spec.cache))
        rows = [] if frame is None else rows_json(frame, json_fields(self.runtime, name))
        return RecordsPage(pipeline=name, count=len(rows), records=rows)

    async def series(
        self,
        name: Name,
        start: Annotated[dt.datetime | None, Query(alias="from")] = None,
        end: Annotated[dt.datetime | None, Query(alias="to")] = None,
        bucket: Annotated[str | None, Query(description="a duration: 30s, 5m, 1h")] = None,
        agg: Agg | None = None,
        field: Annotated[str | None, Query(description="a numeric stored field")] = None,
        by: Annotated[
            str | None, Query(description="a stored field: one series per value of it")
        ] = None,
    ) -> Series:
        spec = pipeline_spec(self.runtime, name)
        if spec.storage is None:
            message = f"pipeline `{name}` does not persist: it has no history"
            raise ApiError(409, message, {"pipeline": name})
        numeric = numeric_columns(self.runtime, name)
        aggregate: Agg = agg or ("avg" if field else "count")
        if field is None and aggregate != "count":
            raise _bad("field", f"`{aggregate}` needs a field: one of {_names(numeric)}")
        if field is not None and field not in numeric:
            stored = {c.name for c in spec.storage.columns}
            what = "is not numeric" if field in stored else "is not a stored field"
            raise _bad("field", f"`{field}` {what}: the numeric fields are {_names(numeric)}")
        if by is not None:
            groupable = {
                c.name: c.type
                for c in spec.storage.columns
                if not c.type.startswith(("list", "{", "json"))
            }
            if by not in groupable:
                raise _bad("by", f"`{by}` is not a stored field to split by: {_names(groupable)}")
        start, end = self._range(start, end)
        width = self._bucket(bucket, end - start)
        persist = self.runtime.compiled.pipelines[name].persist
        assert persist is not None  # the manifest has storage: the IR has persist
        time_type = dict(persist.schema.fields)[spec.storage.time]
        query = SeriesQuery(
            table=spec.storage.table, time=spec.storage.time, start=start, end=end,
            bucket=width, agg=aggregate, field=field,
            time_is_date=time_type.kind is t.Kind.DATE,
            limit=self.settings.series_max_points + 1, by=by,
        )  # fmt: skip
        rows = await _from_store(queries.series(self.runtime.store, query))
        points = [
            SeriesPoint(time=r["bucket"], value=_number(r["value"]), group=_group(r.get("group")))
            for r in rows
        ]
        return Series.model_validate(
            {"pipeline": name, "agg": aggregate, "field": field, "bucket": format_duration(width),
             "bucket_seconds": width.total_seconds(), "by": by, "from": start, "to": end,
             "points": points}
        )  # fmt: skip

    def _range(
        self, start: dt.datetime | None, end: dt.datetime | None
    ) -> tuple[dt.datetime, dt.datetime]:
        try:
            end = _utc(end) if end is not None else self.runtime.clock()
            start = _utc(start) if start is not None else end - self.settings.series_span
        except OverflowError:
            raise _bad("from", "the range reaches beyond the years 1 to 9999") from None
        if start >= end:
            raise _bad("from", "`from` must be before `to`")
        return start, end

    def _bucket(self, text: str | None, span: dt.timedelta) -> dt.timedelta:
        if text is None:
            return default_bucket(span, self.settings.series_points)
        try:
            width = parse_duration(text)
        except ValueError as error:
            raise _bad("bucket", str(error)) from None
        if width > MAX_BUCKET:
            raise _bad("bucket", f"{text} is longer than the longest bucket, 5200w (100 years)")
        most = self.settings.series_max_points
        if span / width > most:
            message = f"{text} buckets over this range make more than {most} points"
            raise _bad("bucket", f"{message}: choose a wider bucket or a shorter range")
        return width

    async def runs(self, name: Name, limit: PageLimit = 100) -> RunList:
        pipeline_spec(self.runtime, name)
        rows = await _from_store(queries.runs(self.runtime.store, name, limit))
        return RunList(pipeline=name, runs=[_run(r) for r in rows])

    async def trigger(self, name: Name) -> RunAccepted:
        spec = pipeline_spec(self.runtime, name)
        source = polled_source(self.runtime, spec)
        if source is None:
            kind = _source_kind(self.runtime, spec.upstream)
            fed = "pipeline" if kind == "pipeline" else f"the {kind} source"
            message = f"pipeline `{name}` is fed by {fed} `{spec.upstream}`: nothing to run"
            raise ApiError(409, message, {"pipeline": name, "upstream": spec.upstream})
        if self._running(source):
            detail = {"pipeline": name, "source": source}
            raise ApiError(409, f"source `{source}` is already running", detail)
        scheduler = self.runtime.scheduler
        if scheduler is None or not _scheduled(scheduler, source):
            # Not (or no longer) on the scheduler: a source that runs once, an exhausted
            # generator, or `flowc run` embedded without one. Runs here never overlap either.
            self._direct_runs[source] = asyncio.create_task(self._run_source(source))
        else:
            scheduler.trigger_now(source)
        return RunAccepted(pipeline=name, source=source, status="triggered")

    def _running(self, source: str) -> bool:
        task = self._direct_runs.get(source)
        if task is not None and not task.done():
            return True
        scheduler = self.runtime.scheduler
        return scheduler is not None and _scheduled_running(scheduler, source)

    async def _run_source(self, source: str) -> None:
        try:
            await self.runtime.run_source(source)
        except Exception:
            log.exception("run of source %s (asked through the API) failed", source)

    async def stream(self, name: Name) -> StreamingResponse:
        pipeline_spec(self.runtime, name)
        events = batch_events(
            self.runtime.broker, name, self.settings.stream, self.closing, self.runtime.clock,
            lambda: json_fields(self.runtime, name),
        )  # fmt: skip
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def dead_letters(
        self,
        pipeline: Annotated[str | None, Query(description="only this pipeline's")] = None,
        limit: PageLimit = 100,
    ) -> DeadLetterList:
        if pipeline is not None and "\x00" in pipeline:
            return DeadLetterList(dead_letters=[])  # no name holds NUL, which SQL text cannot
        rows = await _from_store(queries.dead_letters(self.runtime.store, pipeline, limit))
        return DeadLetterList(dead_letters=[_letter(r) for r in rows])

    async def replay(
        self,
        id: Annotated[str, Path(description="the dead letter's id")],
    ) -> ReplayResult:
        # One replay at a time: two clicks on one letter must not process its record twice.
        async with self._replaying:
            letter = None
            if "\x00" not in id:  # no id holds NUL, which SQL text cannot
                letter = await _from_store(queries.dead_letter(self.runtime.store, id))
            if letter is None:
                raise ApiError(404, f"no dead letter {id}", {"id": id})
            try:
                result = await replay(self.runtime, letter)
            except ApiError:
                raise
            except Exception as error:
                message = f"the replay failed: {type(error).__name__}: {error}"
                raise ApiError(503, message, {"id": id}) from error
            deleted = await _from_store(queries.delete_dead_letter(self.runtime.store, id))
            return result.model_copy(update={"deleted": deleted})


# ---- helpers ----


def _bad(parameter: str, message: str) -> ApiError:
    return ApiError(400, message, {"parameter": parameter})


def _names(columns: dict[str, Any]) -> str:
    return ", ".join(f"`{c}`" for c in columns) or "none"


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _source_kind(runtime: Runtime, upstream: str) -> str:
    """The kind of the source a pipeline reads, or `pipeline`."""
    kinds = {s.name: s.kind for s in runtime.compiled.manifest.sources}
    return kinds.get(upstream, "pipeline")


async def _from_store(call: Awaitable[T]) -> T:
    """A store query; a store that fails answers 503 (the request itself was fine)."""
    try:
        return await call
    except ApiError:
        raise
    except Exception as error:
        log.warning("store query failed: %s: %s", type(error).__name__, error)
        message = f"the store could not answer: {type(error).__name__}: {error}"
        raise ApiError(503, message) from error


def _run(row: dict[str, Any]) -> Run:
    started, finished = row["started_at"], row["finished_at"]
    duration = (finished - started).total_seconds() * 1000
    return Run(**{**row, "duration_ms": round(duration, 3)})


def _letter(row: dict[str, Any]) -> DeadLetter:
    return DeadLetter(**{**row, "id": str(row["id"]), "record": decode_json(row["record"])})


def _scheduled(scheduler: Any, source: str) -> bool:
    """Whether the scheduler still has a job for the source (a run-once source loses it)."""
    has_job = getattr(scheduler, "has_job", None)
    if callable(has_job):
        return bool(has_job(source))
    inner = getattr(scheduler, "scheduler", None)
    return inner is not None and inner.get_job(f"source:{source}") is not None


def _group(value: Any) -> str | float | bool | None:
    """A group's value as JSON: numbers and booleans as they are, the rest as text."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return float(value)
    return str(value)


def _scheduled_running(scheduler: Any, source: str) -> bool:
    is_running = getattr(scheduler, "is_running", None)
    if callable(is_running):
        return bool(is_running(source))
    return False
