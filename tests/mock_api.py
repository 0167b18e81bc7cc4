"""A small JSON API on 127.0.0.1 for the polled-source tests, plus in-memory test doubles.

`MockApi` runs a Starlette app under uvicorn in a thread, on a port the OS picks, so the
HTTP source is tested through real sockets: paging, headers, timeouts and retries behave as
they do against a real API. Every request is recorded. `script(path, Reply(...), ...)` makes
the next requests to a path answer a given status, headers and body, or answer late, before
the path's normal behaviour resumes: that is how 429, 500 and slow responses are staged.

The data: `items` (25 to start) with `id`, `name` and `updated_at` one minute apart, served
by one route per kind of pagination.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowc.runtime.executor import Batch, BatchOutcome

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PAGE = 10


def item(number: int) -> dict[str, Any]:
    stamp = (START + dt.timedelta(minutes=number)).isoformat().replace("+00:00", "Z")
    return {"id": number, "name": f"item {number}", "updated_at": stamp}


@dataclass
class Reply:
    """A staged answer. With `body` None and `status` 200, the route answers normally
    after `delay` seconds."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


class MockApi:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self.scripts: dict[str, deque[Reply]] = {}
        self.reset()
        routes: dict[str, Callable[[Request, dict[str, str], Any], Response]] = {
            "/page": self._page,
            "/offset": self._offset,
            "/cursor": self._cursor,
            "/link": self._link,
            "/graphql": self._graphql,
            "/events": self._events,
            "/echo": self._echo,
            "/flat": lambda request, query, body: JSONResponse(self.items[:3]),
        }
        self._routes = routes
        self.app = Starlette(
            routes=[Route(path, self._endpoint, methods=["GET", "POST"]) for path in routes]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def reset(self) -> None:
        self.items = [item(n) for n in range(1, 26)]
        self.requests.clear()
        self.scripts.clear()

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts.setdefault(path, deque()).extend(replies)

    def url(self, path: str) -> str:
        return self.base_url + path

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    # ---- lifecycle ----

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the mock API did not start within 10s")
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    # ---- routes ----

    async def _endpoint(self, request: Request) -> Response:
        raw = await request.body()
        body = (await request.json()) if raw else None
        query = dict(request.query_params)
        self.requests.append(
            Recorded(request.method, request.url.path, query, dict(request.headers), body)
        )
        staged = self.scripts.get(request.url.path)
        if staged:
            reply = staged.popleft()
            await asyncio.sleep(reply.delay)
            if reply.status != 200 or reply.body is not None:
                return JSONResponse(reply.body, reply.status, reply.headers)
        return self._routes[request.url.path](request, query, body)

    def _page(self, request: Request, query: dict[str, str], body: Any) -> Response:
        page, size = int(query.get("page", "1")), int(query.get("per_page", PAGE))
        return JSONResponse({"items": self.items[(page - 1) * size : page * size]})

    def _offset(self, request: Request, query: dict[str, str], body: Any) -> Response:
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", PAGE))
        rows = self.items[offset : offset + limit]
        return JSONResponse({"results": rows, "total": len(self.items)})

    def _after(self, after: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:
        start = 0 if after is None else int(after.removeprefix("id:"))
        rows = [i for i in self.items if i["id"] > start][:size]
        more = bool(rows) and rows[-1]["id"] < self.items[-1]["id"]
        return rows, f"id:{rows[-1]['id']}" if more else None

    def _cursor(self, request: Request, query: dict[str, str], body: Any) -> Response:
        rows, following = self._after(query.get("after"), PAGE)
        meta = {"next": following, "has_more": following is not None}
        return JSONResponse({"data": rows, "meta": meta})

    def _link(self, request: Request, query: dict[str, str], body: Any) -> Response:
        page = int(query.get("page", "1"))
        rows = self.items[(page - 1) * PAGE : page * PAGE]
        headers = {}
        if page * PAGE < len(self.items):
            headers["Link"] = f'</link?page={page + 1}>; rel="next", </link?page=1>; rel="first"'
        return JSONResponse(rows, headers=headers)

    def _graphql(self, request: Request, query: dict[str, str], body: Any) -> Response:
        if "broken" in body["query"]:
            return JSONResponse({"data": None, "errors": [{"message": "Field 'broken' not found"}]})
        variables = body.get("variables") or {}
        since = variables.get("since")
        rows, following = self._after(variables.get("after"), int(variables.get("first", PAGE)))
        if since is not None:
            rows = [r for r in rows if r["updated_at"] > since]
        info = {"endCursor": following, "hasNextPage": following is not None}
        return JSONResponse({"data": {"items": {"nodes": rows, "pageInfo": info}}})

    def _events(self, request: Request, query: dict[str, str], body: Any) -> Response:
        since = query.get("since", "")
        newer = sorted((i for i in self.items if i["updated_at"] > since), key=lambda i: i["id"])
        page = int(query.get("page", "1"))
        return JSONResponse({"events": newer[(page - 1) * PAGE : page * PAGE]})

    def _echo(self, request: Request, query: dict[str, str], body: Any) -> Response:
        return JSONResponse({"headers": dict(request.headers), "query": query, "id": 1})


class MemoryState:
    """SourceState in memory; `saves` lists every value saved, in order."""

    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.saves: list[str] = []

    async def load_cursor(self, source: str) -> str | None:
        return self.cursors.get(source)

    async def save_cursor(self, source: str, value: str) -> None:
        self.cursors[source] = value
        self.saves.append(value)


class Collector:
    """An Emit that keeps the batches; `fail_on` makes the n-th batch (from 1) raise, as a
    failing pipeline would."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[Batch] = []
        self.fail_on = fail_on

    async def __call__(self, batch: Batch) -> list[BatchOutcome]:
        if self.fail_on is not None and len(self.batches) + 1 == self.fail_on:
            raise RuntimeError("the pipeline failed")
        self.batches.append(batch)
        return [BatchOutcome(records_in=batch.frame.height)]

    def column(self, name: str) -> list[Any]:
        return [value for batch in self.batches for value in batch.frame[name].to_list()]
