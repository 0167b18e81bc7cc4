"""A stored pipeline's history, bucketed in the database: one query per dialect, pure.

The API's `/series` endpoint draws charts over ranges of days or months; reading every row
to bucket them in Python would move the whole table through the network, so the database
does it: `time_bucket` on TimescaleDB and DuckDB, `date_bin` on plain PostgreSQL (14+).
Buckets are aligned to the Unix epoch in UTC in every dialect, like an `aggregate every D`
step, so the same range gives the same buckets whatever the store.

Every value (the bucket width, the origin, the range, the limit) is a query parameter;
only identifiers, which come from the compiled program, are part of the SQL text, quoted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

import sqlglot.expressions as exp

from flowc.compiler.sql.types import Dialect

Agg = Literal["avg", "min", "max", "sum", "count"]
AGGS: tuple[Agg, ...] = get_args(Agg)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_UNITS = {
    "ms": dt.timedelta(milliseconds=1),
    "s": dt.timedelta(seconds=1),
    "m": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
}
_DURATION = re.compile(r"([0-9]{1,9})(ms|s|m|h|d|w)")
# Widths a default bucket is chosen from: round numbers a person reads at a glance.
_NICE_SECONDS = (1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                 86400, 604800)  # fmt: skip
_NICE = tuple(dt.timedelta(seconds=s) for s in _NICE_SECONDS)
_AGGREGATES: dict[str, type[exp.AggFunc]] = {
    "avg": exp.Avg,
    "min": exp.Min,
    "max": exp.Max,
    "sum": exp.Sum,
}


def parse_duration(text: str) -> dt.timedelta:
    """`5m`, `1h30m`, `500ms`: units ms, s, m, h, d, w. Raises ValueError saying why."""
    cleaned = text.strip()
    position = 0
    total = dt.timedelta()
    for match in _DURATION.finditer(cleaned):
        if match.start() != position:
            break
        try:
            total += int(match.group(1)) * _UNITS[match.group(2)]
        except OverflowError:
            raise ValueError(f"the duration `{text}` is too long") from None
        position = match.end()
    if not cleaned or position != len(cleaned):
        raise ValueError(
            f"`{text}` is not a duration: write a number and a unit (ms, s, m, h, d, w), "
            "like 30s, 5m, 1h or 1h30m"
        )
    if total <= dt.timedelta():
        raise ValueError(f"the duration `{text}` must be longer than zero")
    return total


def format_duration(value: dt.timedelta) -> str:
    """The shortest way `parse_duration` reads back: 300 s is `5m`, 5400 s `1h30m`."""
    remaining = value
    parts = []
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = _UNITS[unit]
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def default_bucket(span: dt.timedelta, max_points: int = 1000) -> dt.timedelta:
    """The smallest round width that draws `span` in at most `max_points` buckets."""
    for width in _NICE:
        if span / width <= max_points:
            return width
    # Longer than ~19 years at a week a bucket: whole weeks, as many as needed.
    weeks = -(-span // (_NICE[-1] * max_points))
    return _NICE[-1] * weeks


@dataclass(frozen=True)
class SeriesQuery:
    """What to read: `agg` of `field` (None: count rows) per `bucket` in [start, end)."""

    table: str
    time: str
    start: dt.datetime
    end: dt.datetime
    bucket: dt.timedelta
    agg: Agg
    field: str | None = None
    time_is_date: bool = False  # a `date` time column is bucketed as midnight UTC
    limit: int = 100_000
    by: str | None = None  # one series per value of this field (a chart's `series`)


def series_sql(query: SeriesQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    """The SQL for `dialect` and its positional parameters (in the order they appear).

    Its rows have two columns: `bucket` (the bucket's start, a timestamp with time zone)
    and `value` (a double, or a bigint for `count`); empty buckets are absent. With `by`,
    a third column `group` holds the value of that field, and there is a row per group.
    """
    if query.agg != "count" and query.field is None:
        raise ValueError(f"`{query.agg}` needs a field")
    time = _col(query.time)
    timestamp = exp.cast(time, exp.DataType.build("TIMESTAMPTZ")) if query.time_is_date else time
    width = exp.cast(exp.Placeholder(), exp.DataType.build("INTERVAL"))
    origin = exp.cast(exp.Placeholder(), exp.DataType.build("TIMESTAMPTZ"))
    function = "date_bin" if dialect == "postgres" else "time_bucket"
    bucket = exp.Anonymous(this=function, expressions=[width, timestamp, origin])
    value: exp.Expression
    if query.agg == "count":
        value = exp.Count(this=_col(query.field) if query.field else exp.Star())
    else:
        assert query.field is not None
        aggregate = _AGGREGATES[query.agg](this=_col(query.field))
        value = exp.cast(aggregate, exp.DataType.build("DOUBLE"))
    since = exp.cast(exp.Placeholder(), exp.DataType.build("TIMESTAMPTZ"))
    until = exp.cast(exp.Placeholder(), exp.DataType.build("TIMESTAMPTZ"))
    columns = [bucket.as_("bucket", quoted=True), value.as_("value", quoted=True)]
    keys: list[exp.Expression] = [exp.Literal.number(1)]
    if query.by is not None:
        columns.append(_col(query.by).as_("group", quoted=True))
        keys.append(exp.Literal.number(3))
    select = (
        exp.select(*columns)
        .from_(exp.Table(this=exp.to_identifier(query.table, quoted=True)))
        .where(exp.GTE(this=time, expression=since))
        .where(exp.LT(this=time.copy(), expression=until))
        .group_by(*keys)
        .order_by(*keys)
        .limit(exp.Placeholder())
    )
    params: list[Any] = [query.bucket, EPOCH, query.start, query.end, query.limit]
    return select.sql(dialect=_sqlglot_dialect(dialect)), params


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _sqlglot_dialect(dialect: Dialect) -> str:
    return "duckdb" if dialect == "duckdb" else "postgres"
