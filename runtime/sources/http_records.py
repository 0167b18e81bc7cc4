"""A page's records as a batch, and the newest value of the incremental cursor in it.

The polled sources (http, and file for JSON documents) parse with orjson to follow their
JSONPaths, then hand the records to `flowc.runtime.records.records_frame`, the bulk and
strict conversion every JSON source shares (the webhook too), so a record that does not fit
the declared schema is reported the same way wherever it came from.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import polars as pl

from flowc.compiler.manifest import Pipeline, Source
from flowc.dsl import types as t
from flowc.runtime.executor import Batch
from flowc.runtime.jsonpath import Json
from flowc.runtime.records import BodyError, records_frame, require_objects

Schema = Mapping[str, t.Type]


def declared_schema(source: Source) -> Schema | None:
    """A manifest source's declared fields as Flow types; None when it declares none."""
    if source.fields is None:
        return None
    return {field.name: t.parse_spec(field.type) for field in source.fields}


def reader_schema(source: Source, pipelines: Iterable[Pipeline]) -> Schema | None:
    """The schema to build a source's batches with: its declared fields or, for a source
    that declares none (its records are `json`), every field the pipelines reading it use,
    each as `json?`, so they arrive as JSON text as the plans expect."""
    declared = declared_schema(source)
    if declared is not None:
        return declared
    fields: dict[str, t.Type] = {}
    for pipeline in pipelines:
        if pipeline.upstream == source.name and pipeline.upstream_kind == "source":
            for field in pipeline.input:
                fields.setdefault(field.name, t.parse_spec(field.type))
    return fields or None


def records_batch(
    records: Sequence[Json], schema: Schema | None, texts: Sequence[bytes] | None = None
) -> Batch:
    """The records as a batch with their JSON texts as `raw`. Raises BodyError (a record
    that is not an object) or RecordError (one that does not fit `schema`).

    Without a declared schema, the frame's types are inferred from all the records.
    """
    require_objects(records)
    if schema is not None:
        frame, raw = records_frame(records, schema, texts=texts)
        return Batch(frame, raw)
    if texts is None:
        texts = list(map(orjson.dumps, records))  # C-level map: no Python frame per record
    raw = pl.Series("raw", texts, dtype=pl.Binary).cast(pl.String)
    try:
        frame = pl.read_ndjson(io.BytesIO(b"\n".join(texts)), infer_schema_length=None)
    except pl.exceptions.PolarsError as error:  # e.g. a field that is a number, then a list
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise BodyError(f"the records' types cannot be inferred: {message}") from None
    return Batch(frame, raw)


def field_max(frame: pl.DataFrame, raw: pl.Series | None, field: str) -> Json:
    """The largest non-null value of `field` in the batch, as JSON (timestamps as ISO text
    in UTC); None when no record has one.

    A field of the declared schema is compared in its type; one the schema leaves out is read
    from the raw records, as numbers when every value is one and as text otherwise.
    """
    if field in frame.columns and _orderable(frame.schema[field]):
        column = frame.get_column(field)
    elif raw is not None and raw.len():
        column = pl.read_ndjson(
            io.BytesIO(raw.str.join("\n").item().encode()), schema={field: pl.String}
        ).get_column(field)
        numbers = column.cast(pl.Float64, strict=False)
        if numbers.null_count() == column.null_count():
            exact = column.cast(pl.Int64, strict=False)
            column = exact if exact.null_count() == column.null_count() else numbers
    else:
        return None
    return _json_value(column.drop_nulls().max())


def _orderable(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype.is_temporal() or dtype == pl.String


def _json_value(value: Any) -> Json:
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return utc.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.timedelta):
        return str(value)
    return value


def later(old: Json, new: Json) -> Json:
    """The later of two cursor values, so a checkpoint never moves back.

    Numbers compare as numbers; two texts that read as ISO 8601 timestamps compare as
    instants (`...00Z` and `...00.5Z` sort wrongly as text); other texts in lexical order.
    When the kinds differ (a numeric `initial` for a text field), the records win.
    """
    if old is None:
        return new
    if new is None:
        return old
    if _is_number(old) and _is_number(new):
        return max(old, new)
    if isinstance(old, str) and isinstance(new, str):
        old_at, new_at = _instant(old), _instant(new)
        if old_at is not None and new_at is not None:
            return new if new_at > old_at else old
        return max(old, new)
    return new


def _is_number(value: Json) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _instant(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
