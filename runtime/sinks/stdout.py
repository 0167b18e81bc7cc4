"""The `stdout` sink: each batch printed as JSON lines or as a table."""

from __future__ import annotations

import asyncio
import sys
from typing import ClassVar, TextIO

import polars as pl

from flowc.runtime.sinks.base import Delivery, Destination
from flowc.stdlib.connectors.stdout import StdoutSink

#: A table shows this many rows of a batch at most (its first and last ones): it is for
#: reading, and `jsonl` prints every record.
TABLE_ROWS = 100


class StdoutDestination(Destination):
    """Writes to `stream`, or to whatever `sys.stdout` is at the time of writing (so
    redirection and test capture work)."""

    kind: ClassVar[str] = "stdout"

    def __init__(self, config: StdoutSink, stream: TextIO | None = None) -> None:
        self.format = config.format
        self.stream = stream

    def render(self, delivery: Delivery) -> str:
        frame = delivery.frame
        if self.format == "jsonl":
            return frame.write_ndjson()
        with pl.Config(
            tbl_rows=TABLE_ROWS,
            tbl_cols=-1,
            tbl_width_chars=160,
            fmt_str_lengths=60,
            tbl_hide_dataframe_shape=True,
        ):
            table = str(frame)
        plural = "" if frame.height == 1 else "s"
        return f"{delivery.pipeline}: {frame.height} record{plural}\n{table}\n"

    async def deliver(self, delivery: Delivery) -> None:
        text = self.render(delivery)
        # A terminal or a pipe that is not being read blocks the write: not on the loop.
        await asyncio.to_thread(self._write, text)

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()
