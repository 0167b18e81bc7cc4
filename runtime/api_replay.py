"""Replaying a dead letter: its record, once more, through where it failed.

- A record a pipeline rejected (a `dead_letter` or `fail` rule) is rebuilt as a one-record
  batch of the pipeline's input (`records_frame`, as webhooks do) and processed by the
  pipeline's runner: stored, cached, sent and broadcast like any other batch.
- A record a sink could not deliver is offered to that sink again (it already went
  through the pipeline).
- A spooled webhook record that could not be processed (`source:<name>`) is handed to the
  pipelines reading that source.

The dead letter is deleted once the replay has run, whatever its outcome: a record
rejected again has a new dead letter, with the rule and reason of this time. A record
that no longer fits (the program changed) is refused with 409 and left where it is.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
import polars as pl

from flowc.runtime.api_errors import ApiError
from flowc.runtime.api_models import ReplayResult
from flowc.runtime.app import Runtime
from flowc.runtime.executor import Batch, BatchOutcome
from flowc.runtime.records import BodyError, Schema, records_frame

SINK_RULE = "sink "


async def replay(runtime: Runtime, letter: dict[str, Any]) -> ReplayResult:
    """Run the letter's record again (the caller deletes the letter afterwards)."""
    pipeline, rule = str(letter["pipeline"]), str(letter["rule"])
    record = _record(letter)
    if letter["action"] == "undelivered" and rule.startswith(SINK_RULE):
        return _to_sink(runtime, letter, pipeline, rule.removeprefix(SINK_RULE), record)
    if pipeline.startswith("source:"):
        source = pipeline.removeprefix("source:")
        outcomes = await _to_source(runtime, letter, source, record)
        return _result(letter, pipeline, outcomes)
    runner = runtime.runners.get(pipeline)
    if runner is None:
        raise _gone(letter, f"the program has no pipeline `{pipeline}` any more")
    schema: Schema = dict(runtime.compiled.pipelines[pipeline].input.fields)
    frame, raw = _frame(letter, record, schema, f"pipeline `{pipeline}`")
    outcome = await runner.process(Batch(_conform(frame, runner.plan.input_schema), raw))
    return _result(letter, pipeline, [outcome])


def _record(letter: dict[str, Any]) -> dict[str, Any]:
    try:
        record = orjson.loads(str(letter["record"]))
    except orjson.JSONDecodeError:
        raise _gone(letter, "the dead letter's record is not JSON") from None
    if not isinstance(record, dict):
        raise _gone(letter, "the dead letter's record is not a JSON object")
    return record


def _frame(
    letter: dict[str, Any], record: dict[str, Any], schema: Schema, where: str
) -> tuple[pl.DataFrame, pl.Series]:
    try:
        return records_frame([record], schema, texts=[str(letter["record"]).encode()])
    except BodyError as error:
        raise ApiError(
            409,
            f"the record no longer fits {where}: {error.message}",
            {"id": letter["id"], **error.detail},
        ) from None


def _to_sink(
    runtime: Runtime, letter: dict[str, Any], pipeline: str, sink: str, record: dict[str, Any]
) -> ReplayResult:
    worker = runtime.sinks.get(sink)
    compiled = runtime.compiled.pipelines.get(pipeline)
    if worker is None or compiled is None:
        raise _gone(letter, f"the program has no sink `{sink}` on pipeline `{pipeline}` any more")
    frame, _ = _frame(letter, record, dict(compiled.output.fields), f"sink `{sink}`")
    if not worker.offer(pipeline, frame):
        raise ApiError(409, f"sink `{sink}` is not keeping up: try again later", {"sink": sink})
    return ReplayResult(
        id=str(letter["id"]), pipeline=pipeline, outcome="queued", records_out=1, stored=0,
        dead_lettered=0, dropped=0, warned=0, failed_rule=None, deleted=False,
    )  # fmt: skip


async def _to_source(
    runtime: Runtime, letter: dict[str, Any], source: str, record: dict[str, Any]
) -> list[BatchOutcome]:
    from flowc.runtime.server import source_schema  # the server imports this module

    if source not in runtime.result.sources:
        raise _gone(letter, f"the program has no source `{source}` any more")
    frame, raw = _frame(letter, record, source_schema(runtime, source), f"source `{source}`")
    return await runtime.emit(source, Batch(frame, raw))


def _result(letter: dict[str, Any], pipeline: str, outcomes: list[BatchOutcome]) -> ReplayResult:
    def total(name: str) -> int:
        return sum(int(getattr(o, name)) for o in outcomes)

    failed = next((o.failed_rule for o in outcomes if o.failed_rule), None)
    outcome: Literal["processed", "rejected", "dropped"]
    if failed or total("dead_lettered"):
        outcome = "rejected"
    elif total("dropped"):
        outcome = "dropped"
    else:
        outcome = "processed"
    return ReplayResult(
        id=str(letter["id"]),
        pipeline=pipeline,
        outcome=outcome,
        records_out=total("records_out"),
        stored=total("stored"),
        dead_lettered=total("dead_lettered"),
        dropped=total("dropped"),
        warned=total("warned"),
        failed_rule=failed,
        deleted=False,
    )


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The frame with exactly the plan's input schema (as `Runtime.emit` gives it)."""
    return frame.select(
        (pl.col(n) if n in frame.columns else pl.lit(None)).cast(d).alias(n)
        for n, d in schema.items()
    )


def _gone(letter: dict[str, Any], why: str) -> ApiError:
    letter_id = letter["id"]
    return ApiError(409, f"dead letter {letter_id} cannot be replayed: {why}", {"id": letter_id})
