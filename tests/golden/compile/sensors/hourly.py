"""Pipeline `hourly` of sensors.flow, compiled by flowc 0.1.0.

Generated code: edit the .flow file and run `flowc compile` again. See
`flowc.compiler.polars_plan` for what `plan` returns.
"""

import datetime as dt

import polars as pl

PIPELINE = "hourly"
UPSTREAM = "readings"

INPUT_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "sensor": pl.String,
    "temp_c": pl.Float64,
}

OUTPUT_SCHEMA = {
    "bucket": pl.Datetime("us", "UTC"),
    "sensor": pl.String,
    "mean_temp": pl.Float64,
    "readings": pl.Int64,
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
    """The plan of `hourly` for one batch; `now` is the batch's time.

    `state` holds what steps remember between batches (the keys `dedupe ... within`
    has seen), as returned under the `state:` outputs of the previous batch.
    """
    state = state or {}
    frame = records.with_row_index("__row")
    rejected: list[pl.LazyFrame] = []
    counts: list[pl.LazyFrame] = []
    outputs: dict[str, pl.LazyFrame] = {}

    # aggregate every 1h: tumbling windows aligned to the epoch (UTC); the rows
    # of the two newest windows are kept, so a window spanning batches is whole
    rows = frame.select(
        *["sensor", "temp_c", "ts"], pl.col("ts").dt.truncate("1h").alias("bucket")
    ).with_columns(pl.lit(False).alias("__old"))
    kept = _kept(
        state,
        "state:aggregate:0",
        {
            "sensor": pl.String,
            "temp_c": pl.Float64,
            "ts": pl.Datetime("us", "UTC"),
            "bucket": pl.Datetime("us", "UTC"),
        },
    )
    combined = pl.concat([kept, rows], how="vertical_relaxed").with_columns(
        (
            pl.col("bucket").filter(pl.col("__old")).max() - dt.timedelta(microseconds=3600000000)
        ).alias("__cutoff")
    )
    late = ~pl.col("__old") & (pl.col("bucket") < pl.col("__cutoff")).fill_null(False)
    counts.append(
        combined.select(late.sum().alias("late:0")).unpivot(
            variable_name="rule", value_name="count"
        )
    )
    combined = combined.filter(~late)
    touched = combined.filter(~pl.col("__old")).select(["bucket", "sensor"]).unique()
    outputs["state:aggregate:0"] = combined.filter(
        pl.col("bucket") >= pl.col("bucket").max() - dt.timedelta(microseconds=3600000000)
    ).drop("__old", "__cutoff")
    frame = (
        combined.join(touched, on=["bucket", "sensor"], how="semi", nulls_equal=True)
        .group_by(["bucket", "sensor"], maintain_order=True)
        .agg(
            pl.col("temp_c").mean().cast(pl.Float64).alias("mean_temp"),
            pl.len().cast(pl.Int64).alias("readings"),
        )
        .sort(["bucket", "sensor"])
        .with_row_index("__row")
    )

    # persist readings_hourly
    outputs["persist"] = frame.drop("__row", strict=False)

    outputs["output"] = frame.drop("__row", strict=False)
    outputs["rejected"] = _concat(rejected, REJECTED_SCHEMA)
    outputs["counts"] = _concat(counts, COUNTS_SCHEMA)
    return outputs
