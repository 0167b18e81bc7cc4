"""kill -9 in the middle of a stream of webhooks loses no acknowledged record.

A real server process (tests/webhook_server.py: a Runtime on a DuckDB file, served by
uvicorn on 127.0.0.1) takes signed webhooks from concurrent senders and is killed with
SIGKILL while they are sending, several times over. Each restart replays the spool. At
the end every record that was answered 202 must be in the store exactly once (the
pipeline has a key, so a replayed batch adds nothing twice), and nothing that was never
sent may be there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import orjson

from flowc.runtime.spool import Spool
from tests.webhook_server import ENV, sign

ROOT = Path(__file__).resolve().parent.parent
SENDERS = 8
RECORDS_PER_REQUEST = 20
ROUNDS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(db: Path, spool: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.webhook_server", str(db), str(spool), str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)  # 404 once it serves
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"the server did not start:\n{log.read_text()}")


async def send_until_killed(
    port: int, first_id: int, acknowledged: set[int], sent: set[int], stop_after: float
) -> None:
    """Senders post batches of new ids; a batch counts as acknowledged only on a 202."""
    stop = asyncio.Event()
    next_id = first_id

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal next_id
        while not stop.is_set():
            ids = range(next_id, next_id + RECORDS_PER_REQUEST)
            next_id += RECORDS_PER_REQUEST
            body = b"\n".join(
                orjson.dumps({"id": i, "sensor": f"s{i % 7}", "temp": i / 10,
                              "ts": "2026-01-01T00:00:00Z"})
                for i in ids
            )  # fmt: skip
            sent.update(ids)
            try:
                response = await client.post(
                    "/hooks/readings",
                    content=body,
                    headers={"X-Hub-Signature-256": sign(body),
                             "content-type": "application/x-ndjson"},
                )  # fmt: skip
            except httpx.TransportError:
                await asyncio.sleep(0.01)  # killed: keep trying until told to stop
                continue
            if response.status_code == 202:
                assert response.json() == {"accepted": RECORDS_PER_REQUEST}
                acknowledged.update(ids)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        tasks = [asyncio.create_task(sender(client)) for _ in range(SENDERS)]
        await asyncio.sleep(stop_after)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


def test_kill_9_mid_stream_loses_no_acknowledged_record(tmp_path: Path) -> None:
    db, spool, log = tmp_path / "store.duckdb", tmp_path / "spool", tmp_path / "server.log"
    acknowledged: set[int] = set()
    sent: set[int] = set()
    port = free_port()
    for round_ in range(ROUNDS):
        server = start_server(db, spool, port, log)
        try:
            wait_ready(port, server, log)

            async def stream(pid: int = server.pid, round_: int = round_) -> None:
                loop = asyncio.get_running_loop()
                # SIGKILL lands in the middle of the stream, senders still sending.
                loop.call_later(0.8 + 0.3 * round_, os.kill, pid, signal.SIGKILL)
                await send_until_killed(port, round_ * 10_000_000, acknowledged, sent, 1.5)

            asyncio.run(stream())
        finally:
            server.kill()
            server.wait(30)
        assert server.returncode == -signal.SIGKILL
    assert len(acknowledged) > 100, "too few requests went through to test anything"

    # The last start replays what the last kill interrupted; then a clean stop.
    server = start_server(db, spool, port, log)
    try:
        wait_ready(port, server, log)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    # uvicorn shuts down gracefully, then raises the signal again for its parent to see.
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()
    left = Spool.open(spool)
    assert left.pending_count == 0  # everything replayed and marked done
    asyncio.run(left.close())

    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.execute("SELECT id, count(*) FROM readings GROUP BY id").fetchall()
    counts = {int(i): int(n) for i, n in rows}
    missing = acknowledged - counts.keys()
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"
    assert {i for i, n in counts.items() if n > 1} == set()
    assert counts.keys() <= sent
    replays = [line for line in log.read_text().splitlines() if "replayed" in line]
    print(
        f"\n{len(acknowledged)} records acknowledged, {len(counts)} stored "
        f"({len(counts) - len(acknowledged)} sent but unacknowledged also made it); "
        f"replays: {replays}"
    )
