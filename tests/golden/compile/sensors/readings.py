"""Pipeline `readings` of sensors.flow, compiled by flowc 0.1.0.

Generated code: edit the .flow file and run `flowc compile` again. See
`flowc.compiler.polars_plan` for what `plan` returns.
"""

import datetime as dt

import polars as pl

PIPELINE = "readings"
UPSTREAM = "sensors"

INPUT_SCHEMA = {
    "sensor": pl.String,
    "temperature": pl.Float64,
    "sent_at": pl.String,
}

OUTPUT_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "sensor": pl.String,
    "temp_c": pl.Float64,
}

RULES = [
    {"id": "1.0", "rule": "temp_c between -40.0 and 80.0", "action": "dead_letter"},
    {"id": "1.1", "rule": 'sensor matches "^[a-z0-9-]+$"', "action": "drop"},
]

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
    """The plan of `readings` for one batch; `now` is the batch's time.

    `state` holds what steps remember between batches (the keys `dedupe ... within`
    has seen), as returned under the `state:` outputs of the previous batch.
    """
    state = state or {}
    frame = records.with_row_index("__row")
    rejected: list[pl.LazyFrame] = []
    counts: list[pl.LazyFrame] = []
    outputs: dict[str, pl.LazyFrame] = {}

    # map
    frame = frame.select(
        pl.col("__row"),
        pl.coalesce(
            [
                pl.when(
                    pl.col("sent_at").str.contains(
                        "^[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{1,9})?)?(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)?$"
                    )
                ).then(
                    pl.col("sent_at")
                    .str.replace(" ", "T", literal=True)
                    .str.replace("^(.{16})([Z+-]|$)", "${1}:00${2}")
                    .str.replace("^(.{16}(?::[0-9]{2}(?:[.][0-9]+)?)?)$", "${1}Z")
                    .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False)
                ),
                pl.lit(now, dtype=pl.Datetime("us", "UTC")),
            ]
        )
        .cast(pl.Datetime("us", "UTC"))
        .alias("ts"),
        pl.col("sensor").str.to_lowercase().cast(pl.String).alias("sensor"),
        pl.col("temperature").cast(pl.Float64).alias("temp_c"),
    )

    # validate: a rule whose answer is null fails
    frame = frame.with_columns(
        pl.when(~(((pl.col("temp_c") >= -40.0) & (pl.col("temp_c") <= 80.0))).fill_null(False))
        .then(pl.lit(0, dtype=pl.UInt16))
        .when(~(pl.col("sensor").str.contains("^[a-z0-9-]+$")).fill_null(False))
        .then(pl.lit(1, dtype=pl.UInt16))
        .otherwise(None)
        .alias("__rule")
    )
    counts.append(
        frame.select(
            (pl.col("__rule") == 1).sum().alias("1.1"),
        ).unpivot(variable_name="rule", value_name="count")
    )
    rejected.append(
        frame.filter(pl.col("__rule").is_in([0])).select(
            pl.col("__row").alias("__row"),
            pl.when(pl.col("__rule") == 0)
            .then(pl.lit("temp_c between -40.0 and 80.0"))
            .alias("rule"),
            pl.when(pl.col("__rule") == 0).then(pl.lit("dead_letter")).alias("action"),
            pl.when(pl.col("__rule") == 0)
            .then(
                pl.concat_str(
                    [
                        pl.lit("temp_c between -40.0 and 80.0 failed ("),
                        pl.lit("temp_c = "),
                        pl.col("temp_c").cast(pl.String).fill_null("null"),
                        pl.lit(")"),
                    ]
                )
            )
            .alias("reason"),
            pl.lit(None, dtype=pl.String).alias("record"),
        )
    )
    frame = frame.filter(pl.col("__rule").is_null()).drop("__rule")

    # persist readings
    outputs["persist"] = frame.drop("__row", strict=False)

    outputs["output"] = frame.drop("__row", strict=False)
    outputs["rejected"] = _concat(rejected, REJECTED_SCHEMA)
    outputs["counts"] = _concat(counts, COUNTS_SCHEMA)
    return outputs
