"""The `file` source: records read from local files."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from flowc.stdlib.connectors.base import ConfigModel, Example, declare_source
from flowc.stdlib.connectors.common import Duration, JsonPath, only_with, with_inferred_format

FileFormat = Literal["jsonl", "json", "csv", "parquet"]


class FileSource(ConfigModel):
    """Reads records from a file, or from every file matching a glob, in JSON lines, JSON,
    CSV or Parquet. Each file is read once; with `every`, the path is scanned again at that
    interval and only files not seen before are read, so new files dropped into a folder
    flow into the pipeline. Paths are relative to the `.flow` file.
    """

    path: str = Field(
        min_length=1,
        description="a file or a glob such as `data/*.csv`, relative to the .flow file",
    )
    format: FileFormat = Field(
        description="`jsonl` (one JSON object per line), `json` (a document; see `records`), "
        "`csv` or `parquet`",
        json_schema_extra={"doc_default": "from the extension of `path`"},
    )
    every: Duration | None = Field(
        default=None, description="scan `path` again at this interval and read the new files"
    )
    records: JsonPath = Field(
        default="$",
        description="json and jsonl: where the records are in each document (or line); "
        "a list there gives one record per item",
    )
    delimiter: str = Field(
        default=",", min_length=1, max_length=1, description="csv only: the column separator"
    )
    header: bool = Field(
        default=True, description="csv only: whether the first line names the columns"
    )
    encoding: Literal["utf-8", "latin-1"] = Field(
        default="utf-8", description="text formats only: how the bytes are decoded"
    )

    @model_validator(mode="before")
    @classmethod
    def _infer_format(cls, data: Any) -> Any:
        return with_inferred_format(data, ("jsonl", "json", "csv", "parquet"))

    @model_validator(mode="after")
    def _format_options(self) -> FileSource:
        only_with(self, "records", self.format in ("json", "jsonl"), "to json and jsonl")
        only_with(self, "delimiter", self.format == "csv", "with `format: csv`")
        only_with(self, "header", self.format == "csv", "with `format: csv`")
        only_with(self, "encoding", self.format != "parquet", "to text formats, not parquet")
        return self


CONNECTOR = declare_source(
    "file",
    FileSource,
    accepts_schema=True,
    examples=(
        Example(
            "readings",
            {"path": "data/readings-*.csv", "delimiter": ";"},
            schema="sensor: str\nts: str\ntemp: float?",
            title="CSV files, read once (the format comes from the extension)",
        ),
        Example(
            "orders",
            {"path": "inbox/*.json", "records": "$.orders", "every": dt.timedelta(minutes=1)},
            title="JSON documents dropped into a folder, picked up within a minute",
        ),
    ),
)
