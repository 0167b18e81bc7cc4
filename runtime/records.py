"""Raw JSON records to a Polars frame with a declared schema, in bulk, and strictly.

Shared by the sources that receive JSON (webhooks now, the HTTP source later):

- `parse_json` / `parse_ndjson` parse a body with orjson and say where it is malformed;
- `RecordsPath` finds the records inside a document (`records: "$.data[*]"`);
- `records_frame` turns the records into one frame with the schema's Polars types, plus
  each record's JSON text (kept whole for dead letters and the spool).

The conversion is strict: a record that does not fit the declared schema is rejected, never
silently altered (Polars' own JSON decoding would turn `4.5` into `4` for an `int`, or `5`
into `"5"` for a `str`). Arrow's JSON reader does the typed conversion in C++ and fails on
any mismatch; Polars then converts dates and durations and checks nulls, all in bulk. Only
when something does not fit does a Python walk (`explain`) look at records one by one, to
name the record and the field in the error.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json
from jsonpath import JSONPath, JSONPathError
from jsonpath import compile as compile_jsonpath

from flowc.dsl import durations
from flowc.dsl import types as t
from flowc.stdlib.connectors.base import found

Schema = Mapping[str, t.Type]
"""Declared fields in order: name -> Flow type (nullability included)."""

_INT64 = (-(2**63), 2**63 - 1)


class BodyError(ValueError):
    """A body that is not JSON, or not records: the message and a JSON-able detail."""

    def __init__(self, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class RecordError(BodyError):
    """A record that does not fit the declared schema (`index` counts from 0)."""

    def __init__(
        self,
        index: int | None,
        field: str | None,
        expected: str,
        value: Any,
        *,
        reason: str | None = None,
    ) -> None:
        where = f"record {index}" if index is not None else "a record"
        what = f"`{field}` should be {expected}" if field else f"should be {expected}"
        super().__init__(
            f"{where} does not fit the schema: {reason or f'{what}, found {_found(value)}'}",
            {"record": index, "field": field, "expected": expected},
        )
        self.index = index
        self.field = field


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return found(value)


# ---- bodies ----


def parse_json(body: bytes) -> Any:
    """One JSON document; a malformed one raises BodyError with its line and column."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(
            f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}",
            {"line": error.lineno, "column": error.colno, "position": error.pos},
        ) from None


def parse_ndjson(body: bytes) -> tuple[list[Any], list[bytes]]:
    """JSON lines: one document per non-blank line, and each line's text."""
    lines = [line for line in map(bytes.strip, body.split(b"\n")) if line]
    try:
        # map() with C functions: no Python frame per line on the way that succeeds.
        return list(map(orjson.loads, lines)), lines
    except orjson.JSONDecodeError:
        pass
    numbers = [i + 1 for i, line in enumerate(body.split(b"\n")) if line.strip()]
    for number, line in zip(numbers, lines, strict=True):
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise BodyError(
                f"malformed JSON at line {number}, column {error.colno}: {error.msg}",
                {"line": number, "column": error.colno},
            ) from None
    raise AssertionError("a line failed to parse, then parsed")  # pragma: no cover


def looks_like_ndjson(body: bytes) -> bool:
    """Whether a body that is not one JSON document reads as JSON lines: several non-blank
    lines, the first of them a document on its own."""
    first, _, rest = body.strip().partition(b"\n")
    if not rest.strip():
        return False
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return True


class RecordsPath:
    """Where the records are in a document: a JSONPath (RFC 9535, python-jsonpath).

    Every value the path matches is a record, except a list, which gives one record per
    item: `$.items` and `$.items[*]` mean the same. `$` is the common case and is not
    evaluated at all.
    """

    def __init__(self, path: str) -> None:
        self.text = path
        self._path: JSONPath | None = None
        if path != "$":
            try:
                compiled = compile_jsonpath(path)
            except JSONPathError as error:
                raise ValueError(f"invalid JSONPath {path!r}: {error}") from None
            assert isinstance(compiled, JSONPath), "compound paths are not records paths"
            self._path = compiled

    @property
    def is_root(self) -> bool:
        return self._path is None

    def select(self, document: Any) -> list[Any]:
        """The records in one document; BodyError when the path matches nothing."""
        if self._path is None:
            return list(document) if isinstance(document, list) else [document]
        matches = self._path.findall(document)
        if not matches:
            raise BodyError(
                f"nothing in the body at `{self.text}`, where the records should be",
                {"records": self.text},
            )
        records: list[Any] = []
        for match in matches:
            if isinstance(match, list):
                records.extend(match)
            else:
                records.append(match)
        return records


