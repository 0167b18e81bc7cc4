"""From a manifest's sink to a running worker: the config model read back, secrets read
from the environment, and the kind's destination wrapped in a `SinkWorker`."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from flowc.compiler import manifest
from flowc.runtime.executor import Clock, utc_now
from flowc.runtime.metrics import Metrics
from flowc.runtime.sinks.base import Destination, SinkConfigError, SinkWorker
from flowc.runtime.sinks.files import FileDestination
from flowc.runtime.sinks.http import HttpDestination
from flowc.runtime.sinks.postgres import PostgresDestination
from flowc.runtime.sinks.s3 import S3Destination
from flowc.runtime.sinks.stdout import StdoutDestination
from flowc.runtime.store.base import Store
from flowc.stdlib.connectors.base import SINKS
from flowc.stdlib.connectors.common import RetryPolicy, SinkRetryPolicy
from flowc.stdlib.connectors.file_sink import FileSink
from flowc.stdlib.connectors.http_sink import HttpSink
from flowc.stdlib.connectors.postgres import PostgresSink
from flowc.stdlib.connectors.s3 import S3Sink
from flowc.stdlib.connectors.stdout import StdoutSink


def destination(config: BaseModel, base_dir: Path) -> Destination:
    """The destination for a validated sink config (the model's class says the kind)."""
    match config:
        case StdoutSink():
            return StdoutDestination(config)
        case FileSink():
            return FileDestination(config, base_dir)
        case HttpSink():
            return HttpDestination(config)
        case PostgresSink():
            return PostgresDestination(config)
        case S3Sink():
            return S3Destination(config)
    raise SinkConfigError(f"the runtime cannot deliver to `{type(config).__name__}` sinks")


def build_sink(
    sink: manifest.Sink,
    store: Store,
    metrics: Metrics,
    base_dir: Path,
    *,
    capacity: int | None = None,
    clock: Clock = utc_now,
) -> SinkWorker:
    """A worker for one declared sink (not started: call `start()` on the running loop).

    `base_dir` is where relative paths point: the directory of the sink's `.flow` file.
    Raises SinkConfigError for an unknown kind, a config the model refuses, or an
    environment variable that is not set, naming the sink.
    """
    connector = SINKS.get(sink.kind)
    if connector is None:
        raise SinkConfigError(f"sink `{sink.name}`: unknown kind `{sink.kind}`")
    try:
        # JSON mode: a manifest holds durations as "5m" and secrets as {"name": ...}.
        config = connector.model.model_validate_json(json.dumps(sink.config))
    except ValidationError as error:
        raise SinkConfigError(f"sink `{sink.name}`: invalid configuration: {error}") from error
    try:
        target = destination(config, base_dir)
    except SinkConfigError as error:
        raise SinkConfigError(f"sink `{sink.name}`: {error}") from error
    retry = getattr(config, "retry", None)
    return SinkWorker(
        sink.name,
        target,
        store=store,
        metrics=metrics,
        retry=retry if isinstance(retry, RetryPolicy) else SinkRetryPolicy(),
        capacity=capacity,
        clock=clock,
    )
