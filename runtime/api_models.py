"""What the REST API answers, as pydantic models: they validate the answers and they are
the schemas `/openapi.json` publishes, so the dashboards and any client read one contract.

Field names are the API's contract (docs/api.md): renaming one breaks clients.
Timestamps are ISO 8601 in UTC; durations are seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowc.compiler.manifest import Field as SchemaField
from flowc.compiler.manifest import Rule, Storage

Status = Literal["ok", "failing", "idle"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Model):
    """Every error: what went wrong in a sentence, and what it is about."""

    error: str
    detail: Any = None


class Schedule(_Model):
    every_seconds: float | None = None
    cron: str | None = None


class PipelineMetrics(_Model):
    """Counters since the server started."""

    records_in: int
    records_out: int
    rejected: int
    dead_lettered: int
    dropped: int
    warned: int
    stored: int
    batches: int
    runs: int
    failures: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None


class PipelineSummary(_Model):
    name: str
    upstream: str
    upstream_kind: Literal["source", "pipeline"]
    source_kind: str = Field(description="the upstream source's kind, or `pipeline`")
    schedule: Schedule | None
    status: Status
    last_run: dt.datetime | None
    last_error: str | None
    metrics: PipelineMetrics
    records_per_minute: float


class PipelineList(_Model):
    pipelines: list[PipelineSummary]


class PipelineSchema(_Model):
    input: list[SchemaField]
    output: list[SchemaField]


class SinkRef(_Model):
    name: str
    kind: str


class PipelineDetail(PipelineSummary):
    schema_: PipelineSchema = Field(alias="schema", serialization_alias="schema")
    rules: list[Rule]
    storage: Storage | None
    sql: dict[str, str] = Field(description="the table's DDL by dialect")
    plan: str = Field(description="the optimized Polars plan of the pipeline's output")
    sinks: list[SinkRef]
    downstream: list[str]
    cache_size: int


class RecordsPage(_Model):
    pipeline: str
    count: int
    records: list[dict[str, Any]] = Field(description="most recent first")


class SeriesPoint(_Model):
    time: dt.datetime = Field(description="the start of the bucket")
    value: float | None
    group: str | float | bool | None = Field(
        default=None, description="with `by`: the value of that field for this series"
    )


class Series(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pipeline: str
    agg: Literal["avg", "min", "max", "sum", "count"]
    field: str | None
    bucket: str
    bucket_seconds: float
    by: str | None = Field(default=None, description="the field the series are split by")
    from_: dt.datetime = Field(alias="from", serialization_alias="from")
    to: dt.datetime
    points: list[SeriesPoint]


class Run(_Model):
    pipeline: str
    started_at: dt.datetime
    finished_at: dt.datetime
    duration_ms: float
    records_in: int
    records_out: int
    rejected: int
    stored: int
    error: str | None


class RunList(_Model):
    pipeline: str
    runs: list[Run] = Field(description="newest first")


class DeadLetter(_Model):
    id: str
    pipeline: str
    rule: str
    action: str
    reason: str | None
    record: Any = Field(description="the record as it arrived (JSON)")
    at: dt.datetime


class DeadLetterList(_Model):
    dead_letters: list[DeadLetter] = Field(description="newest first")


class ReplayResult(_Model):
    id: str
    pipeline: str
    outcome: Literal["processed", "rejected", "dropped", "queued"]
    records_out: int
    stored: int
    dead_lettered: int
    dropped: int
    warned: int
    failed_rule: str | None
    deleted: bool = Field(description="whether the dead letter was removed")


class RunAccepted(_Model):
    pipeline: str
    source: str
    status: Literal["triggered"]
