"""The `generate` source: synthetic batches for demos, tests and benchmarks.

Each batch is drawn column by column with NumPy's generator, so a million records cost a
few vectorised calls, not a million Python ones. With a `seed`, runs repeat exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator

import numpy as np
import polars as pl

from flowc.compiler.polars_expr import dtype
from flowc.dsl.types import parse_spec
from flowc.runtime.executor import Batch
from flowc.runtime.sources.base import Emit, RunResult, SourceState
from flowc.stdlib.connectors.generate import FieldSpec, GenerateSource, generated_schema


class Generator:
    """Draws batches; `next_batch(now)` until `exhausted`."""

    def __init__(self, config: GenerateSource) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.produced = 0
        schema = generated_schema(config)
        # The generated module's dtypes, evaluated from the same source text.
        self.schema = {n: eval(dtype(parse_spec(spec)), {"pl": pl}) for n, spec in schema.items()}

    @property
    def exhausted(self) -> bool:
        return self.config.count is not None and self.produced >= self.config.count

    def next_batch(self, now: dt.datetime) -> pl.DataFrame:
        size = self.config.batch_size()
        if self.config.count is not None:
            size = min(size, self.config.count - self.produced)
        columns = {name: self._column(spec, size, now) for name, spec in self.config.fields.items()}
        frame = pl.DataFrame(columns).cast(self.schema)  # type: ignore[arg-type]
        self.produced += size
        return frame

    def batches(self, now: dt.datetime) -> Iterator[pl.DataFrame]:
        while not self.exhausted:
            yield self.next_batch(now)

    def _column(self, spec: FieldSpec, size: int, now: dt.datetime) -> pl.Series:
        rng = self.rng
        values: pl.Series
        if spec.sequence is not None:
            start = spec.sequence + self.produced
            values = pl.Series(np.arange(start, start + size, dtype=np.int64))
        elif spec.choice is not None:
            weights = None
            if spec.weights is not None:
                total = float(sum(spec.weights))
                weights = [w / total for w in spec.weights]
            picks = rng.choice(len(spec.choice), size=size, p=weights)
            values = pl.Series(spec.choice).gather(pl.Series(picks))
        elif spec.uniform is not None:
            values = pl.Series(rng.uniform(spec.uniform.min, spec.uniform.max, size))
        elif spec.normal is not None:
            values = pl.Series(rng.normal(spec.normal.mean, spec.normal.std, size))
        elif spec.int_range is not None:
            values = pl.Series(
                rng.integers(spec.int_range.min, spec.int_range.max, size, endpoint=True)
            )
        elif spec.now:
            values = pl.repeat(now, size, eager=True, dtype=pl.Datetime("us", "UTC"))
        else:
            values = pl.repeat(spec.constant, size, eager=True)
        if spec.null_rate > 0 and size:
            mask = pl.Series(rng.random(size) < spec.null_rate)
            values = values.zip_with(~mask, pl.Series([None] * size, dtype=values.dtype))
        return values


class GenerateSourceRunner:
    """The `generate` source as a PolledSource: one batch per run, or all of `count`
    when the source has neither `rate` nor `every` (a fixed data set, as fast as possible)."""

    def __init__(self, name: str, config: GenerateSource, clock: Callable[[], dt.datetime]) -> None:
        self.name = name
        self.config = config
        self.generator = Generator(config)
        self.clock = clock

    @property
    def paced(self) -> bool:
        return self.config.rate is not None or self.config.every is not None

    async def run_once(self, emit: Emit, state: SourceState) -> RunResult:
        result = RunResult()
        if self.generator.exhausted:
            return result
        if self.paced:
            frame = self.generator.next_batch(self.clock())
            await emit(Batch(frame))
            return RunResult(frame.height, 1)
        # As fast as possible: draw the next batch on a worker thread while the pipelines
        # process (and the store writes) this one.
        upcoming: asyncio.Task[pl.DataFrame] | None = asyncio.create_task(
            asyncio.to_thread(self.generator.next_batch, self.clock())
        )
        while upcoming is not None:
            frame = await upcoming
            upcoming = None
            if not self.generator.exhausted:
                upcoming = asyncio.create_task(
                    asyncio.to_thread(self.generator.next_batch, self.clock())
                )
            await emit(Batch(frame))
            result.records += frame.height
            result.batches += 1
        return result

    async def close(self) -> None:
        return None
