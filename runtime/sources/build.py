"""One polled source object per `source` declaration (webhooks are served, not polled)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flowc.compiler.manifest import Pipeline, Source, connector_config
from flowc.runtime.executor import Clock
from flowc.runtime.sources.base import PolledSource
from flowc.runtime.sources.files import FilePollSource
from flowc.runtime.sources.generate import GenerateSourceRunner
from flowc.runtime.sources.http_poll import HttpPollSource
from flowc.runtime.sources.http_records import reader_schema
from flowc.stdlib.connectors.generate import GenerateSource


def build_source(
    source: Source, pipelines: Sequence[Pipeline], clock: Clock
) -> PolledSource | None:
    """The runner of a polled source; None for webhooks, which the server receives."""
    if source.kind == "generate":
        config = connector_config(GenerateSource, source.config)
        return GenerateSourceRunner(source.name, config, clock)
    # A source without a schema gives its readers the fields they read, as json.
    schema = reader_schema(source, pipelines)
    if source.kind == "http":
        return HttpPollSource.from_manifest(source, schema)
    if source.kind == "file":
        # Paths are relative to the file that declares the source (maybe an import).
        return FilePollSource.from_manifest(source, Path(source.file).resolve().parent, schema)
    if source.kind == "webhook":
        return None
    raise ValueError(f"no runtime for `{source.kind}` sources")
