"""Connector kinds (sources and sinks): one module each, holding its configuration model.

Importing a kind's module declares it, and declaring registers it in `SOURCES` or `SINKS`:
the imports of the models below are the whole list of kinds. The front end looks a kind up
here, checks the block with `validate_config`, and, for `generate`, derives the schema with
`generated_schema`.
"""

from flowc.stdlib.connectors.base import (
    SINKS,
    SOURCES,
    Connector,
    EnvRef,
    Example,
    Secret,
    StrOrEnv,
)
from flowc.stdlib.connectors.file import FileSource
from flowc.stdlib.connectors.file_sink import FileSink
from flowc.stdlib.connectors.generate import FieldSpec, GenerateSource, generated_schema
from flowc.stdlib.connectors.http import HttpSource
from flowc.stdlib.connectors.http_sink import HttpSink
from flowc.stdlib.connectors.postgres import PostgresSink
from flowc.stdlib.connectors.s3 import S3Sink
from flowc.stdlib.connectors.stdout import StdoutSink
from flowc.stdlib.connectors.validation import ConfigIssue, validate_config
from flowc.stdlib.connectors.webhook import WebhookSource

__all__ = [
    "SINKS",
    "SOURCES",
    "ConfigIssue",
    "Connector",
    "EnvRef",
    "Example",
    "FieldSpec",
    "FileSink",
    "FileSource",
    "GenerateSource",
    "HttpSink",
    "HttpSource",
    "PostgresSink",
    "S3Sink",
    "Secret",
    "StdoutSink",
    "StrOrEnv",
    "WebhookSource",
    "generated_schema",
    "validate_config",
]
