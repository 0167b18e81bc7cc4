"""The `stdout` sink: records printed to standard output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flowc.stdlib.connectors.base import ConfigModel, Example, declare_sink


class StdoutSink(ConfigModel):
    """Prints each batch to standard output, as JSON lines (one record per line, easy to
    pipe into `jq`) or as a table for reading. Meant for development and demos.
    """

    format: Literal["jsonl", "table"] = Field(
        default="jsonl", description="`jsonl` (one JSON object per line) or `table`"
    )


CONNECTOR = declare_sink(
    "stdout",
    StdoutSink,
    examples=(Example("console", {"format": "table"}, title="A readable table per batch"),),
)
