"""`GET /metrics`: the runtime's counters in Prometheus' text format.

A custom collector reads `runtime.metrics` and the webhooks' counters at each scrape, so
the pipelines keep updating plain integers and nothing is mirrored into client-library
objects on the batch path. It lives in a registry of its own (not the process-wide
default), so two apps in one process never collide.

Batch latency is a cumulative histogram, as Prometheus needs (buckets that only grow, so
`rate()` works). The runtime keeps recent latencies in a bounded window for percentiles;
`LatencyWindow` replaces that window with one that also counts every latency into the
histogram's buckets as the runner appends it.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence

from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.routing import BaseRoute

from flowc.runtime.app import Runtime
from flowc.runtime.metrics import PipelineMetrics
from flowc.runtime.webhooks import WebhookEndpoint

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0)  # fmt: skip

_PIPELINE_COUNTERS = (
    ("records_in", "records_in", "Records that entered the pipeline"),
    ("records_out", "records_out", "Records the pipeline published"),
    ("records_rejected", "rejected", "Records dead-lettered or dropped by a rule"),
    ("records_dead_lettered", "dead_lettered", "Records sent to the dead letters"),
    ("records_dropped", "dropped", "Records dropped by a `drop` rule"),
    ("records_warned", "warned", "Records that failed a `warn` rule (kept)"),
    ("records_stored", "stored", "Records inserted into the store"),
    ("batches", "batches", "Batches processed"),
    ("runs", "runs", "Runs of the pipeline's polled source"),
    ("failures", "failures", "Batches or runs that failed"),
)
_WEBHOOK_COUNTERS = (
    ("requests", "requests", "Requests received"),
    ("accepted", "accepted", "Requests answered 202"),
    ("records", "records", "Records accepted"),
    ("bytes", "bytes", "Body bytes accepted"),
    ("batches", "batches", "Batches the pipelines processed"),
    ("replayed_records", "replayed", "Records replayed from the spool at start"),
    ("failures", "failures", "Batches left in the spool after every attempt failed"),
)


class LatencyWindow(deque[float]):
    """The recent latencies (bounded, for percentiles) plus a cumulative histogram."""

    def __init__(self, recent: Iterable[float] = (), maxlen: int | None = 1024) -> None:
        super().__init__((), maxlen)
        self.bucket_counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.observed = 0
        self.sum = 0.0
        for seconds in recent:
            self.append(seconds)

    def append(self, seconds: float) -> None:
        super().append(seconds)
        self.bucket_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.observed += 1
        self.sum += seconds

    def extend(self, latencies: Iterable[float]) -> None:
        for seconds in latencies:
            self.append(seconds)

    def cumulative(self) -> list[tuple[str, float]]:
        buckets, total = [], 0
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.bucket_counts, strict=True):
            total += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(total)))
        return buckets


def instrument(metrics: PipelineMetrics) -> LatencyWindow:
    """The pipeline's latency window, made a `LatencyWindow` (keeping what it holds)."""
    if not isinstance(metrics.latencies, LatencyWindow):
        metrics.latencies = LatencyWindow(metrics.latencies, metrics.latencies.maxlen)
    return metrics.latencies


class RuntimeCollector(Collector):
    """Reads the runtime's and the webhooks' counters at each scrape."""

    def __init__(self, runtime: Runtime, webhooks: Mapping[str, WebhookEndpoint]) -> None:
        self.runtime = runtime
        self.webhooks = webhooks
        for metrics in runtime.metrics.pipelines.values():
            instrument(metrics)

    def collect(self) -> Iterator[Metric]:
        pipelines = sorted(self.runtime.metrics.pipelines.items())
        yield from self._pipelines(pipelines)
        yield from self._sinks(pipelines)
        yield from self._webhooks()

    def _pipelines(self, pipelines: Sequence[tuple[str, PipelineMetrics]]) -> Iterator[Metric]:
        for suffix, attribute, text in _PIPELINE_COUNTERS:
            family = CounterMetricFamily(f"flowc_pipeline_{suffix}", text, labels=["pipeline"])
            for name, metrics in pipelines:
                family.add_metric([name], getattr(metrics, attribute))
            yield family
        latency = HistogramMetricFamily(
            "flowc_pipeline_batch_latency_seconds",
            "Time to process one batch, from its arrival to its broadcast",
            labels=["pipeline"],
        )
        cached = GaugeMetricFamily(
            "flowc_pipeline_cache_records", "Records held in the cache", labels=["pipeline"]
        )
        last_run = GaugeMetricFamily(
            "flowc_pipeline_last_run_timestamp_seconds",
            "When the last batch went through (Unix time)",
            labels=["pipeline"],
        )
        for name, metrics in pipelines:
            window = instrument(metrics)
            latency.add_metric([name], window.cumulative(), window.sum)
            cache = self.runtime.caches.get(name)
            cached.add_metric([name], len(cache) if cache is not None else 0)
            if metrics.last_run is not None:
                last_run.add_metric([name], metrics.last_run.timestamp())
        yield from (latency, cached, last_run)

    def _sinks(self, pipelines: Sequence[tuple[str, PipelineMetrics]]) -> Iterator[Metric]:
        delivered = CounterMetricFamily(
            "flowc_sink_delivered_records",
            "Records a sink delivered",
            labels=["pipeline", "sink"],
        )
        failed = CounterMetricFamily(
            "flowc_sink_failed_records",
            "Records a sink could not deliver (kept in the dead letters)",
            labels=["pipeline", "sink"],
        )
        for name, metrics in pipelines:
            for sink, count in sorted(metrics.sink_deliveries.items()):
                delivered.add_metric([name, sink], count)
            for sink, count in sorted(metrics.sink_failures.items()):
                failed.add_metric([name, sink], count)
        yield from (delivered, failed)

    def _webhooks(self) -> Iterator[Metric]:
        endpoints = sorted(self.webhooks.items())
        for suffix, attribute, text in _WEBHOOK_COUNTERS:
            family = CounterMetricFamily(f"flowc_webhook_{suffix}", text, labels=["source"])
            for name, endpoint in endpoints:
                family.add_metric([name], getattr(endpoint.metrics, attribute))
            yield family
        rejected = CounterMetricFamily(
            "flowc_webhook_rejected_requests",
            "Requests refused, by HTTP status",
            labels=["source", "status"],
        )
        for name, endpoint in endpoints:
            for status, count in sorted(endpoint.metrics.rejected.items()):
                rejected.add_metric([name, str(status)], count)
        yield rejected


class PrometheusEndpoint:
    """The `/metrics` route, as a server component."""

    def __init__(self, runtime: Runtime, webhooks: Mapping[str, WebhookEndpoint]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(RuntimeCollector(runtime, webhooks))

    def routes(self) -> Sequence[BaseRoute]:
        return [
            APIRoute(
                "/metrics",
                self.metrics,
                methods=["GET"],
                response_class=Response,
                summary="The runtime's metrics in Prometheus' text format",
                responses={
                    200: {
                        "description": "Prometheus text exposition format 0.0.4",
                        "content": {CONTENT_TYPE_PLAIN_0_0_4: {"schema": {"type": "string"}}},
                    }
                },
            )
        ]

    async def metrics(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
