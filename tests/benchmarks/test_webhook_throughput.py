"""Benchmark: webhooks through the whole runtime, against a bare ASGI app that only parses.

Two servers, one after the other, each in its own process with uvicorn on 127.0.0.1:

- the baseline: an ASGI app that reads the body, parses the JSON lines and answers 202;
- flowc: HMAC check, parsing, conversion to a frame, the spool (fsync), the plan, and
  DuckDB inserts with ON CONFLICT on the key (tests/webhook_server.py).

The same load for both: CONNECTIONS keep-alive connections, each posting signed JSON lines
of RECORDS records as fast as answers come, for SECONDS seconds (FLOWC_BENCH_SECONDS).
The client is a few lines of HTTP/1.1 on asyncio streams, so that it costs the machine
less than the servers do. Prints requests/s, records/s, p50 and p99 latency, and for
flowc how many spool entries and plan runs served the requests. Asserts only that
every request was answered 202 and every record of flowc's stored.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

from tests.webhook_server import ENV, sign

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("FLOWC_BENCH_SECONDS", "10"))
CONNECTIONS = 32
RECORDS = 10


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    records: int = 0
    seconds: float = 0.0

    def report(self, name: str) -> str:
        ordered = sorted(self.latencies)
        requests = len(ordered)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(requests - 1, int(requests * 0.99))] * 1000
        return (
            f"{name:<9} {requests / self.seconds:>8.0f} req/s {self.records / self.seconds:>9.0f}"
            f" records/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   ({requests} requests)"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(tmp: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    args = [str(tmp / "store.duckdb"), str(tmp / "spool"), str(port), *extra]
    process = subprocess.Popen([sys.executable, "-m", "tests.webhook_server", *args],
                               cwd=ROOT, env=env)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


async def load(port: int, seconds: float, first_id: int = 0) -> Load:
    result = Load()
    next_id = first_id
    end = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal next_id
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < end:
                ids = range(next_id, next_id + RECORDS)
                next_id += RECORDS
                body = b"\n".join(
                    b'{"id":%d,"sensor":"s%d","temp":%d.5,"ts":"2026-01-01T00:00:00Z"}'
                    % (i, i % 10, i % 40)
                    for i in ids
                )
                head = (
                    "POST /hooks/readings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/x-ndjson\r\n"
                    f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {sign(body)}\r\n\r\n"
                )
                started = time.perf_counter()
                writer.write(head.encode() + body)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == 202:
                    result.records += orjson.loads(answer)["accepted"]
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    result.seconds = time.perf_counter() - started
    return result


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(60)


def test_webhook_throughput_against_bare_asgi(tmp_path: Path) -> None:
    port = free_port()
    bare = start(tmp_path, port, "bare")
    try:
        asyncio.run(load(port, 1.0))  # warm up
        baseline = asyncio.run(load(port, SECONDS))
    finally:
        stop(bare)

    server = start(tmp_path, port)
    try:
        warm = asyncio.run(load(port, 1.0, first_id=10**12))
        before = httpx.get(f"http://127.0.0.1:{port}/_test/metrics").json()
        flowc = asyncio.run(load(port, SECONDS))
        time.sleep(1.0)  # let the pipelines finish the last batches
        after = httpx.get(f"http://127.0.0.1:{port}/_test/metrics").json()
    finally:
        stop(server)

    def delta(path: tuple[str, ...]) -> int:
        a: Any = after
        b: Any = before
        for key in path:
            a, b = a[key], b[key]
        return int(a) - int(b)

    entries = delta(("webhooks", "readings_in", "spooled"))
    plans = delta(("pipelines", "readings", "batches"))
    requests = len(flowc.latencies)
    print()
    print(f"{CONNECTIONS} connections, {RECORDS} records per request, {SECONDS:.0f} s each")
    print(baseline.report("bare ASGI"))
    print(flowc.report("flowc"))
    print(
        f"flowc: {requests} requests in {entries} spool entries and {plans} plan runs:"
        f" {requests / max(entries, 1):.1f} requests per entry,"
        f" {requests / max(plans, 1):.1f} per plan run;"
        f" {len(flowc.latencies) / len(baseline.latencies):.2f}x the bare app's requests"
    )
    assert set(baseline.statuses) == {202}
    assert set(flowc.statuses) == {202}
    with duckdb.connect(str(tmp_path / "store.duckdb"), read_only=True) as connection:
        row = connection.execute("SELECT count(*) FROM readings").fetchone()
    assert row is not None
    assert row[0] == warm.records + flowc.records
