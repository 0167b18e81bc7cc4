"""The s3 sink against a local S3-compatible server (moto, started by tests/s3_server.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import re
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import polars as pl
import pytest

from flowc.runtime.metrics import Metrics
from flowc.runtime.sinks.base import SinkWorker
from flowc.runtime.sinks.s3 import S3Destination
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.s3 import S3Sink
from tests.s3_server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, s3_endpoint
from tests.test_sinks import FAST, FakeClock, MemoryStore, frame, run

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["s3_endpoint"]  # the fixture, imported to be used here


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("S3_SECRET", SECRET_ACCESS_KEY)
    # Never ask an instance-metadata address for credentials: loopback only.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"flowc-{uuid.uuid4().hex[:10]}"
    client(s3_endpoint).create_bucket(Bucket=name)
    return name


@functools.cache
def client(endpoint: str) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def objects(endpoint: str, bucket: str) -> dict[str, pl.DataFrame]:
    s3 = client(endpoint)
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    out = {}
    for entry in listing:
        body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        out[entry["Key"]] = pl.read_parquet(io.BytesIO(body))
    return out


def s3_sink(store: MemoryStore, clock: Any = None, **config: Any) -> SinkWorker:
    config.setdefault("access_key_id", EnvRef("S3_KEY_ID"))
    config.setdefault("secret_access_key", EnvRef("S3_SECRET"))
    config.setdefault("region", "us-east-1")
    dest = S3Destination(S3Sink.model_validate(config))
    options = {"clock": clock} if clock else {}
    return SinkWorker("lake", dest, store=store, metrics=Metrics(), retry=FAST, **options)


def test_parquet_objects_are_written_per_flush_under_pipeline_and_date(
    s3_endpoint: str, bucket: str
) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC))
    store = MemoryStore()

    async def main() -> None:
        sink = s3_sink(store, clock, bucket=bucket, prefix="raw/", endpoint=s3_endpoint,
                       flush_rows=3, flush_every=dt.timedelta(hours=1))  # fmt: skip
        sink.start()
        sink.offer("weather", frame(0, 2))
        sink.offer("weather", frame(2, 2))  # 4 rows: one object of 3 goes out at once
        await asyncio.sleep(0.5)
        assert len(objects(s3_endpoint, bucket)) == 1
        await sink.settled()  # the last row is written too, not left for an hour
        await sink.stop()
        assert sink.metrics.of("weather").sink_deliveries == {"lake": 4}

    run(main())
    assert store.batches == []
    written = objects(s3_endpoint, bucket)
    assert len(written) == 2
    pattern = re.compile(r"raw/weather/2026-03-04/050607Z-[0-9a-f]{32}\.parquet")
    assert all(pattern.fullmatch(key) for key in written)
    frames = sorted(written.values(), key=lambda f: f.height)
    assert [f["id"].to_list() for f in frames] == [[3], [0, 1, 2]]
    assert frames[1].schema == frame(0, 1).schema


def test_the_buffer_is_written_after_flush_every(s3_endpoint: str, bucket: str) -> None:
    async def main() -> None:
        sink = s3_sink(MemoryStore(), bucket=bucket, endpoint=s3_endpoint,
                       flush_every=dt.timedelta(milliseconds=300))  # fmt: skip
        sink.start()
        sink.offer("p", frame(0, 5))
        await asyncio.sleep(0.1)
        assert objects(s3_endpoint, bucket) == {}
        for _ in range(40):
            await asyncio.sleep(0.1)
            if objects(s3_endpoint, bucket):
                break
        assert [f["id"].to_list() for f in objects(s3_endpoint, bucket).values()] == [
            [0, 1, 2, 3, 4]
        ]
        await sink.stop()

    run(main())


def test_the_default_credential_chain_is_used_without_keys(
    s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    store = MemoryStore()

    async def main() -> None:
        sink = s3_sink(store, bucket=bucket, endpoint=s3_endpoint,
                       access_key_id=None, secret_access_key=None)  # fmt: skip
        sink.start()
        sink.offer("p", frame(0, 1))
        await sink.settled()
        await sink.stop()

    run(main())
    assert store.batches == []
    assert len(objects(s3_endpoint, bucket)) == 1


def test_a_missing_bucket_dead_letters_without_retrying(s3_endpoint: str) -> None:
    store = MemoryStore()

    async def main() -> None:
        sink = s3_sink(store, bucket="no-such-bucket", endpoint=s3_endpoint)
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        await sink.stop()

    run(main())
    assert store.dead_ids() == [0, 1]
    reason = store.dead["reason"][0]
    assert reason.startswith("S3 NoSuchBucket")
    assert "gave up" not in reason
    assert SECRET_ACCESS_KEY not in reason
