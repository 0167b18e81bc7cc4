"""The http sink against a loopback endpoint that the tests start, stop and script."""

from __future__ import annotations

import asyncio
import datetime as dt
import http
import json
import logging
import socket
import time
from collections import deque
from typing import Any

import pytest

from flowc.runtime.metrics import Metrics
from flowc.runtime.sinks.base import SinkWorker
from flowc.runtime.sinks.http import HttpDestination, retry_after
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.http_sink import HttpSink
from tests.test_sinks import MemoryStore, frame, run

FAST = {"attempts": 3, "backoff": dt.timedelta(milliseconds=5),
        "max_backoff": dt.timedelta(milliseconds=20)}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Endpoint:
    """A minimal HTTP/1.1 server on 127.0.0.1 (keep-alive included, as httpx uses it).

    `answers` scripts the status and headers of the next responses (200 once it is empty);
    the JSON bodies of the 2xx-answered requests are in `received`.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.answers: deque[tuple[int, dict[str, str], str]] = deque()
        self.received: list[list[dict[str, Any]]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.times: list[float] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, value = header.decode().split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((method, path, headers))
                self.times.append(time.monotonic())
                status, extra, text = self.answers.popleft() if self.answers else (200, {}, "")
                if 200 <= status < 300:
                    self.received.append(json.loads(body))
                lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
                         f"content-length: {len(text.encode())}",
                         *(f"{k}: {v}" for k, v in extra.items())]  # fmt: skip
                writer.write(("\r\n".join(lines) + "\r\n\r\n" + text).encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def ids(self) -> list[int]:
        return [record["id"] for body in self.received for record in body]


def http_sink(config: dict[str, Any], store: MemoryStore) -> SinkWorker:
    model = HttpSink.model_validate({"retry": FAST, **config})
    return SinkWorker(
        "hook", HttpDestination(model), store=store, metrics=Metrics(), retry=model.retry
    )


def test_records_are_posted_as_json_arrays_of_batch_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_AUTH", "Bearer t0ken")

    async def main() -> None:
        endpoint, store = Endpoint(), MemoryStore()
        await endpoint.start()
        sink = http_sink(
            {
                "url": endpoint.url,
                "batch": 2,
                "method": "PUT",
                "headers": {"Authorization": EnvRef("HOOK_AUTH"), "X-Source": "flowc"},
            },
            store,
        )
        sink.start()
        sink.offer("p", frame(0, 3))
        sink.offer("p", frame(3, 2))
        await sink.settled()
        await sink.stop()
        await endpoint.stop()
        assert [len(body) for body in endpoint.received] == [2, 2, 1]
        assert endpoint.received[0] == [{"id": 0, "name": "r0"}, {"id": 1, "name": "r0"}]
        method, path, headers = endpoint.requests[0]
        assert (method, path) == ("PUT", "/hook")
        assert headers["authorization"] == "Bearer t0ken"
        assert headers["x-source"] == "flowc"
        assert headers["content-type"] == "application/json"
        assert sink.metrics.of("p").sink_deliveries == {"hook": 5}

    run(main())


def test_an_endpoint_that_is_down_for_a_while_gets_every_record_once_back() -> None:
    async def main() -> None:
        endpoint, store = Endpoint(), MemoryStore()  # not listening yet: connection refused
        retry = {"attempts": 8, "backoff": dt.timedelta(milliseconds=50),
                 "max_backoff": dt.timedelta(milliseconds=200)}  # fmt: skip
        sink = http_sink({"url": endpoint.url, "batch": 10, "retry": retry}, store)
        sink.start()
        for start in range(0, 30, 5):
            started = time.perf_counter()
            assert sink.offer("p", frame(start, 5))
            assert time.perf_counter() - started < 0.05  # ingestion never waits for the sink
        await asyncio.sleep(0.3)
        assert endpoint.received == []
        await endpoint.start()
        await sink.settled()
        await sink.stop()
        await endpoint.stop()
        assert sorted(endpoint.ids()) == list(range(30))
        assert store.batches == []

    run(main())


def test_an_endpoint_that_stays_down_leaves_every_record_in_the_dead_letters() -> None:
    async def main() -> None:
        endpoint, store = Endpoint(), MemoryStore()
        sink = http_sink({"url": endpoint.url, "batch": 4}, store)
        sink.start()
        sink.offer("p", frame(0, 10))
        await sink.settled()
        await sink.stop()
        assert store.dead_ids() == list(range(10))
        reason = store.dead["reason"][0]
        assert reason.startswith("ConnectError")
        assert reason.endswith("(gave up after 3 attempts)")
        assert sink.metrics.of("p").sink_failures == {"hook": 10}

    run(main())


def test_429_and_5xx_are_retried_honouring_retry_after() -> None:
    async def main() -> None:
        endpoint, store = Endpoint(), MemoryStore()
        endpoint.answers.extend(
            [(429, {"Retry-After": "1"}, "slow down"), (503, {}, ""), (502, {}, "")]
        )
        await endpoint.start()
        sink = http_sink(
            {"url": endpoint.url, "retry": {**FAST, "attempts": 4}},
            store,
        )
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        await sink.stop()
        await endpoint.stop()
        assert len(endpoint.requests) == 4
        assert endpoint.ids() == [0, 1]
        # max_backoff is 20ms, but the server asked for a second.
        assert endpoint.times[1] - endpoint.times[0] >= 0.95
        assert endpoint.times[3] - endpoint.times[1] < 0.5
        assert store.batches == []

    run(main())


def test_a_4xx_answer_is_not_retried_and_its_records_are_dead_lettered() -> None:
    async def main() -> None:
        endpoint, store = Endpoint(), MemoryStore()
        endpoint.answers.append((400, {}, '{"error": "field `name` is not allowed"}'))
        await endpoint.start()
        sink = http_sink({"url": endpoint.url, "batch": 5}, store)
        sink.start()
        sink.offer("p", frame(0, 5))
        sink.offer("p", frame(5, 2))
        await sink.settled()
        await sink.stop()
        await endpoint.stop()
        assert len(endpoint.requests) == 2  # the first batch once, then the second
        assert store.dead_ids() == [0, 1, 2, 3, 4]
        assert store.dead["reason"][0] == (
            'HTTP 400 Bad Request: {"error": "field `name` is not allowed"}'
        )
        assert endpoint.ids() == [5, 6]

    run(main())


def test_a_secret_url_never_appears_in_reasons_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        endpoint, store = Endpoint(), MemoryStore()
        secret_url = f"http://127.0.0.1:{endpoint.port}/hooks/T0KEN-abc123"
        monkeypatch.setenv("ALERT_HOOK_URL", secret_url)
        endpoint.answers.append((404, {}, f"no hook at {secret_url}"))
        await endpoint.start()
        sink = http_sink({"url": EnvRef("ALERT_HOOK_URL")}, store)
        sink.start()
        sink.offer("p", frame(0, 1))
        await sink.settled()
        await sink.stop()
        await endpoint.stop()
        assert endpoint.requests[0][1] == "/hooks/T0KEN-abc123"
        assert list(store.dead["reason"]) == ["HTTP 404 Not Found: no hook at ***"]

    run(main())
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)
    assert not any("T0KEN-abc123" in r.getMessage() for r in caplog.records)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after("3") == 3.0
    assert retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after("soon") is None
    assert retry_after(None) is None
