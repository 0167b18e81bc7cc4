"""A webhook server for the tests: a Runtime on a DuckDB file, served by uvicorn.

`python -m tests.webhook_server DB SPOOL PORT` serves PROGRAM on 127.0.0.1:PORT until it is
killed; tests/test_crash_safety.py kills it with SIGKILL mid-stream and starts it again.
`GET /_test/metrics` gives the webhooks' and pipelines' counters (for the benchmark).
`... PORT bare` serves instead an ASGI app that only parses the JSON, the benchmark's
baseline. The tests also import PROGRAM and `start_runtime` to build the same in process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import sys
from pathlib import Path

import orjson
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from flowc.compiler.checker import check_text
from flowc.runtime.app import Runtime
from flowc.runtime.server import build_app
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.webhooks import WebhookSettings

SECRET = "it's a secret"
TOKEN = "t0k3n"
ENV = {"FLOWC_TEST_WEBHOOK_SECRET": SECRET, "FLOWC_TEST_WEBHOOK_TOKEN": TOKEN}

PROGRAM = """\
source readings_in: webhook {
  path: "/hooks/readings"
  secret: env("FLOWC_TEST_WEBHOOK_SECRET")
  max_body: 65536
  schema {
    id: int
    sensor: str
    temp: float?
    ts: timestamp
    meta: json?
  }
}

source events_in: webhook {
  path: "/hooks/events"
  token: env("FLOWC_TEST_WEBHOOK_TOKEN")
  records: "$.data.items[*]"
  schema {
    id: int
    kind: str
  }
}

pipeline readings from readings_in {
  persist timescale readings { time: ts, key: (id) }
}

pipeline events from events_in {
}
"""


def sign(body: bytes, secret: str = SECRET) -> str:
    """The X-Hub-Signature-256 header GitHub would send with `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _DuckDBStore(DuckDBStore):
    """DuckDBStore, reading its row counts to the end.

    duckdb 2 refuses new work on a connection whose last result was not read to the end,
    and `DuckDBStore._count` reads one row with fetchone(), so the store's second write
    fails. Remove this class once runtime/store/duckdb_store.py uses fetchall() there.
    """

    def _count(self, table: str) -> int:
        rows = self.connection.execute(f'SELECT count(*) FROM "{table}"').fetchall()
        return int(rows[0][0])


async def start_runtime(db: Path, program: str = PROGRAM) -> Runtime:
    result = check_text(program, "webhooks.flow")
    assert not [d for d in result.diagnostics if d.code.startswith("E")], result.diagnostics
    return await Runtime.start(result, _DuckDBStore(db))


class _Metrics:
    """A server component: the counters as JSON, read by the benchmark."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def routes(self) -> list[BaseRoute]:
        return [Route("/_test/metrics", self.metrics)]

    async def metrics(self, request: Request) -> Response:
        webhooks = request.app.state.webhooks
        body = {
            "webhooks": {n: dataclasses.asdict(e.metrics) for n, e in webhooks.endpoints.items()},
            "pipelines": {n: {"batches": m.batches, "records_in": m.records_in,
                              "stored": m.stored}
                          for n, m in self.runtime.metrics.pipelines.items()},
        }  # fmt: skip
        return Response(orjson.dumps(body), media_type="application/json")

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The baseline: read the body, parse the JSON (lines), answer 202; nothing else."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    lines = [line for line in b"".join(chunks).split(b"\n") if line.strip()]
    records = list(map(orjson.loads, lines))
    answer = orjson.dumps({"accepted": len(records)})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


async def serve(db: Path, spool: Path, port: int, bare: bool = False) -> None:
    if bare:
        config = uvicorn.Config(bare_app, host="127.0.0.1", port=port, log_level="warning")
        await uvicorn.Server(config).serve()
        return
    runtime = await start_runtime(db)
    app = build_app(runtime, spool_dir=spool, settings=WebhookSettings(),
                    components=[_Metrics(runtime)])  # fmt: skip
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    try:
        await uvicorn.Server(config).serve()
    finally:
        await runtime.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("flowc").setLevel(logging.INFO)  # "replayed N records" after a crash
    bare = sys.argv[4:] == ["bare"]
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), bare))
