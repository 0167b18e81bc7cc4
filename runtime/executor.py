"""One batch through one pipeline: the runtime's contract (docs/runtime.md), step by step.

The plan runs entirely in Polars on a worker thread (it releases the GIL), then: rejected
records to the dead-letter store, persistence in chunks, the cache, each sink's own queue,
the broadcast on `pipeline:<name>` (which feeds downstream pipelines and live views), and
the metrics. Nothing here loops over records in Python.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import polars as pl

from flowc.compiler.manifest import Pipeline
from flowc.compiler.polars_plan import ROW, PlanModule
from flowc.compiler.sql.spec import TableSpec
from flowc.runtime.cache import RecordCache
from flowc.runtime.metrics import PipelineMetrics
from flowc.runtime.pubsub import Broker, channel
from flowc.runtime.store.base import DEAD_LETTER_SCHEMA, Store

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Batch:
    """Records for a pipeline: a frame with its input schema, and the raw records as JSON
    text by row when they came from outside (kept whole in dead letters)."""

    frame: pl.DataFrame
    raw: pl.Series | None = None


@dataclass
class BatchOutcome:
    records_in: int = 0
    records_out: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    warned: int = 0
    stored: int = 0
    failed_rule: str | None = None  # a `fail` rule rejected the whole batch
    output: pl.DataFrame | None = None


class SinkQueue(Protocol):
    name: str

    def offer(self, pipeline: str, batch: pl.DataFrame) -> bool:
        """Queue a pipeline's batch for delivery without waiting; False when the buffer is
        full (the runner then keeps the batch in the dead-letter store)."""
        ...


@dataclass
class PipelineRunner:
    spec: Pipeline
    plan: PlanModule
    store: Store
    metrics: PipelineMetrics
    broker: Broker
    cache: RecordCache
    table: TableSpec | None = None  # None: memory only (or computed by TimescaleDB)
    sinks: Sequence[SinkQueue] = ()
    clock: Clock = utc_now
    # What steps remember between batches (`dedupe ... within`): the plan's `state:` outputs.
    state: dict[str, pl.DataFrame] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @cached_property
    def _rule_actions(self) -> dict[str, str]:
        """Each rule's action by id: fixed by the plan, so looked up once, not per batch."""
        return {rule["id"]: rule["action"] for rule in self.plan.rules}

    async def process(self, batch: Batch) -> BatchOutcome:
        # Batches of one pipeline are processed one at a time, in arrival order, so the
        # cache, broadcasts and downstream pipelines see them in order.
        async with self._lock:
            started = time.perf_counter()
            try:
                outcome = await self._process(batch)
            except Exception as error:
                self.metrics.failures += 1
                self.metrics.last_error = f"{type(error).__name__}: {error}"
                raise
            self.metrics.latencies.append(time.perf_counter() - started)
            return outcome

    async def _process(self, batch: Batch) -> BatchOutcome:
        now = self.clock()
        outcome = BatchOutcome(records_in=batch.frame.height)
        metrics = self.metrics
        metrics.batches += 1
        metrics.records_in += outcome.records_in
        outputs = self.plan.plan(batch.frame.lazy(), now, self.state)
        names = list(outputs)
        frames = await asyncio.to_thread(pl.collect_all, [outputs[n] for n in names])
        result = dict(zip(names, frames, strict=True))

        rejected = result["rejected"]
        remembered = {k: v for k, v in result.items() if k.startswith("state:")}
        failing = rejected.filter(pl.col("action") == "fail")
        if failing.height:
            return await self._reject_batch(batch, failing, now, outcome)
        await self._dead_letters(batch, rejected.filter(pl.col("action") == "dead_letter"), now)
        outcome.dead_lettered = int((rejected["action"] == "dead_letter").sum())
        for rule_id, count in result["counts"].iter_rows():
            if self._rule_actions.get(rule_id) == "warn":
                outcome.warned += int(count)
            else:
                outcome.dropped += int(count)

        if self.table is not None and "persist" in result:
            storage = self.spec.storage
            outcome.stored = await self.store.write(
                self.table,
                result["persist"],
                storage.batch if storage else 1000,
                upsert=storage.upsert if storage else False,
            )
        if "cache" in result or self.spec.cache:
            self.cache.add(result.get("cache", result["output"]))
        for sink in self.sinks:
            delivered = result.get(f"sink:{sink.name}", result["output"])
            if delivered.height and not sink.offer(self.spec.name, delivered):
                await self._undeliverable(sink.name, delivered, now)
        self.state.update(remembered)  # a rejected batch (`fail`) changes nothing
        output = result["output"]
        outcome.records_out = output.height
        outcome.output = output
        await self.broker.publish(channel(self.spec.name), output)

        metrics.records_out += outcome.records_out
        metrics.dead_lettered += outcome.dead_lettered
        metrics.dropped += outcome.dropped
        metrics.warned += outcome.warned
        metrics.stored += outcome.stored
        metrics.last_run = now
        return outcome

    async def _dead_letters(self, batch: Batch, rejected: pl.DataFrame, now: dt.datetime) -> None:
        if rejected.height == 0:
            return
        # The raw record when the row can be traced back to the input (as it came, or the
        # input row as JSON), else the row the rule saw (after an aggregate).
        rows = rejected[ROW]
        source = _records_as_json(batch)
        traced = source.gather(rows.fill_null(0)) if source.len() else rejected["record"]
        record = traced.zip_with(rows.is_not_null(), rejected["record"])
        letters = pl.DataFrame(
            {
                "pipeline": self.spec.name,
                "rule": rejected["rule"],
                "action": rejected["action"],
                "reason": rejected["reason"],
                "record": record,
                "at": now,
            },
            schema=DEAD_LETTER_SCHEMA,
        )
        await self.store.dead_letters(letters)

    async def _reject_batch(
        self, batch: Batch, failing: pl.DataFrame, now: dt.datetime, outcome: BatchOutcome
    ) -> BatchOutcome:
        """A `fail` rule failed: the whole batch goes to the dead letters, nothing else."""
        rule = str(failing["rule"][0])
        reason = f"the batch was rejected: {failing.height} record(s) failed `{rule}` (fail)"
        records = _records_as_json(batch)
        letters = pl.DataFrame(
            {"pipeline": self.spec.name, "rule": rule, "action": "fail", "reason": reason,
             "record": records, "at": now},
            schema=DEAD_LETTER_SCHEMA,
        )  # fmt: skip
        await self.store.dead_letters(letters)
        outcome.failed_rule = rule
        outcome.dead_lettered = batch.frame.height
        self.metrics.dead_lettered += outcome.dead_lettered
        self.metrics.failures += 1
        self.metrics.last_error = reason
        return outcome

    async def _undeliverable(self, sink: str, frame: pl.DataFrame, now: dt.datetime) -> None:
        """A sink's buffer is full: keep the batch in the dead-letter store, never drop it."""
        self.metrics.sink_failures[sink] = self.metrics.sink_failures.get(sink, 0) + frame.height
        records = frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()
        letters = pl.DataFrame(
            {"pipeline": self.spec.name, "rule": f"sink {sink}", "action": "undelivered",
             "reason": f"sink `{sink}` is not keeping up: its buffer is full",
             "record": records, "at": now},
            schema=DEAD_LETTER_SCHEMA,
        )  # fmt: skip
        await self.store.dead_letters(letters)


def _records_as_json(batch: Batch) -> pl.Series:
    """The batch's records as JSON text by row: as they came when known, else encoded."""
    if batch.raw is not None:
        return batch.raw
    return batch.frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()
