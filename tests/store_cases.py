"""What the store tests of every store share: the programs, awkward text, helpers.

Each store (DuckDB, PostgreSQL) is held to the same behaviours with the same cases.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

import polars as pl

from flowc.compiler.artifacts import Compiled, compile_unit
from flowc.compiler.checker import check_text
from flowc.compiler.sql.spec import TableSpec
from flowc.runtime.store.base import DEAD_LETTER_SCHEMA

T = TypeVar("T")

V1 = """\
source s: file {
  path: "in.jsonl"
  schema { sensor: str, temp: float, sent: timestamp }
}

pipeline readings from s {
  map {
    ts = sent
    sensor = sensor
    temp = temp
  }
  persist timescale readings { time: ts, key: (sensor, ts) }
}
"""
# v2 adds a column; v3 removes `temp` (breaking).
V2 = V1.replace("    temp = temp\n", "    temp = temp\n    temp_f = temp * 1.8 + 32.0\n")
V3 = V1.replace("    temp = temp\n", "")

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# Text that breaks naive encodings (COPY's text format, CSV, JSON).
AWKWARD = [
    "tab\there",
    "new\nline and \r\n",
    "back\\slash \\N \\. ",
    "quotes \" ' `",
    "commas, semi; pipes | braces {} [] ()",
    "unicode: é ü 漢字 😀",
    "",
    "NULL",
]


def run(work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await work()

    return asyncio.run(main())


def compiled(program: str = V1, *extra: TableSpec) -> Compiled:
    """A program compiled, with extra tables to prepare alongside its own."""
    result = compile_unit(check_text(program, "p.flow"))
    tables = {**result.tables, **{spec.name: spec for spec in extra}}
    return dataclasses.replace(result, tables=tables)


def readings(*rows: tuple[str, dt.datetime, float]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"sensor": pl.String, "ts": pl.Datetime("us", "UTC"), "temp": pl.Float64},
        orient="row",
    )  # fmt: skip


def dead_letters() -> pl.DataFrame:
    """Dead letters whose text stresses every encoding: tabs, newlines, quotes, accents."""
    return pl.DataFrame(
        {
            "pipeline": ["readings", "readings", "Other Pipe"],
            "rule": ["temp between -40.0 and 60.0", "sink s", "fail"],
            "action": ["dead_letter", "undelivered", "fail"],
            "reason": ["temp was 99.5", None, 'tabs\tand\nnewlines \\ "q"'],
            "record": ['{"temp": 99.5}', '{"sensor": "é"}', "not json at all"],
            "at": [NOW, NOW, NOW + dt.timedelta(seconds=1)],
        },
        schema=DEAD_LETTER_SCHEMA,
    )
