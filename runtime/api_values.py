"""Records as JSON for the API and the live stream: every value a browser can read.

Polars values that JSON has no word for become the forms the API documents: timestamps
ISO 8601 in UTC (`2026-02-01T12:00:00Z`), dates `2026-02-01`, durations a number of
seconds, NaN and infinities null, and `json` fields the JSON value their text holds (not
a string to parse again). Flat columns are converted in Polars, in bulk; only nested
columns (lists, records) are walked in Python, and the API never converts more than a
bounded number of rows (a cache, or the head of a broadcast batch).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from typing import Any

import orjson
import polars as pl

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"


def iso(value: dt.datetime) -> str:
    """A timestamp in UTC as ISO 8601 with a `Z` (naive ones are taken to be UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def rows_json(frame: pl.DataFrame, json_fields: Collection[str] = ()) -> list[dict[str, Any]]:
    """The frame's rows as JSON-ready dicts; `json_fields` hold JSON text to decode."""
    columns = [_flat(name, dtype) for name, dtype in frame.schema.items()]
    rows = frame.select(columns).to_dicts()
    nested = [n for n, d in frame.schema.items() if d.is_nested()]
    decoded = [n for n in json_fields if n in frame.schema and frame.schema[n] == pl.String]
    for row in rows:
        for name in nested:
            row[name] = json_value(row[name])
        for name in decoded:
            row[name] = decode_json(row[name])
    return rows


def _flat(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.strftime(ISO_FORMAT)
    if isinstance(dtype, pl.Date):
        return column.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Duration):
        return (column.dt.total_microseconds() / 1_000_000).alias(name)
    if dtype.is_float():
        return pl.when(column.is_finite()).then(column).otherwise(None).alias(name)
    return column


def json_value(value: Any) -> Any:
    """One value (of a nested column, or from a store row) made JSON-ready."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def decode_json(text: Any) -> Any:
    """JSON text as its value; text that is not JSON is given back as it is."""
    if not isinstance(text, str | bytes):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
