"""Pipelines as the API describes them: what they read, how they are doing, what they are.

Built from the compiled program (the manifest, the plan modules, the DDL files) and the
runtime's live state (metrics, the activity tracker, caches); nothing here touches the
store, so listing pipelines stays cheap enough for a dashboard to poll.
"""

from __future__ import annotations

import polars as pl

from flowc.compiler.manifest import Pipeline
from flowc.dsl import types as t
from flowc.runtime.api_activity import Activity
from flowc.runtime.api_errors import ApiError
from flowc.runtime.api_models import (
    PipelineDetail,
    PipelineMetrics,
    PipelineSchema,
    PipelineSummary,
    Schedule,
    SinkRef,
)
from flowc.runtime.app import Runtime
from flowc.runtime.sources.generate import GenerateSourceRunner


def pipeline_spec(runtime: Runtime, name: str) -> Pipeline:
    """The pipeline's manifest entry; 404 naming the known ones when there is none."""
    for spec in runtime.compiled.manifest.pipelines:
        if spec.name == name:
            return spec
    known = sorted(p.name for p in runtime.compiled.manifest.pipelines)
    raise ApiError(404, f"no pipeline `{name}`", {"pipeline": name, "pipelines": known})


def polled_source(runtime: Runtime, spec: Pipeline) -> str | None:
    """The source the scheduler polls for this pipeline, if it reads one."""
    if spec.upstream_kind == "source" and spec.upstream in runtime.sources:
        return spec.upstream
    return None


def _schedule(runtime: Runtime, spec: Pipeline) -> Schedule | None:
    if spec.upstream_kind != "source":
        return None
    source = next(s for s in runtime.compiled.manifest.sources if s.name == spec.upstream)
    every, cron = source.every_seconds, source.cron
    runner = runtime.sources.get(source.name)
    if every is None and cron is None and isinstance(runner, GenerateSourceRunner):
        # `rate` or `every` of a generate source; zero (as fast as possible) is no schedule.
        every = runner.config.interval().total_seconds() or None
    if every is None and cron is None:
        return None
    return Schedule(every_seconds=every, cron=cron)


def _source_kind(runtime: Runtime, spec: Pipeline) -> str:
    if spec.upstream_kind == "pipeline":
        return "pipeline"
    return next(s.kind for s in runtime.compiled.manifest.sources if s.name == spec.upstream)


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 3) if seconds is not None else None


def summary(runtime: Runtime, activity: Activity, spec: Pipeline) -> PipelineSummary:
    m = runtime.metrics.of(spec.name)
    return PipelineSummary(
        name=spec.name,
        upstream=spec.upstream,
        upstream_kind=spec.upstream_kind,
        source_kind=_source_kind(runtime, spec),
        schedule=_schedule(runtime, spec),
        status=activity.status(spec.name),
        last_run=m.last_run,
        last_error=m.last_error,
        metrics=PipelineMetrics(
            records_in=m.records_in,
            records_out=m.records_out,
            rejected=m.rejected,
            dead_lettered=m.dead_lettered,
            dropped=m.dropped,
            warned=m.warned,
            stored=m.stored,
            batches=m.batches,
            runs=m.runs,
            failures=m.failures,
            latency_p50_ms=_ms(m.latency_quantile(0.5)),
            latency_p99_ms=_ms(m.latency_quantile(0.99)),
        ),
        records_per_minute=activity.records_per_minute(spec.name),
    )


def plan_text(runtime: Runtime, name: str) -> str:
    """The optimized Polars plan of the pipeline's output, as `flowc explain` prints it."""
    plan = runtime.runners[name].plan
    outputs = plan.plan(pl.LazyFrame(schema=plan.input_schema), runtime.clock())
    return outputs["output"].explain()


def detail(runtime: Runtime, activity: Activity, spec: Pipeline, plan: str) -> PipelineDetail:
    sql: dict[str, str] = {}
    if spec.storage is not None:
        sql = {d: runtime.compiled.files[f] for d, f in spec.storage.ddl.items()}
    kinds = {s.name: s.kind for s in runtime.compiled.manifest.sinks}
    base = summary(runtime, activity, spec).model_dump()
    return PipelineDetail.model_validate(
        {
            **base,
            "schema": PipelineSchema(input=spec.input, output=spec.output),
            "rules": spec.rules,
            "storage": spec.storage,
            "sql": sql,
            "plan": plan,
            "sinks": [SinkRef(name=s, kind=kinds.get(s, "unknown")) for s in spec.sinks],
            "downstream": spec.downstream,
            "cache_size": spec.cache,
        }
    )


def json_fields(runtime: Runtime, name: str) -> set[str]:
    """The pipeline's output fields of type `json` (held as JSON text in frames)."""
    output = runtime.compiled.pipelines[name].output
    return {field for field, type_ in output.fields if type_.kind is t.Kind.JSON}


def numeric_columns(runtime: Runtime, name: str) -> dict[str, t.Type]:
    """The stored columns a series can aggregate (int and float)."""
    persist = runtime.compiled.pipelines[name].persist
    if persist is None:
        return {}
    return {
        column: type_
        for column, type_ in persist.schema.fields
        if type_.kind in (t.Kind.INT, t.Kind.FLOAT)
    }
