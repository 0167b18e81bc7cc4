"""The runtime: a compiled program wired to its store, sources, pipelines and sinks.

`Runtime.start` compiles the program in memory, opens the store and applies its plan
(creating or migrating tables), and builds one runner per pipeline; downstream pipelines
subscribe to their upstream's channel. `run_once` runs every polled source once and
waits for everything downstream; the server (`flowc.runtime.serve`) keeps it running.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from flowc.compiler.artifacts import Compiled, compile_unit
from flowc.compiler.checker import CheckResult
from flowc.compiler.manifest import Pipeline
from flowc.compiler.polars_plan import PlanModule
from flowc.compiler.sql.spec import TableSpec
from flowc.runtime.cache import RecordCache
from flowc.runtime.executor import Batch, BatchOutcome, Clock, PipelineRunner, utc_now
from flowc.runtime.metrics import Metrics
from flowc.runtime.pubsub import InProcessBroker, channel
from flowc.runtime.sinks.base import SinkWorker
from flowc.runtime.sinks.build import build_sink
from flowc.runtime.sources.base import PolledSource, RunResult
from flowc.runtime.sources.build import build_source
from flowc.runtime.store.base import RunRecord, Store
from flowc.runtime.store_plan import StorePlan

BatchHandler = Callable[[Batch], Awaitable[None]]
SINK_STOP_TIMEOUT = 10.0  # seconds a sink may take to deliver what it holds at shutdown


@dataclass
class PipelineSummary:
    name: str
    records_in: int = 0
    records_out: int = 0
    stored: int = 0
    rejected: int = 0


@dataclass
class Runtime:
    """Everything `flowc run` runs, for one program."""

    compiled: Compiled
    result: CheckResult
    store: Store
    plan: StorePlan
    broker: InProcessBroker = field(default_factory=InProcessBroker)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Clock = utc_now
    runners: dict[str, PipelineRunner] = field(default_factory=dict)
    caches: dict[str, RecordCache] = field(default_factory=dict)
    sources: dict[str, PolledSource] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    scheduler: Any = None  # set by `serve`: the API triggers runs through it
    sinks: dict[str, SinkWorker] = field(default_factory=dict)

    @classmethod
    async def start(
        cls,
        result: CheckResult,
        store: Store,
        *,
        allow_breaking: bool = False,
        clock: Clock = utc_now,
    ) -> Runtime:
        compiled = compile_unit(result)
        plan = await store.prepare(compiled, allow_breaking=allow_breaking)
        base_dir = Path(result.unit.root).resolve().parent
        runtime = cls(compiled, result, store, plan, clock=clock, base_dir=base_dir)
        runtime._build()
        for worker in runtime.sinks.values():
            worker.start()
        return runtime

    # ---- wiring ----

    def _build(self) -> None:
        manifest = self.compiled.manifest
        for sink in manifest.sinks:
            base = Path(sink.file).resolve().parent
            self.sinks[sink.name] = build_sink(
                sink, self.store, self.metrics, base, clock=self.clock
            )
        for spec in manifest.pipelines:
            plan = PlanModule(self.compiled.files[spec.plan], spec.plan)
            cache = RecordCache(spec.cache)
            self.caches[spec.name] = cache
            table = self._table(spec)
            self.runners[spec.name] = PipelineRunner(
                spec=spec,
                plan=plan,
                store=self.store,
                metrics=self.metrics.of(spec.name),
                broker=self.broker,
                cache=cache,
                table=table,
                sinks=[self.sinks[name] for name in spec.sinks],
                clock=self.clock,
            )
        for spec in manifest.pipelines:
            if spec.upstream_kind == "pipeline":
                self.broker.on(channel(spec.upstream), self._downstream(spec))
        for source in manifest.sources:
            polled = build_source(source, manifest.pipelines, self.clock)
            if polled is not None:
                self.sources[source.name] = polled

    def _table(self, spec: Pipeline) -> TableSpec | None:
        if spec.storage is None:
            return None
        # On TimescaleDB a continuous aggregate is computed by the database itself.
        if spec.storage.continuous_aggregate and self.store.dialect == "timescale":
            return None
        return self.compiled.tables[spec.name]

    def _downstream(self, spec: Pipeline) -> Callable[[pl.DataFrame], Awaitable[None]]:
        runner_name = spec.name

        async def handle(output: pl.DataFrame) -> None:
            runner = self.runners[runner_name]
            await runner.process(Batch(_conform(output, runner.plan.input_schema)))

        return handle

    def readers(self, source: str) -> list[PipelineRunner]:
        return [
            r
            for r in self.runners.values()
            if r.spec.upstream == source and r.spec.upstream_kind == "source"
        ]

    # ---- running ----

    async def emit(self, source: str, batch: Batch) -> list[BatchOutcome]:
        """Hand a source's batch to every pipeline that reads the source."""
        outcomes = []
        for runner in self.readers(source):
            frame = _conform(batch.frame, runner.plan.input_schema)
            outcomes.append(await runner.process(Batch(frame, batch.raw)))
        return outcomes

    async def run_source(self, name: str) -> RunResult:
        """One run of a polled source: its batches through every pipeline downstream."""
        source = self.sources[name]
        started = self.clock()
        before = {r.spec.name: _counts(r) for r in self.readers(name)}
        error: str | None = None
        try:
            return await source.run_once(lambda batch: self.emit(name, batch), self.store)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            await self._record_runs(name, started, before, error)

    async def _record_runs(
        self,
        source: str,
        started: dt.datetime,
        before: dict[str, tuple[int, int, int, int]],
        error: str | None,
    ) -> None:
        """One row of run history per pipeline reading the source, with this run's counts."""
        finished = self.clock()
        for runner in self.readers(source):
            m = runner.metrics
            m.runs += 1
            if error:
                m.failures += 1
                m.last_error = error
            now = _counts(runner)
            then = before.get(runner.spec.name, (0, 0, 0, 0))
            records_in, records_out, rejected, stored = (
                a - b for a, b in zip(now, then, strict=True)
            )
            await self.store.record_run(
                RunRecord(
                    runner.spec.name,
                    started,
                    finished,
                    records_in,
                    records_out,
                    rejected,
                    stored,
                    error,
                )
            )

    async def run_once(self) -> dict[str, PipelineSummary]:
        """Every polled source once, and everything that follows from it."""
        for name in self.sources:
            await self.run_source(name)
        await self.settled()
        return self.summary()

    def summary(self) -> dict[str, PipelineSummary]:
        out = {}
        for name, m in self.metrics.pipelines.items():
            out[name] = PipelineSummary(name, m.records_in, m.records_out, m.stored, m.rejected)
        return out

    async def replay(self) -> None:
        """Re-emit the webhook batches a previous process acknowledged but did not finish.

        The server does this as it starts; `flowc run --once` calls this instead.
        """
        from flowc.runtime.server import Webhooks, default_spool_dir

        webhooks = Webhooks(self, default_spool_dir(self))
        await webhooks.start()
        await webhooks.stop()

    async def settled(self) -> None:
        """Wait until every sink has delivered (or dead-lettered) what it was given."""
        await asyncio.gather(*(worker.settled() for worker in self.sinks.values()))

    async def drain(self) -> None:
        """Stop: let sinks deliver what they hold, then close sources and the store."""
        await self.close()

    async def close(self) -> None:
        # Sinks first: what they cannot deliver goes to the dead letters, in the store.
        await asyncio.gather(
            *(worker.stop(flush=True, timeout=SINK_STOP_TIMEOUT) for worker in self.sinks.values())
        )
        for source in self.sources.values():
            await source.close()
        await self.store.close()


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The frame with exactly the schema a plan expects: missing fields null, extras dropped."""
    columns = [
        (pl.col(n) if n in frame.columns else pl.lit(None)).cast(d).alias(n)
        for n, d in schema.items()
    ]
    return frame.select(columns)


def default_store_path(program: Path) -> Path:
    return program.parent / ".flowc" / f"{program.stem}.duckdb"


def _counts(runner: PipelineRunner) -> tuple[int, int, int, int]:
    m = runner.metrics
    return m.records_in, m.records_out, m.rejected, m.stored