def require_objects(records: Sequence[Any], offset: int = 0) -> None:
    """Every record must be a JSON object (checked in C: one `map(type, ...)`)."""
    if set(map(type, records)) <= {dict}:
        return
    index = next(i for i, r in enumerate(records) if not isinstance(r, dict))
    raise BodyError(
        f"record {index + offset} is {_found(records[index])}, expected an object",
        {"record": index + offset},
    )


# ---- types ----


def polars_dtype(type_: t.Type) -> pl.DataType:
    """The Polars type of a Flow type, as the plan modules' INPUT_SCHEMA has it."""
    match type_.kind:
        case t.Kind.INT:
            return pl.Int64()
        case t.Kind.FLOAT:
            return pl.Float64()
        case t.Kind.BOOL:
            return pl.Boolean()
        case t.Kind.STR | t.Kind.JSON:
            return pl.String()
        case t.Kind.TIMESTAMP:
            return pl.Datetime("us", "UTC")
        case t.Kind.DATE:
            return pl.Date()
        case t.Kind.DURATION:
            return pl.Duration("us")
        case t.Kind.NULL:
            return pl.Null()
        case t.Kind.LIST:
            assert type_.elem is not None
            return pl.List(polars_dtype(type_.elem))
        case t.Kind.STRUCT:
            return pl.Struct({name: polars_dtype(ft) for name, ft in type_.fields})
    raise AssertionError(type_)


def polars_schema(schema: Schema) -> dict[str, pl.DataType]:
    return {name: polars_dtype(type_) for name, type_ in schema.items()}


def _has_json(type_: t.Type) -> bool:
    if type_.kind is t.Kind.JSON:
        return True
    if type_.kind is t.Kind.LIST:
        assert type_.elem is not None
        return _has_json(type_.elem)
    return any(_has_json(ft) for _, ft in type_.fields)


def _arrow_type(type_: t.Type) -> pa.DataType:
    """What Arrow's JSON reader reads a field as: dates and durations as their text."""
    match type_.kind:
        case t.Kind.INT:
            return pa.int64()
        case t.Kind.FLOAT:
            return pa.float64()
        case t.Kind.BOOL:
            return pa.bool_()
        case t.Kind.TIMESTAMP:
            return pa.timestamp("us", "UTC")
        case t.Kind.LIST:
            assert type_.elem is not None
            return pa.list_(_arrow_type(type_.elem))
        case t.Kind.STRUCT:
            return pa.struct([(name, _arrow_type(ft)) for name, ft in type_.fields])
        case t.Kind.NULL:
            return pa.null()
    return pa.string()  # str, date, duration


# ---- bulk conversion ----


def _finish(e: pl.Expr, type_: t.Type) -> tuple[pl.Expr, pl.Expr | None]:
    """The expression converting what Arrow read into the Polars type, and a mask of the
    values that do not fit (a null where none is allowed, a malformed date or duration);
    None when nothing can be wrong."""
    bad: pl.Expr | None = None if type_.may_be_null else e.is_null()
    converted = e
    match type_.kind:
        case t.Kind.DATE:
            converted = e.str.to_date("%Y-%m-%d", strict=False)
            bad = _or(bad, e.is_not_null() & converted.is_null())
        case t.Kind.DURATION:
            parts = e.str.extract_groups(r"^([0-9]+)(ms|s|m|h|d|w)$")
            amount = parts.struct.field("1").cast(pl.Int64, strict=False)
            unit = parts.struct.field("2").replace_strict(durations.MICROS, default=None,
                                                          return_dtype=pl.Int64)  # fmt: skip
            converted = (amount * unit).cast(pl.Duration("us"))
            bad = _or(bad, e.is_not_null() & converted.is_null())
        case t.Kind.LIST:
            assert type_.elem is not None
            inner, inner_bad = _finish(pl.element(), type_.elem)
            if _needs_conversion(type_.elem):
                converted = e.list.eval(inner)
            if inner_bad is not None:
                bad = _or(bad, e.list.eval(inner_bad).list.any().fill_null(False))
        case t.Kind.STRUCT:
            fields = [(n, *_finish(e.struct.field(n), ft)) for n, ft in type_.fields]
            if any(_needs_conversion(ft) for _, ft in type_.fields):
                rebuilt = pl.struct([conv.alias(n) for n, conv, _ in fields])
                converted = pl.when(e.is_null()).then(None).otherwise(rebuilt)
            for _, _, inner_bad in fields:
                if inner_bad is not None:
                    bad = _or(bad, e.is_not_null() & inner_bad.fill_null(False))
    return converted, bad


