"""`flowc run` serving: webhooks in, polled sources on schedule, a clean stop on SIGTERM."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx

PROGRAM = """\
source hook: webhook {
  path: "/hooks/readings"
  secret: env("HOOK_SECRET")
  schema { sensor: str, temp: float }
}

source ticks: generate {
  every: 200ms
  batch: 2
  fields { n: { sequence: 1 } }
}

pipeline readings from hook {
  map {
    ts = now()
    sensor = sensor
    temp = temp
  }
  persist timescale readings { time: ts, key: (sensor, ts) }
}

pipeline counted from ticks {
  map { ts = now(), n = n }
  persist timescale counted { time: ts, key: (n, ts) }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def test_serve_takes_webhooks_runs_schedules_and_stops_cleanly(tmp_path: Path) -> None:
    program = tmp_path / "p.flow"
    program.write_text(PROGRAM)
    port = _free_port()
    env = {**os.environ, "HOOK_SECRET": "s3cret-hook"}
    flowc = Path(sys.executable).parent / "flowc"
    process = subprocess.Popen(
        [str(flowc), "run", str(program), "--port", str(port), "--log-format", "json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/hooks/readings"
        deadline = time.monotonic() + 30
        body = json.dumps([{"sensor": "a", "temp": 1.5}, {"sensor": "b", "temp": 2.5}]).encode()
        while True:
            try:
                response = httpx.post(url, content=body, headers=_signed(body, "s3cret-hook"))
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.2)
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 2}
        bad = httpx.post(url, content=body, headers=_signed(body, "wrong"))
        assert bad.status_code == 401
        assert "error" in bad.json()
        time.sleep(1.0)  # a few scheduled runs of `ticks`
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "s3cret-hook" not in stderr
    store = tmp_path / ".flowc" / "p.duckdb"
    with duckdb.connect(str(store), read_only=True) as conn:
        [(readings,)] = conn.execute('SELECT count(*) FROM "readings"').fetchall()
        [(counted,)] = conn.execute('SELECT count(*) FROM "counted"').fetchall()
    assert readings == 2
    assert counted >= 4  # at least two scheduled runs of two records
