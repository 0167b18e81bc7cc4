"""What a persisted pipeline's table looks like, free of any dialect.

The DDL generators take these specs; the checker's results are turned into them by
`flowc.compiler.lower`. Keeping the spec separate lets the DDL be tested on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlglot.expressions as exp

from flowc.dsl.types import Type


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: Type  # nullability is `type.nullable`


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A pipeline's table: a hypertable on TimescaleDB, a plain table elsewhere."""

    name: str
    columns: tuple[ColumnSpec, ...]
    time: str
    key: tuple[str, ...] = ()
    chunk: dt.timedelta = dt.timedelta(days=1)
    retention: dt.timedelta | None = None
    compress_after: dt.timedelta | None = None
    indexes: tuple[tuple[str, ...], ...] = ()

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True, slots=True)
class ContinuousAggregateSpec:
    """An `aggregate` pipeline over a persisted one, as a TimescaleDB continuous aggregate.

    `select` is the view's query, built with sqlglot from the pipeline's IR (time_bucket,
    GROUP BY, the aggregates); the DDL generator wraps it in the `WITH
    (timescaledb.continuous)` template, which sqlglot cannot parse or render.
    """

    name: str
    source_table: str
    bucket: dt.timedelta
    select: exp.Select
    # The refresh policy: how far back and up to where the view is kept current, and how often.
    start_offset: dt.timedelta | None = None
    end_offset: dt.timedelta = field(default=dt.timedelta(hours=1))
    schedule_interval: dt.timedelta = field(default=dt.timedelta(hours=1))
