"""The `file` sink: records written to local files."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from flowc.stdlib.connectors.base import ConfigModel, Example, config_error, declare_sink
from flowc.stdlib.connectors.common import Duration, with_inferred_format

TIME_PLACEHOLDER = "{time}"


class FileSink(ConfigModel):
    """Appends each batch to a file, in JSON lines, CSV or Parquet. With `rotate`, a new
    file is started at each interval: `{time}` in the path is replaced by the start of the
    interval (UTC, as `20260101T120000Z`), so every file gets its own name. Parquet files
    cannot be appended to, so Parquet needs `rotate`: each file is written when its interval
    ends. Paths are relative to the `.flow` file; missing folders are created.
    """

    path: str = Field(
        min_length=1, description="the file; with `rotate`, a path containing `{time}`"
    )
    format: Literal["jsonl", "csv", "parquet"] = Field(
        description="`jsonl`, `csv` or `parquet`",
        json_schema_extra={"doc_default": "from the extension of `path`"},
    )
    rotate: Duration | None = Field(default=None, description="start a new file at this interval")

    @model_validator(mode="before")
    @classmethod
    def _infer_format(cls, data: Any) -> Any:
        return with_inferred_format(data, ("jsonl", "csv", "parquet"))

    @model_validator(mode="after")
    def _rotation(self) -> FileSink:
        if self.rotate is None and self.format == "parquet":
            raise config_error(
                "E304",
                "missing `rotate`: Parquet files cannot be appended to, so they are written "
                "one per interval",
                path=("rotate",),
                help='for example `rotate: 1h` and `path: "out/events-{time}.parquet"`',
            )
        if self.rotate is not None and TIME_PLACEHOLDER not in self.path:
            raise config_error(
                "E303",
                "with `rotate`, the path needs `{time}` so that each file gets its own name",
                path=("path",),
            )
        return self


CONNECTOR = declare_sink(
    "file",
    FileSink,
    examples=(
        Example("log", {"path": "out/alerts.jsonl"}, title="Append JSON lines to one file"),
        Example(
            "archive",
            {"path": "archive/readings-{time}.parquet", "rotate": dt.timedelta(hours=1)},
            title="One Parquet file per hour",
        ),
    ),
)
