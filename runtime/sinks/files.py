"""The `file` sink: JSON lines or CSV appended to a file, or Parquet files per window.

With `rotate`, time is cut into windows aligned on the Unix epoch (`rotate: 1h` starts a
file on every hour, UTC) and a record belongs to the window in which it was offered, so a
retried batch still lands in its own window's file. Parquet cannot be appended to: the
records of a window are held until the window ends and then written as one file, through
a temporary name and a rename, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import ClassVar

import polars as pl

from flowc.runtime.sinks.base import Delivery, Destination, PermanentError, describe
from flowc.stdlib.connectors.file_sink import TIME_PLACEHOLDER, FileSink

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: A Parquet window holding more records than this is written as several files, so that a
#: busy window never fills the sink's buffer while it waits to end.
PARQUET_FILE_ROWS = 100_000
TIME_FORMAT = "%Y%m%dT%H%M%SZ"


def window_start(received: dt.datetime, rotate: dt.timedelta) -> dt.datetime:
    """The start of the rotation window holding `received`, aligned on the epoch."""
    return EPOCH + ((received - EPOCH) // rotate) * rotate


def unused(path: Path) -> Path:
    """`path`, or `name-1.ext`, `name-2.ext`, ... when it exists: a Parquet window flushed
    twice (by `flowc run --once` or a restart) never overwrites its first file."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class FileDestination(Destination):
    kind: ClassVar[str] = "file"

    def __init__(self, config: FileSink, base_dir: Path) -> None:
        self.format = config.format
        self.rotate = config.rotate
        self.template = config.path
        self.base_dir = base_dir
        self.max_rows = PARQUET_FILE_ROWS if self.format == "parquet" else None

    def group(self, received: dt.datetime) -> object:
        return window_start(received, self.rotate) if self.rotate is not None else None

    def due(self, received: dt.datetime) -> dt.datetime:
        if self.format == "parquet" and self.rotate is not None:
            return window_start(received, self.rotate) + self.rotate
        return received

    def path_for(self, received: dt.datetime) -> Path:
        text = self.template
        if self.rotate is not None:
            stamp = window_start(received, self.rotate).strftime(TIME_FORMAT)
            text = text.replace(TIME_PLACEHOLDER, stamp)
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    async def deliver(self, delivery: Delivery) -> None:
        frame = delivery.frame
        if self.format == "csv":
            nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
            if nested:
                raise PermanentError(
                    f"CSV cannot hold the nested field(s) {', '.join(nested)}: "
                    "use `format: jsonl` or `parquet`"
                )
        await asyncio.to_thread(self._write, delivery)

    def _write(self, delivery: Delivery) -> None:
        path = self.path_for(delivery.received)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = delivery.frame
        if self.format == "parquet":
            target = unused(path)
            temporary = target.with_name(f".{target.name}.{delivery.id}.tmp")
            try:
                frame.write_parquet(temporary)
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
            return
        new = not path.exists() or path.stat().st_size == 0
        try:
            data = (
                frame.write_ndjson()
                if self.format == "jsonl"
                else frame.write_csv(include_header=new)
            )
        except pl.exceptions.PolarsError as error:  # a type the format cannot hold
            raise PermanentError(
                f"the records cannot be written as {self.format}: {describe(error)}"
            ) from error
        # One write of the whole batch, so a batch is never interleaved with another.
        with path.open("a", encoding="utf-8", newline="") as out:
            out.write(data)