def _needs_conversion(type_: t.Type) -> bool:
    if type_.kind in (t.Kind.DATE, t.Kind.DURATION):
        return True
    if type_.kind is t.Kind.LIST:
        assert type_.elem is not None
        return _needs_conversion(type_.elem)
    return any(_needs_conversion(ft) for _, ft in type_.fields)


def _or(a: pl.Expr | None, b: pl.Expr) -> pl.Expr:
    return b if a is None else a | b


@dataclass(frozen=True)
class _Plan:
    """How one schema's records are converted, worked out once per schema."""

    arrow: pa.Schema  # the fields Arrow reads
    json_fields: tuple[str, ...]  # top-level json: their text, with orjson
    python_fields: tuple[str, ...]  # json nested in a list or struct: walked in Python
    finish: tuple[pl.Expr, ...]
    checks: tuple[tuple[str, pl.Expr], ...]


_PLANS: dict[tuple[tuple[str, t.Type], ...], _Plan] = {}


def _plan(schema: Schema) -> _Plan:
    key = tuple(schema.items())
    plan = _PLANS.get(key)
    if plan is None:
        arrow, json_fields, python_fields, finish, checks = [], [], [], [], []
        for name, type_ in schema.items():
            if type_.kind is t.Kind.JSON:
                json_fields.append(name)
            elif _has_json(type_):
                python_fields.append(name)
            else:
                arrow.append((name, _arrow_type(type_)))
                converted, bad = _finish(pl.col(name), type_)
                finish.append(converted.alias(name))
                if bad is not None:
                    checks.append((name, bad.fill_null(False)))
                continue
            finish.append(pl.col(name))
        plan = _Plan(pa.schema(arrow), tuple(json_fields), tuple(python_fields),
                     tuple(finish), tuple(checks))  # fmt: skip
        _PLANS[key] = plan
    return plan


def records_frame(
    raw_records: Sequence[Any], schema: Schema, *, texts: Sequence[bytes] | None = None
) -> tuple[pl.DataFrame, pl.Series]:
    """The records (decoded JSON objects) as a frame with the schema's Polars types, and
    their JSON text as a String series named `raw`.

    `texts` are the records' JSON texts when the caller has them (JSON lines as received);
    otherwise they are written with orjson. Raises RecordError, naming the record and the
    field, when a record does not fit; fields of type json take any value.
    """
    if texts is None:
        texts = list(map(orjson.dumps, raw_records))
    raw = pl.Series("raw", texts, dtype=pl.Binary).cast(pl.String)
    plan = _plan(schema)
    if not raw_records:
        return pl.DataFrame(schema=polars_schema(schema)), raw
    try:
        frame = _read_arrow(texts, plan.arrow)
        columns = [
            *(_json_column(raw_records, name) for name in plan.json_fields),
            *(_python_column(raw_records, name, schema[name]) for name in plan.python_fields),
        ]
        if columns:
            frame = frame.with_columns(columns)
        if plan.checks:
            masks = frame.select(pl.any_horizontal([mask for _, mask in plan.checks]))
            if masks.to_series().any():
                raise _Misfit("a value does not fit")
    except (pa.ArrowInvalid, pl.exceptions.PolarsError, _Misfit) as error:
        # Something does not fit: find the first record and field that do not, in Python.
        raise _explain_all(raw_records, schema, str(error)) from None
    # A frame without columns still says how many records there are (a schemaless source
    # whose pipelines read no field); `select` would lose that.
    return (frame.select(plan.finish) if plan.finish else frame), raw


class _Misfit(Exception):
    pass


