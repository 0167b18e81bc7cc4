"""Pipeline `hot` of sensors.flow, compiled by flowc 0.1.0.

Generated code: edit the .flow file and run `flowc compile` again. See
`flowc.compiler.polars_plan` for what `plan` returns.
"""

import datetime as dt

import polars as pl

PIPELINE = "hot"
UPSTREAM = "readings"

INPUT_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "sensor": pl.String,
    "temp_c": pl.Float64,
}

OUTPUT_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "sensor": pl.String,
    "temp_c": pl.Float64,
}

RULES = []

REJECTED_SCHEMA = {
    "__row": pl.UInt32,
    "rule": pl.String,
    "action": pl.String,
    "reason": pl.String,
    "record": pl.String,
}

COUNTS_SCHEMA = {"rule": pl.String, "count": pl.UInt32}


def _concat(frames: list[pl.LazyFrame], schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    return pl.concat(frames) if frames else pl.LazyFrame(schema=schema)


def _kept(
    state: dict[str, pl.DataFrame], name: str, schema: dict[str, pl.DataType]
) -> pl.LazyFrame:
    """The rows an `aggregate` kept of its open windows, marked as already seen."""
    kept = state.get(name)
    frame = kept.lazy() if kept is not None else pl.LazyFrame(schema=schema)
    return frame.with_columns(pl.lit(True).alias("__old"))


def _seen(
    state: dict[str, pl.DataFrame],
    name: str,
    keys: dict[str, pl.DataType],
    since: dt.datetime,
) -> pl.LazyFrame:
    """The keys a `dedupe ... within` step saw since `since`."""
    schema = {**keys, "__seen_at": pl.Datetime("us", "UTC")}
    seen = state.get(name)
    frame = seen.lazy() if seen is not None else pl.LazyFrame(schema=schema)
    return frame.filter(pl.col("__seen_at") >= since)


def plan(
    records: pl.LazyFrame,
    now: dt.datetime,
    state: dict[str, pl.DataFrame] | None = None,
) -> dict[str, pl.LazyFrame]:
    """The plan of `hot` for one batch; `now` is the batch's time.

    `state` holds what steps remember between batches (the keys `dedupe ... within`
    has seen), as returned under the `state:` outputs of the previous batch.
    """
    state = state or {}
    frame = records.with_row_index("__row")
    rejected: list[pl.LazyFrame] = []
    counts: list[pl.LazyFrame] = []
    outputs: dict[str, pl.LazyFrame] = {}

    # where: a null condition drops the record, like false
    frame = frame.filter((pl.col("temp_c") > 30.0))

    # sink alerts
    outputs["sink:alerts"] = frame.drop("__row", strict=False)

    outputs["output"] = frame.drop("__row", strict=False)
    outputs["rejected"] = _concat(rejected, REJECTED_SCHEMA)
    outputs["counts"] = _concat(counts, COUNTS_SCHEMA)
    return outputs
