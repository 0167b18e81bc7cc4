"""`GET /metrics`: the runtime's counters, read back with prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from flowc.runtime.metrics import PipelineMetrics
from flowc.runtime.prometheus import LATENCY_BUCKETS, LatencyWindow, instrument
from tests.test_api import served

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _samples(text: str) -> dict[str, list[Sample]]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    [value] = [s.value for s in samples if s.name == name and s.labels == labels]
    return value


async def test_metrics_expose_pipelines_sinks_and_webhooks(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        await s.runtime.settled()  # the file sink has delivered
        response = await s.client.post("/hooks/readings", json=[{"sensor": "a", "temp": 1.0}])
        assert response.status_code == 202
        assert (await s.client.post("/hooks/readings", content=b"{")).status_code == 400

        response = await s.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        families = _samples(response.text)
        m = s.runtime.metrics.of("cleaned")

        records_in = families["flowc_pipeline_records_in"]
        assert _value(records_in, "flowc_pipeline_records_in_total", pipeline="cleaned") == 20
        for family, expected in (
            ("flowc_pipeline_records_out", m.records_out),
            ("flowc_pipeline_records_rejected", m.rejected),
            ("flowc_pipeline_records_stored", m.stored),
            ("flowc_pipeline_runs", 1),
            ("flowc_pipeline_failures", 0),
        ):
            assert _value(families[family], f"{family}_total", pipeline="cleaned") == expected

        latency = families["flowc_pipeline_batch_latency_seconds"]
        count = _value(latency, "flowc_pipeline_batch_latency_seconds_count", pipeline="cleaned")
        assert count == m.batches == 1
        buckets = [
            s.value
            for s in latency
            if s.name.endswith("_bucket") and s.labels["pipeline"] == "cleaned"
        ]
        assert len(buckets) == len(LATENCY_BUCKETS) + 1
        assert buckets == sorted(buckets)
        assert buckets[-1] == count

        cache = families["flowc_pipeline_cache_records"]
        assert _value(cache, "flowc_pipeline_cache_records", pipeline="cleaned") == 5
        delivered = families["flowc_sink_delivered_records"]
        total = "flowc_sink_delivered_records_total"
        assert _value(delivered, total, pipeline="cleaned", sink="out") == m.records_out

        webhook = families["flowc_webhook_requests"]
        assert _value(webhook, "flowc_webhook_requests_total", source="hook") == 2
        rejected = families["flowc_webhook_rejected_requests"]
        total = "flowc_webhook_rejected_requests_total"
        assert _value(rejected, total, source="hook", status="400") == 1


async def test_latency_histogram_only_grows(tmp_path: Path) -> None:
    async with served(tmp_path, run=False) as s:

        async def count() -> float:
            families = _samples((await s.client.get("/metrics")).text)
            latency = families["flowc_pipeline_batch_latency_seconds"]
            name = "flowc_pipeline_batch_latency_seconds_count"
            return _value(latency, name, pipeline="hooked")

        assert await count() == 0
        for n in range(3):
            await s.hook({"sensor": "a", "temp": float(n)})
        assert await count() == 3


def test_latency_window_keeps_recent_latencies_and_counts_all() -> None:
    metrics = PipelineMetrics()
    metrics.latencies.extend([0.002, 0.2])
    window = instrument(metrics)
    assert instrument(metrics) is window is metrics.latencies  # once
    assert window.maxlen == 1024
    assert list(window) == [0.002, 0.2]
    for _ in range(2000):
        window.append(0.004)
    assert len(window) == 1024  # the percentiles' window stays bounded
    assert window.observed == 2002
    cumulative = dict(window.cumulative())
    assert cumulative["0.0025"] == 1
    assert cumulative["0.005"] == 2001
    assert cumulative["+Inf"] == 2002
    assert window.sum == pytest.approx(0.202 + 2000 * 0.004)
    assert LatencyWindow([5.0]).cumulative()[-1] == ("+Inf", 1.0)
