"""One polled source object per `source` declaration (webhooks are served, not polled)."""

from __future__ import annotations

from pathlib import Path

from flowc.compiler.manifest import Source, connector_config
from flowc.runtime.executor import Clock
from flowc.runtime.sources.base import PolledSource
from flowc.runtime.sources.generate import GenerateSourceRunner
from flowc.stdlib.connectors.generate import GenerateSource


def build_source(source: Source, base_dir: Path, clock: Clock) -> PolledSource | None:
    if source.kind == "generate":
        config = connector_config(GenerateSource, source.config)
        return GenerateSourceRunner(source.name, config, clock)
    if source.kind == "webhook":
        return None
    raise ValueError(f"no runtime for `{source.kind}` sources")
