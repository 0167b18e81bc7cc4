"""What the counters alone cannot say: recent throughput, and whether a pipeline is failing.

The runtime's metrics are totals since start. The API shows records per minute over the
last few minutes and a status, so `Activity` samples the totals (every few seconds, and
at each API call) into a small rolling window per pipeline, and notes when the failure
count last went up and when a batch last went through. Times are the tracker's own
monotonic clock, never the runtime's (which tests and backfills may fix).

Status:

- `failing`: the last thing observed was a failure (a batch that raised, a `fail` rule
  that rejected a batch, a source run that failed); it clears at the next good batch;
- `idle`: no batch nor source run in the last `idle_after` seconds (or never);
- `ok`: otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from flowc.runtime.metrics import Metrics, PipelineMetrics

DEFAULT_WINDOW = 300.0  # seconds of history behind records_per_minute
DEFAULT_IDLE_AFTER = 900.0  # seconds without a batch before a pipeline is `idle`

Status = Literal["ok", "failing", "idle"]


@dataclass
class _Track:
    samples: deque[tuple[float, int]] = field(default_factory=deque)  # (time, records_in)
    batches: int = 0
    runs: int = 0
    failures: int = 0
    last_run: object = None
    active_at: float | None = None
    failing: bool = False


class Activity:
    """Rolling windows over the runtime's metrics, one per pipeline."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        window: float = DEFAULT_WINDOW,
        idle_after: float = DEFAULT_IDLE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.window = window
        self.idle_after = idle_after
        self.clock = clock
        self._tracks: dict[str, _Track] = {}

    def observe(self) -> None:
        """Take one sample of every pipeline's counters."""
        now = self.clock()
        for name, metrics in self.metrics.pipelines.items():
            track = self._tracks.get(name)
            if track is None:
                self._tracks[name] = self._first(metrics, now)
                continue
            self._update(track, metrics, now)

    def _first(self, metrics: PipelineMetrics, now: float) -> _Track:
        track = _Track(batches=metrics.batches, runs=metrics.runs, failures=metrics.failures)
        track.last_run = metrics.last_run
        track.samples.append((now, metrics.records_in))
        if metrics.batches or metrics.runs:
            track.active_at = now
        # What happened before the first sample is in an unknown order: a pipeline that
        # has failed and never succeeded is failing; otherwise its last error is history.
        track.failing = metrics.failures > 0 and metrics.last_run is None
        return track

    def _update(self, track: _Track, metrics: PipelineMetrics, now: float) -> None:
        failed = metrics.failures > track.failures
        succeeded = metrics.last_run is not None and metrics.last_run != track.last_run
        if failed:
            # A failure and a success between two samples: their order is unknown, and a
            # failure should not go unseen, so the pipeline shows failing until the next.
            track.failing = True
        elif succeeded:
            track.failing = False
        if failed or succeeded or (metrics.batches, metrics.runs) != (track.batches, track.runs):
            track.active_at = now
        track.failures = metrics.failures
        track.batches = metrics.batches
        track.runs = metrics.runs
        track.last_run = metrics.last_run
        samples = track.samples
        samples.append((now, metrics.records_in))
        while len(samples) > 2 and samples[1][0] <= now - self.window:
            samples.popleft()

    def records_per_minute(self, name: str) -> float:
        """Records in per minute over the window (or since the first sample, if later)."""
        track = self._tracks.get(name)
        if track is None or len(track.samples) < 2:
            return 0.0
        (start, first), (end, last) = track.samples[0], track.samples[-1]
        if end <= start:
            return 0.0
        return round((last - first) * 60.0 / (end - start), 3)

    def status(self, name: str) -> Status:
        track = self._tracks.get(name)
        if track is None:
            return "idle"
        if track.failing:
            return "failing"
        if track.active_at is None or self.clock() - track.active_at > self.idle_after:
            return "idle"
        return "ok"

    async def run(self, interval: float) -> None:
        """Sample every `interval` seconds until cancelled."""
        while True:
            self.observe()
            await asyncio.sleep(interval)