def _read_arrow(texts: Sequence[bytes], schema: pa.Schema) -> pl.DataFrame:
    data = b"\n".join(texts)
    options = pa_json.ReadOptions(use_threads=len(data) > 4 << 20, block_size=len(data) + 1)
    parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    table = pa_json.read_json(io.BytesIO(data), read_options=options, parse_options=parse)
    frame = pl.from_arrow(table)  # with no column, it still has the records' count
    assert isinstance(frame, pl.DataFrame)
    return frame


def _json_column(records: Sequence[Any], name: str) -> pl.Series:
    # C-level map: orjson writes each value's JSON text; JSON null (or missing) is null.
    values = pl.Series(name, list(map(orjson.dumps, map(methodcaller("get", name), records))),
                       dtype=pl.Binary).cast(pl.String)  # fmt: skip
    return values.set(values == "null", None)


def _python_column(records: Sequence[Any], name: str, type_: t.Type) -> pl.Series:
    """A field with json nested in a list or struct: checked and converted in Python."""
    if any(_check(record.get(name), type_, name) is not None for record in records):
        raise _Misfit(name)
    values = [_python_value(record.get(name), type_) for record in records]
    return pl.Series(name, values, dtype=polars_dtype(type_))


def _python_value(value: Any, type_: t.Type) -> Any:
    if value is None:
        return None
    match type_.kind:
        case t.Kind.JSON:
            return orjson.dumps(value).decode()
        case t.Kind.TIMESTAMP:
            return _timestamp(value)
        case t.Kind.DATE:
            return dt.date.fromisoformat(value)
        case t.Kind.DURATION:
            return _duration(value)
        case t.Kind.LIST:
            assert type_.elem is not None
            return [_python_value(v, type_.elem) for v in value]
        case t.Kind.STRUCT:
            return {n: _python_value(value.get(n), ft) for n, ft in type_.fields}
    return float(value) if type_.kind is t.Kind.FLOAT else value


# ---- explaining what does not fit ----


def _explain_all(records: Sequence[Any], schema: Schema, reason: str) -> RecordError:
    for index, record in enumerate(records):
        problem = explain(record, schema, index)
        if problem is not None:
            return problem
    # Arrow refused what the walk accepts (a timestamp format, say): say what Arrow said.
    return RecordError(None, None, "declared", None, reason=reason)  # pragma: no cover


def explain(record: dict[str, Any], schema: Schema, index: int) -> RecordError | None:
    """Why a record does not fit the schema (the first field that does not), or None."""
    for name, type_ in schema.items():
        problem = _check(record.get(name), type_, name)
        if problem is not None:
            return RecordError(index, *problem)
    return None


def _check(value: Any, type_: t.Type, path: str) -> tuple[str, str, Any] | None:
    """(field path, expected type, value) of the first part of `value` that does not fit."""
    if value is None:
        return None if type_.may_be_null else (path, str(type_), value)
    kind = type_.kind
    ok = True
    if kind is t.Kind.INT:
        ok = type(value) is int and _INT64[0] <= value <= _INT64[1]
    elif kind is t.Kind.FLOAT:
        ok = type(value) in (int, float)
    elif kind is t.Kind.BOOL:
        ok = type(value) is bool
    elif kind is t.Kind.STR:
        ok = type(value) is str
    elif kind is t.Kind.TIMESTAMP:
        ok = type(value) is str and _timestamp(value) is not None
    elif kind is t.Kind.DATE:
        ok = type(value) is str and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
        ok = ok and _valid_date(value)
    elif kind is t.Kind.DURATION:
        ok = type(value) is str and durations.PATTERN.fullmatch(value) is not None
    elif kind is t.Kind.LIST:
        assert type_.elem is not None
        if type(value) is not list:
            return (path, str(type_.non_null()), value)
        for i, item in enumerate(value):
            problem = _check(item, type_.elem, f"{path}[{i}]")
            if problem is not None:
                return problem
    elif kind is t.Kind.STRUCT:
        if type(value) is not dict:
            return (path, str(type_.non_null()), value)
        for name, field_type in type_.fields:
            problem = _check(value.get(name), field_type, f"{path}.{name}")
            if problem is not None:
                return problem
    return None if ok else (path, str(type_.non_null()), value)


def _timestamp(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _valid_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _duration(value: str) -> dt.timedelta:
    return dt.timedelta(microseconds=durations.duration_us(value))
