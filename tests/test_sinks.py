"""Sinks: the worker (buffer, batching, retries, dead letters, shutdown) and build_sink.

Each kind has its own module (test_sinks_files, _http, _postgres, _s3); they share the
helpers here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pytest

from flowc.compiler import manifest
from flowc.compiler.sql.ddl import ddl_statements
from flowc.runtime.metrics import Metrics
from flowc.runtime.sinks.base import (
    Delivery,
    Destination,
    PermanentError,
    RetryableError,
    SinkConfigError,
    SinkWorker,
    redact,
)
from flowc.runtime.sinks.build import build_sink
from flowc.runtime.sinks.files import FileDestination
from flowc.runtime.store.base import DEAD_LETTER_SCHEMA
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store.state import DEAD_LETTER_TABLE
from flowc.stdlib.connectors.common import SinkRetryPolicy

T = TypeVar("T")
FAST = SinkRetryPolicy(
    attempts=3, backoff=dt.timedelta(milliseconds=5), max_backoff=dt.timedelta(milliseconds=20)
)


def run(coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
    """Run a test coroutine, bounded in time so that a hung sink fails instead of hanging."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def frame(start: int, count: int) -> pl.DataFrame:
    return pl.DataFrame({"id": list(range(start, start + count)), "name": [f"r{start}"] * count})


