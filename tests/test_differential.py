"""Differential: random records through a pipeline's Polars plan and its SQL in DuckDB.

Both back ends are generated from the same IR; on the same input they must give the
same rows, in the same order. Hypothesis draws the records, nulls and edge values
included, so the semantics of operators, null handling and steps are pinned down by
the agreement of two engines rather than by hand-written expectations alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl
import pytest
import sqlglot.expressions as exp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.compiler import ir
from flowc.compiler.checker import check_text
from flowc.compiler.lower import lower_program
from flowc.compiler.polars_plan import PlanModule, polars_module
from flowc.compiler.sql.pipeline import PipelineSql
from flowc.runtime.testing import same

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

PROGRAM = """\
source s: file {
  path: "in.jsonl"
  schema {
    id: int
    city: str?
    temp: float?
    count: int?
    ts: timestamp
  }
}

pipeline mapped from s {
  map {
    id = id
    count = count
    city = city ?? "unknown"
    temp = temp
    warm = temp > 20.0
    band = if temp ?? 0.0 > 25.0 then "hot" else if temp ?? 0.0 < 5.0 then "cold" else "mild"
    kind = match city { "a" => 1, "b" => 2, _ => 0 }
    ratio = count / 3
    rest = count % 3
    total = (count ?? 0) * 2 + id
    label = (city ?? "-") ++ ":" ++ "x"
    in_set = city in ["a", "c"]
    ranged = count between -2 and 5
    neg = -(temp ?? 1.5)
    ts = ts
    later = ts + 1h
  }
  where id % 2 == 0 or temp != null
  validate {
    temp between -50.0 and 50.0 else drop
    required count else dead_letter
    city in ["a", "b", "c", "unknown"] else warn
  }
  derive { double = total * 2 }
  rename { double -> twice }
  drop later
}

pipeline deduped from mapped {
  dedupe by (city, kind)
  select id, city, kind, twice
}

pipeline hourly from mapped {
  aggregate every 1h by city {
    n = count()
    biggest = max(total)
    smallest = min(temp)
    summed = sum(count)
  }
}
"""

RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(-1000, 1000),
            "city": st.none() | st.sampled_from(["a", "b", "c", "d", ""]),
            "temp": st.none() | st.floats(-100, 100, allow_nan=False).map(lambda f: round(f, 3)),
            "count": st.none() | st.integers(-10, 10),
            "ts": st.datetimes(
                min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 1, 3)
            ).map(lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)),
        }
    ),
    max_size=25,
)


@pytest.fixture(scope="module")
def pipelines() -> dict[str, ir.PipelineIR]:
    result = check_text(PROGRAM, "differential.flow")
    assert result.ok, [d.message for d in result.diagnostics]
    return lower_program(result)


def _polars(pipelines: dict[str, ir.PipelineIR], name: str, frame: pl.DataFrame) -> pl.DataFrame:
    pipeline = pipelines[name]
    module = PlanModule(polars_module(pipeline, "differential.flow"), name)
    return module.plan(frame.lazy(), NOW)["output"].collect()


def _duckdb(pipeline: ir.PipelineIR, frame: pl.DataFrame) -> list[dict[str, Any]]:
    now = exp.cast(exp.Literal.string(NOW.isoformat(sep=" ")), exp.DataType.build("TIMESTAMPTZ"))
    query = PipelineSql("duckdb", now).query(pipeline, "input").sql(dialect="duckdb")
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        source = frame.with_row_index("__row")
        conn.register("input", source.to_arrow())
        cursor = conn.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _assert_same(polars_rows: list[dict[str, Any]], sql_rows: list[dict[str, Any]]) -> None:
    assert len(polars_rows) == len(sql_rows)
    for p_row, s_row in zip(polars_rows, sql_rows, strict=True):
        assert p_row.keys() == s_row.keys()
        for key in p_row:
            assert same(s_row[key], p_row[key]) or (p_row[key] is None and s_row[key] is None), (
                f"{key}: Polars {p_row[key]!r}, DuckDB {s_row[key]!r}\n{p_row}\n{s_row}"
            )


def _input(records: list[dict[str, Any]], pipeline: ir.PipelineIR) -> pl.DataFrame:
    from flowc.compiler.polars_expr import dtype

    schema = {n: eval(dtype(t), {"pl": pl}) for n, t in pipeline.input.fields}
    return (
        pl.DataFrame(records, schema=schema, orient="row")
        if records
        else pl.DataFrame(schema=schema)
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=RECORDS)
def test_polars_and_duckdb_agree(
    pipelines: dict[str, ir.PipelineIR], records: list[dict[str, Any]]
) -> None:
    frame = _input(records, pipelines["mapped"])
    mapped = _polars(pipelines, "mapped", frame)
    _assert_same(_rows(mapped), _duckdb(pipelines["mapped"], frame))
    for downstream in ("deduped", "hourly"):
        result = _polars(pipelines, downstream, mapped)
        _assert_same(_rows(result), _duckdb(pipelines[downstream], mapped))
