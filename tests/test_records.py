"""Raw JSON records to frames (runtime/records.py): types, strictness, bodies, JSONPath."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowc.compiler.artifacts import compile_unit
from flowc.compiler.checker import check_text
from flowc.compiler.polars_plan import PlanModule
from flowc.dsl import types as t
from flowc.runtime.records import (
    BodyError,
    RecordError,
    RecordsPath,
    explain,
    looks_like_ndjson,
    parse_json,
    parse_ndjson,
    polars_schema,
    records_frame,
    require_objects,
)

SCHEMA: dict[str, t.Type] = {
    "id": t.INT,
    "name": t.STR.nullable_(),
    "temp": t.FLOAT.nullable_(),
    "ok": t.BOOL.nullable_(),
    "ts": t.TIMESTAMP.nullable_(),
    "day": t.DATE.nullable_(),
    "every": t.DURATION.nullable_(),
    "meta": t.JSON,
    "tags": t.list_of(t.STR, nullable=True),
    "user": t.struct({"login": t.STR, "n": t.INT.nullable_()}, nullable=True),
    "marks": t.list_of(t.struct({"on": t.DATE, "note": t.JSON}), nullable=True),
}

PROGRAM = """\
source s: webhook {
  path: "/s"
  token: env("T")
  schema {
    id: int
    name: str?
    temp: float?
    ok: bool?
    ts: timestamp?
    day: date?
    every: duration?
    meta: json
    tags: list<str>?
    user: { login: str, n: int? }?
    marks: list<{ on: date, note: json }>?
  }
}
pipeline p from s { }
"""

UTC = dt.UTC


def test_polars_types_are_the_plans_input_schema() -> None:
    compiled = compile_unit(check_text(PROGRAM, "x.flow"))
    plan = PlanModule(compiled.files["p.py"], "p.py")
    assert polars_schema(SCHEMA) == plan.input_schema


def test_records_become_typed_columns() -> None:
    records = [
        {"id": 1, "name": "a", "temp": 2, "ok": True, "ts": "2026-01-01T01:00:00+01:00",
         "day": "2026-03-02", "every": "90s", "meta": {"x": [1, "y"]}, "tags": ["a", "b"],
         "user": {"login": "mona", "n": 3, "ignored": True},
         "marks": [{"on": "2026-01-02", "note": "s"}], "extra": 1},
        {"id": 2, "meta": "text"},
        {"id": 3, "meta": None, "user": None, "marks": []},
    ]  # fmt: skip
    frame, raw = records_frame(records, SCHEMA)
    assert frame.schema == polars_schema(SCHEMA)
    rows = frame.to_dicts()
    assert rows[0] == {
        "id": 1, "name": "a", "temp": 2.0, "ok": True, "ts": dt.datetime(2026, 1, 1, tzinfo=UTC),
        "day": dt.date(2026, 3, 2), "every": dt.timedelta(seconds=90), "meta": '{"x":[1,"y"]}',
        "tags": ["a", "b"], "user": {"login": "mona", "n": 3},
        "marks": [{"on": dt.date(2026, 1, 2), "note": '"s"'}],
    }  # fmt: skip
    assert rows[1]["meta"] == '"text"'  # json fields hold JSON text: a string stays quoted
    assert rows[1]["name"] is None
    assert rows[2]["meta"] is None
    assert rows[2]["marks"] == []
    assert raw.name == "raw"
    assert [orjson.loads(r) for r in raw] == records


def test_given_texts_are_kept_as_sent() -> None:
    texts = [b'{"id": 1,  "meta": 1}', b'{ "meta": [], "id": 2 }']
    frame, raw = records_frame([orjson.loads(x) for x in texts], SCHEMA, texts=texts)
    assert raw.to_list() == [x.decode() for x in texts]
    assert frame["id"].to_list() == [1, 2]


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        ({"id": 4.5}, "id", "`id` should be int, found the number 4.5"),
        ({"id": "3"}, "id", '`id` should be int, found a string "3"'),
        ({"id": True}, "id", "`id` should be int, found `true`"),
        ({"id": 2**63}, "id", "`id` should be int"),
        ({}, "id", "`id` should be int, found `null`"),
        ({"id": 1, "name": 5}, "name", "`name` should be str, found the number 5"),
        ({"id": 1, "name": {"a": 1}}, "name", "`name` should be str, found an object"),
        ({"id": 1, "temp": "1.5"}, "temp", "`temp` should be float"),
        ({"id": 1, "ok": 1}, "ok", "`ok` should be bool"),
        ({"id": 1, "ts": "soon"}, "ts", "`ts` should be timestamp"),
        ({"id": 1, "ts": 1767225600}, "ts", "`ts` should be timestamp"),
        ({"id": 1, "day": "2026-02-30"}, "day", "`day` should be date"),
        ({"id": 1, "every": "5 minutes"}, "every", "`every` should be duration"),
        ({"id": 1, "tags": "a"}, "tags", "`tags` should be list<str>, found a string"),
        ({"id": 1, "tags": ["a", None]}, "tags[1]", "`tags[1]` should be str, found `null`"),
        ({"id": 1, "user": {"n": 1}}, "user.login", "`user.login` should be str"),
        ({"id": 1, "user": [1]}, "user", "`user` should be { login: str, n: int? }"),
        ({"id": 1, "marks": [{"note": 1}]}, "marks[0].on", "`marks[0].on` should be date"),
    ],
)
def test_a_record_that_does_not_fit_names_the_record_and_field(
    record: dict[str, Any], field: str, message: str
) -> None:
    good = {"id": 0, "meta": None}
    with pytest.raises(RecordError) as caught:
        records_frame([good, good, record], SCHEMA)
    assert caught.value.index == 2
    assert caught.value.field == field
    assert caught.value.message.startswith("record 2 does not fit the schema: ")
    assert message in caught.value.message
    assert caught.value.detail == {
        "record": 2,
        "field": field,
        "expected": caught.value.detail["expected"],
    }


def test_no_records_give_an_empty_frame_with_the_schema() -> None:
    frame, raw = records_frame([], SCHEMA)
    assert frame.height == 0
    assert frame.schema == polars_schema(SCHEMA)
    assert raw.len() == 0


def test_schemaless_sources_keep_the_record_count() -> None:
    frame, _ = records_frame([{"a": 1}, {"b": 2}], {})
    assert frame.shape == (2, 0)
    frame, _ = records_frame([{"a": 1}, {"b": 2}], {"a": t.JSON})
    assert frame["a"].to_list() == ["1", None]


# ---- agreement between the bulk path and the per-record explanation ----

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)  # what orjson parses as int
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "2026-01-01", "2026-01-01T00:00:00Z", "5m", "1"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["login", "n"]), inner, max_size=2)
    ),
    max_leaves=6,
)
records_strategy = st.lists(
    st.fixed_dictionaries({}, optional=dict.fromkeys(SCHEMA, json_values)), max_size=4
)


@settings(max_examples=300, deadline=None)
@given(records_strategy)
def test_bulk_conversion_accepts_exactly_what_explain_accepts(
    records: list[dict[str, Any]],
) -> None:
    problems = [p for i, r in enumerate(records) if (p := explain(r, SCHEMA, i)) is not None]
    error = _conversion_error(records)
    if error is None:
        assert not problems, f"accepted, but {problems[0].message}"
    else:
        assert problems, f"rejected, but explain finds nothing: {error.message}"
        assert (error.index, error.field) == (problems[0].index, problems[0].field)


def _conversion_error(records: list[dict[str, Any]]) -> RecordError | None:
    try:
        frame, _ = records_frame(records, SCHEMA)
    except RecordError as error:
        return error
    assert frame.height == len(records)
    return None


# ---- bodies ----


def test_malformed_json_says_where() -> None:
    with pytest.raises(BodyError) as caught:
        parse_json(b'{"a": 1,\n "b": }')
    assert caught.value.detail["line"] == 2
    assert caught.value.detail["column"] == 7
    assert caught.value.message.startswith("malformed JSON at line 2, column 7")


def test_ndjson_lines_and_the_bad_line() -> None:
    documents, lines = parse_ndjson(b'{"a": 1}\r\n\n  {"a": 2}  \n')
    assert documents == [{"a": 1}, {"a": 2}]
    assert lines == [b'{"a": 1}', b'{"a": 2}']
    with pytest.raises(BodyError) as caught:
        parse_ndjson(b'{"a": 1}\n\n{"a": 2,}\n')
    assert caught.value.detail["line"] == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1}\n{"a": 2}', True),
        (b'{"a": 1}\n', False),
        (b'{"a": \n1}\n{"a": 2}', False),
        (b"[1,\n2", False),
    ],
)
def test_looks_like_ndjson(body: bytes, expected: bool) -> None:
    assert looks_like_ndjson(body) is expected


@pytest.mark.parametrize(
    ("path", "document", "records"),
    [
        ("$", {"a": 1}, [{"a": 1}]),
        ("$", [{"a": 1}, {"a": 2}], [{"a": 1}, {"a": 2}]),
        ("$.data", {"data": {"a": 1}}, [{"a": 1}]),
        ("$.data.items", {"data": {"items": [{"a": 1}, {"a": 2}]}}, [{"a": 1}, {"a": 2}]),
        ("$.data.items[*]", {"data": {"items": [{"a": 1}, {"a": 2}]}}, [{"a": 1}, {"a": 2}]),
        ("$.data[*].x", {"data": [{"x": {"a": 1}}, {"x": {"a": 2}}]}, [{"a": 1}, {"a": 2}]),
        ("$['odd key']", {"odd key": [{"a": 1}]}, [{"a": 1}]),
        ("$.data.items", {"data": {"items": []}}, []),
    ],
)
def test_records_path(path: str, document: Any, records: list[Any]) -> None:
    assert RecordsPath(path).select(document) == records


def test_records_path_that_matches_nothing() -> None:
    with pytest.raises(BodyError, match=r"nothing in the body at `\$\.data`"):
        RecordsPath("$.data").select({"other": 1})
    with pytest.raises(ValueError, match="invalid JSONPath"):
        RecordsPath("$.data[")


def test_records_must_be_objects() -> None:
    require_objects([{"a": 1}, {}])
    with pytest.raises(BodyError, match="record 1 is the number 5, expected an object"):
        require_objects([{"a": 1}, 5])


def test_frames_of_many_records_are_built_in_bulk() -> None:
    records = [{"id": i, "meta": {"i": i}, "ts": "2026-01-01T00:00:00Z"} for i in range(50_000)]
    frame, raw = records_frame(records, SCHEMA)
    assert frame.height == raw.len() == 50_000
    assert frame["id"].sum() == sum(range(50_000))
    assert frame.select(pl.col("meta").str.json_decode(pl.Struct({"i": pl.Int64}))).height
