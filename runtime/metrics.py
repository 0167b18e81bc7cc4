"""Per-pipeline counters, kept in memory for the API, `/metrics` and the progress display."""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field


@dataclass
class PipelineMetrics:
    records_in: int = 0
    records_out: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    warned: int = 0
    stored: int = 0
    batches: int = 0
    runs: int = 0
    failures: int = 0
    last_run: dt.datetime | None = None
    last_error: str | None = None
    # Recent batch latencies in seconds, for percentiles and the histogram.
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=1024))
    sink_deliveries: dict[str, int] = field(default_factory=dict)
    sink_failures: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Records that did not pass: dead-lettered or dropped (warnings pass)."""
        return self.dead_lettered + self.dropped

    def latency_quantile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Metrics:
    pipelines: dict[str, PipelineMetrics] = field(default_factory=dict)

    def of(self, pipeline: str) -> PipelineMetrics:
        return self.pipelines.setdefault(pipeline, PipelineMetrics())