class MemoryStore:
    """The Store protocol, in memory: only dead letters are used by sinks."""

    dialect = "duckdb"
    description = "memory"

    def __init__(self) -> None:
        self.batches: list[pl.DataFrame] = []

    @property
    def dead(self) -> pl.DataFrame:
        return pl.concat(self.batches) if self.batches else pl.DataFrame(schema=DEAD_LETTER_SCHEMA)

    def dead_ids(self) -> list[int]:
        return sorted(json.loads(r)["id"] for r in self.dead["record"])

    async def dead_letters(self, letters: pl.DataFrame) -> None:
        assert letters.schema == pl.Schema(DEAD_LETTER_SCHEMA)
        self.batches.append(letters)

    async def prepare(self, compiled: Any, *, allow_breaking: bool) -> Any:
        raise NotImplementedError

    async def write(self, table: Any, frame: pl.DataFrame, batch: int) -> int:
        raise NotImplementedError

    async def record_run(self, run: Any) -> None:
        raise NotImplementedError

    async def load_cursor(self, source: str) -> str | None:
        return None

    async def save_cursor(self, source: str, value: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class Recorder(Destination):
    """A destination that records deliveries; it can fail on cue or block until released."""

    kind = "test"

    def __init__(
        self,
        max_rows: int | None = None,
        failures: list[Exception] | None = None,
        hold: dt.timedelta = dt.timedelta(0),
    ) -> None:
        self.max_rows = max_rows
        self.failures = list(failures or [])
        self.hold = hold
        self.gate: asyncio.Event | None = None
        self.deliveries: list[Delivery] = []
        self.attempts = 0
        self.closed = False

    def due(self, received: dt.datetime) -> dt.datetime:
        return received + self.hold

    async def deliver(self, delivery: Delivery) -> None:
        self.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.deliveries.append(delivery)

    async def close(self) -> None:
        self.closed = True

    def ids(self) -> list[int]:
        return [i for d in self.deliveries for i in d.frame["id"].to_list()]


def worker(
    destination: Destination, store: MemoryStore, metrics: Metrics | None = None, **options: Any
) -> SinkWorker:
    options.setdefault("retry", FAST)
    return SinkWorker("out", destination, store=store, metrics=metrics or Metrics(), **options)


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# ---- the worker ----


def test_batches_are_concatenated_up_to_the_batch_size_in_order() -> None:
    async def main() -> None:
        dest, store = Recorder(max_rows=3), MemoryStore()
        sink = worker(dest, store)
        for start in (0, 2, 4, 6):
            assert sink.offer("p", frame(start, 2))
        sink.start()
        await sink.settled()
        assert [d.frame.height for d in dest.deliveries] == [3, 3, 2]
        assert dest.ids() == list(range(8))
        assert sink.metrics.of("p").sink_deliveries == {"out": 8}
        await sink.stop()
        assert dest.closed

    run(main())


def test_pipelines_are_delivered_separately() -> None:
    async def main() -> None:
        dest, store = Recorder(), MemoryStore()
        sink = worker(dest, store)
        sink.offer("a", frame(0, 2))
        sink.offer("b", pl.DataFrame({"other": ["x"]}))
        sink.offer("a", frame(2, 1))
        sink.start()
        await sink.settled()
        assert [(d.pipeline, d.frame.height) for d in dest.deliveries] == [("a", 3), ("b", 1)]
        await sink.stop()

    run(main())


def test_offer_never_waits_and_says_no_when_the_buffer_is_full() -> None:
    async def main() -> None:
        dest, store = Recorder(), MemoryStore()
        dest.gate = asyncio.Event()  # the destination hangs: nothing is ever delivered
        sink = worker(dest, store, capacity=10)
        sink.start()
        assert sink.offer("p", frame(0, 4))
        await asyncio.sleep(0.05)  # the worker takes it: in flight, hanging
        started = time.perf_counter()
        answers = [sink.offer("p", frame(10 * i, 4)) for i in range(1, 5)]
        assert time.perf_counter() - started < 0.05
        assert answers == [True, True, False, False]  # 8 rows buffered, 4 more would overflow
        assert sink.buffered == 8
        await sink.stop(timeout=0.2)
        # What was held, in flight or queued, is in the dead-letter store; nothing is lost.
        assert store.dead_ids() == [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]
        assert set(store.dead["reason"]) == {"not delivered within the 0.2s shutdown timeout"}
        assert set(store.dead["rule"]) == {"sink out"}
        assert set(store.dead["action"]) == {"undelivered"}
        assert sink.metrics.of("p").sink_failures == {"out": 12}
        assert not sink.offer("p", frame(99, 1))  # stopped: takes nothing more

    run(main())


def test_a_batch_larger_than_the_buffer_is_taken_when_the_buffer_is_empty() -> None:
    async def main() -> None:
        dest = Recorder()
        sink = worker(dest, MemoryStore(), capacity=5)
        assert sink.offer("p", frame(0, 50))
        assert not sink.offer("p", frame(50, 1))
        sink.start()
        await sink.settled()
        assert dest.ids() == list(range(50))
        await sink.stop()

    run(main())


def test_a_hanging_sink_does_not_hold_up_another() -> None:
    async def main() -> None:
        slow, fast, store = Recorder(), Recorder(), MemoryStore()
        slow.gate = asyncio.Event()
        sinks = [worker(slow, store), worker(fast, store)]
        for sink in sinks:
            sink.start()
            assert sink.offer("p", frame(0, 3))
        await asyncio.wait_for(sinks[1].settled(), 1.0)
        assert fast.ids() == [0, 1, 2]
        slow.gate.set()
        await sinks[0].settled()
        assert slow.ids() == [0, 1, 2]
        for sink in sinks:
            await sink.stop()

    run(main())


def test_failures_are_retried_then_delivered() -> None:
    async def main() -> None:
        dest = Recorder(failures=[ConnectionError("refused"), RetryableError("HTTP 503")])
        store = MemoryStore()
        sink = worker(dest, store)
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        assert dest.attempts == 3
        assert dest.ids() == [0, 1]
        assert store.batches == []
        await sink.stop()

    run(main())


def test_what_still_fails_after_every_attempt_is_dead_lettered() -> None:
    async def main() -> None:
        dest = Recorder(failures=[ConnectionError("refused")] * 3)
        store = MemoryStore()
        sink = worker(dest, store)
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        assert dest.attempts == 3
        assert store.dead_ids() == [0, 1]
        assert store.dead["reason"][0] == "ConnectionError: refused (gave up after 3 attempts)"
        assert json.loads(store.dead["record"][0]) == {"id": 0, "name": "r0"}
        assert sink.metrics.of("p").sink_failures == {"out": 2}
        assert sink.metrics.of("p").sink_deliveries == {}
        await sink.stop()

    run(main())


def test_a_permanent_error_is_not_retried() -> None:
    async def main() -> None:
        dest, store = Recorder(failures=[PermanentError("HTTP 400 Bad Request")]), MemoryStore()
        sink = worker(dest, store)
        sink.start()
        sink.offer("p", frame(0, 1))
        await sink.settled()
        assert dest.attempts == 1
        assert list(store.dead["reason"]) == ["HTTP 400 Bad Request"]
        await sink.stop()

    run(main())


def test_backoff_doubles_with_jitter_up_to_the_maximum_and_honours_retry_after() -> None:
    policy = SinkRetryPolicy(
        attempts=10, backoff=dt.timedelta(seconds=1), max_backoff=dt.timedelta(seconds=5)
    )
    sink = SinkWorker("s", Recorder(), store=MemoryStore(), metrics=Metrics(), retry=policy)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        delays = [sink.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jitter: not all the same
    assert sink.backoff(1, retry_after=30.0) == 30.0  # the server knows better than max_backoff
    assert sink.backoff(1, retry_after=86_400.0) == 900.0  # but a day looks broken


def test_secrets_never_appear_in_reasons() -> None:
    async def main() -> None:
        dest = Recorder(failures=[PermanentError("refused by https://x/hook/S3CR3T-TOKEN")])
        dest.secrets = ("S3CR3T-TOKEN",)
        store = MemoryStore()
        sink = worker(dest, store)
        sink.start()
        sink.offer("p", frame(0, 1))
        await sink.settled()
        assert list(store.dead["reason"]) == ["refused by https://x/hook/***"]
        await sink.stop()

    run(main())
    assert redact("a-long-secret and a-long-secret-2", ("a-long-secret", "a-long-secret-2")) == (
        "*** and ***"
    )


def test_records_waiting_for_a_flush_go_out_on_settled_and_on_stop() -> None:
    async def main() -> None:
        dest, store = Recorder(max_rows=100, hold=dt.timedelta(hours=1)), MemoryStore()
        sink = worker(dest, store)
        sink.start()
        sink.offer("p", frame(0, 2))
        await asyncio.sleep(0.05)
        assert dest.deliveries == []  # waiting for 100 rows or an hour
        await sink.settled()
        assert dest.ids() == [0, 1]
        sink.offer("p", frame(2, 2))
        await sink.stop(timeout=2)
        assert dest.ids() == [0, 1, 2, 3]
        assert store.batches == []

    run(main())


def test_a_full_batch_goes_out_without_waiting_for_the_flush_interval() -> None:
    async def main() -> None:
        dest = Recorder(max_rows=4, hold=dt.timedelta(hours=1))
        sink = worker(dest, MemoryStore())
        sink.start()
        sink.offer("p", frame(0, 3))
        sink.offer("p", frame(3, 3))
        await asyncio.sleep(0.1)
        assert [d.frame.height for d in dest.deliveries] == [4]
        await sink.stop()
        assert dest.ids() == list(range(6))

    run(main())


def test_stop_without_flush_dead_letters_everything_held() -> None:
    async def main() -> None:
        dest, store = Recorder(hold=dt.timedelta(hours=1)), MemoryStore()
        sink = worker(dest, store)
        sink.offer("p", frame(0, 3))  # never started
        await sink.stop(flush=False)
        assert dest.deliveries == []
        assert store.dead_ids() == [0, 1, 2]
        assert set(store.dead["reason"]) == {"the sink was stopped before delivery"}

    run(main())


def test_stop_interrupts_retries_and_keeps_the_last_error() -> None:
    async def main() -> None:
        slow = SinkRetryPolicy(attempts=5, backoff=dt.timedelta(seconds=30))
        dest, store = Recorder(failures=[ConnectionError("refused")] * 5), MemoryStore()
        sink = worker(dest, store, retry=slow)
        sink.start()
        sink.offer("p", frame(0, 2))
        await asyncio.sleep(0.05)  # first attempt failed; now waiting 15-30s to retry
        started = time.perf_counter()
        await sink.stop(timeout=0.1)
        assert time.perf_counter() - started < 1
        assert store.dead_ids() == [0, 1]
        assert store.dead["reason"][0] == (
            "not delivered within the 0.1s shutdown timeout; last error: ConnectionError: refused"
        )

    run(main())


def test_dead_letters_land_in_the_duckdb_store(tmp_path: Path) -> None:
    async def main() -> None:
        store = DuckDBStore(tmp_path / "state.duckdb")
        for statement in ddl_statements(DEAD_LETTER_TABLE, "duckdb"):
            store.connection.execute(statement)
        dest = Recorder(failures=[PermanentError("HTTP 404 Not Found")])
        sink = SinkWorker("alerts", dest, store=store, metrics=Metrics(), retry=FAST)
        sink.start()
        sink.offer("weather", frame(0, 2))
        await sink.settled()
        await sink.stop()
        rows = store.query(
            "SELECT pipeline, rule, action, reason, record FROM flowc_dead_letters ORDER BY record",
            {},
        )
        await store.close()
        assert rows == [
            ("weather", "sink alerts", "undelivered", "HTTP 404 Not Found", '{"id":0,"name":"r0"}'),
            ("weather", "sink alerts", "undelivered", "HTTP 404 Not Found", '{"id":1,"name":"r0"}'),
        ]

    run(main())


# ---- building from the manifest ----


def test_build_sink_reads_the_manifest_config_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = manifest.Sink(
        name="log", kind="file", file="x.flow", config={"path": "o.jsonl", "format": "jsonl"}
    )
    sink = build_sink(spec, MemoryStore(), Metrics(), tmp_path)
    assert isinstance(sink.destination, FileDestination)
    assert sink.retry == SinkRetryPolicy()
    http = manifest.Sink(
        name="hook",
        kind="http",
        file="x.flow",
        config={"url": {"name": "HOOK_URL"}, "retry": {"attempts": 2, "backoff": "2s"}},
    )
    monkeypatch.delenv("HOOK_URL", raising=False)
    with pytest.raises(SinkConfigError, match="sink `hook`: the url comes from the environment"):
        build_sink(http, MemoryStore(), Metrics(), tmp_path)
    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/hook")
    built = build_sink(http, MemoryStore(), Metrics(), tmp_path)
    assert built.retry.attempts == 2
    assert built.retry.backoff == dt.timedelta(seconds=2)
    with pytest.raises(SinkConfigError, match="unknown kind `kafka`"):
        build_sink(manifest.Sink(name="k", kind="kafka", file="x", config={}), MemoryStore(),
                   Metrics(), tmp_path)  # fmt: skip
