"""Webhooks end to end: signatures, tokens, bodies, limits, micro-batching, replay, DuckDB.

Each test builds the program of tests/webhook_server.py on a DuckDB file in tmp_path and
serves it in process through the app's lifespan (httpx's ASGI transport), or with uvicorn
on 127.0.0.1 where the real HTTP framing matters (chunked bodies).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Coroutine, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette

from flowc.runtime.app import Runtime
from flowc.runtime.server import Webhooks, build_app
from flowc.runtime.spool import Spool
from flowc.runtime.webhooks import WebhookConfigError, WebhookSettings, encode_entry
from tests.webhook_server import ENV, PROGRAM, TOKEN, sign, start_runtime

T = TypeVar("T")
READINGS = "/hooks/readings"
EVENTS = "/hooks/events"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


_OPEN: list[Runtime] = []  # runtimes `served` started: closed when the scenario ends


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a scenario, bounded in time; its runtimes stay open to the end so that the
    store can be read after the server stopped (and so processed everything)."""

    async def bounded() -> T:
        try:
            return await asyncio.wait_for(coroutine, 60)
        finally:
            while _OPEN:
                await _OPEN.pop().close()

    return asyncio.run(bounded())


def reading(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": i, "sensor": f"s{i % 3}", "temp": 20.5, "ts": "2026-01-01T00:00:00Z", **extra}


@dataclass
class Served:
    app: Starlette
    runtime: Runtime
    client: httpx.AsyncClient

    @property
    def webhooks(self) -> Webhooks:
        webhooks = self.app.state.webhooks
        assert isinstance(webhooks, Webhooks)
        return webhooks

    async def post(self, body: bytes, *, signature: str | None = "auto",
                   content_type: str = "application/json", path: str = READINGS,
                   headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
        sent = {"content-type": content_type, **(headers or {})}
        if signature == "auto":
            sent["X-Hub-Signature-256"] = sign(body)
        elif signature is not None:
            sent["X-Hub-Signature-256"] = signature
        return await self.client.post(path, content=body, headers=sent)

    def rows(self, sql: str = "SELECT id FROM readings ORDER BY id") -> list[tuple[Any, ...]]:
        store = self.runtime.store
        assert hasattr(store, "query")
        return list(store.query(sql, {}))


@asynccontextmanager
async def served(tmp_path: Path, settings: WebhookSettings | None = None) -> AsyncIterator[Served]:
    runtime = await start_runtime(tmp_path / "store.duckdb")
    _OPEN.append(runtime)
    app = build_app(runtime, spool_dir=tmp_path / "spool", settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Served(app, runtime, client)


def rejected(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert isinstance(body["error"], str)
    return dict(body)


# ---- signatures and tokens ----


def test_a_signed_array_is_accepted_and_stored(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            body = orjson.dumps([reading(1, meta={"fw": "1.2"}), reading(2)])
            response = await s.post(body)
            assert response.status_code == 202
            assert response.json() == {"accepted": 2}
        assert s.rows("SELECT id, meta FROM readings ORDER BY id") == [
            (1, '{"fw":"1.2"}'),
            (2, None),
        ]

    run(scenario())


@pytest.mark.parametrize(
    ("signature", "error"),
    [
        (None, "the signature is missing"),
        ("sha256=" + "0" * 64, "does not match the body"),
        (sign(b"another body"), "does not match the body"),
        (sign(b"x", secret="wrong").replace("sha256=", "sha1="), "does not match the body"),
        ("", "does not match the body"),
    ],
)
def test_bad_or_missing_signatures_get_401(
    tmp_path: Path, signature: str | None, error: str
) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            response = await s.post(orjson.dumps(reading(1)), signature=signature)
            body = rejected(response, 401)
            assert error in body["error"]
            assert body["detail"] == {"header": "X-Hub-Signature-256"}
            assert s.webhooks.endpoints["readings_in"].metrics.rejected == {401: 1}
        assert s.rows() == []

    run(scenario())


def test_the_signature_is_of_the_raw_body(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            body = b'{ "id": 1, "sensor": "a", "ts": "2026-01-01T00:00:00Z" }'
            tampered = body.replace(b'"a"', b'"b"')
            response = await s.post(tampered, signature=sign(body))
            rejected(response, 401)
            assert (await s.post(body, signature=sign(body).upper().replace("SHA256=", "sha256="))
                    ).status_code == 401  # fmt: skip
            assert (await s.post(body)).status_code == 202

    run(scenario())


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"Bearer {TOKEN}", 202),
        (f"bearer {TOKEN}", 202),
        (None, 401),
        ("Bearer wrong", 401),
        (f"bearer{TOKEN}", 401),
        (f"Basic {TOKEN}", 401),
    ],
)
def test_bearer_tokens(tmp_path: Path, authorization: str | None, status: int) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            headers = {"Authorization": authorization} if authorization else {}
            body = orjson.dumps({"data": {"items": [{"id": 1, "kind": "push"}]}})
            response = await s.post(body, path=EVENTS, signature=None, headers=headers)
            assert response.status_code == status, response.text
            if status == 401:
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert "bearer token" in response.json()["error"]
            else:
                assert response.json() == {"accepted": 1}

    run(scenario())


def test_a_secret_whose_variable_is_not_set_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        runtime = await start_runtime(tmp_path / "store.duckdb")
        monkeypatch.delenv("FLOWC_TEST_WEBHOOK_TOKEN")
        try:
            with pytest.raises(WebhookConfigError, match="FLOWC_TEST_WEBHOOK_TOKEN") as caught:
                build_app(runtime, spool_dir=tmp_path / "spool")
            assert ENV["FLOWC_TEST_WEBHOOK_SECRET"] not in str(caught.value)
        finally:
            await runtime.close()

    run(scenario())


# ---- bodies ----


def test_ndjson_arrays_and_objects(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            lines = b"\n".join(orjson.dumps(reading(i)) for i in range(1, 4)) + b"\n"
            response = await s.post(lines, content_type="application/x-ndjson")
            assert response.json() == {"accepted": 3}
            # Sent as application/json (or with no type), JSON lines are recognised.
            lines = b"\n".join(orjson.dumps(reading(i)) for i in range(4, 6))
            assert (await s.post(lines)).json() == {"accepted": 2}
            assert (await s.post(lines, content_type="")).json() == {"accepted": 2}
            assert (await s.post(orjson.dumps(reading(6)))).json() == {"accepted": 1}
            assert (await s.post(b"[]")).json() == {"accepted": 0}
        assert [r[0] for r in s.rows()] == [1, 2, 3, 4, 5, 6]

    run(scenario())


def test_records_at_a_json_path(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            items = [{"id": i, "kind": "k"} for i in range(3)]
            body = orjson.dumps({"data": {"items": items}, "meta": {"page": 1}})
            response = await s.post(body, path=EVENTS, signature=None, headers=headers)
            assert response.json() == {"accepted": 3}
            response = await s.post(b'{"data": {}}', path=EVENTS, signature=None,
                                    headers=headers)  # fmt: skip
            assert "nothing in the body at `$.data.items[*]`" in rejected(response, 400)["error"]

    run(scenario())


@pytest.mark.parametrize(
    ("body", "content_type", "error", "detail"),
    [
        (b'{"id": 1,\n "sensor": }', "application/json", "malformed JSON at line 2, column 12",
         {"line": 2, "column": 12, "position": 21}),
        (b'{"id": 1, "sensor": "a", "ts": "2026-01-01T00:00:00Z"}\n{"id": 2,\n',
         "application/x-ndjson", "malformed JSON at line 2", {"line": 2, "column": 10}),
        (b"", "application/json", "the body is empty", {}),
        (b"[1, 2]", "application/json", "record 0 is the number 1, expected an object",
         {"record": 0}),
        (orjson.dumps([{"id": 1, "sensor": "a", "ts": "2026-01-01T00:00:00Z"}, {"id": "2"}]),
         "application/json", 'record 1 does not fit the schema: `id` should be int, found a '
         'string "2"', {"record": 1, "field": "id", "expected": "int"}),
        (orjson.dumps([reading(1, ts="yesterday")]), "application/json",
         "`ts` should be timestamp", {"record": 0, "field": "ts", "expected": "timestamp"}),
    ],
)  # fmt: skip
def test_bad_bodies_get_400_saying_what_is_wrong(
    tmp_path: Path, body: bytes, content_type: str, error: str, detail: dict[str, Any]
) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            response = await s.post(body, content_type=content_type)
            answer = rejected(response, 400)
            assert error in answer["error"]
            assert answer["detail"] == detail
            assert s.webhooks.endpoints["readings_in"].metrics.rejected == {400: 1}
        assert s.rows() == []

    run(scenario())


def test_other_content_types_get_415(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            body = b"payload=%7B%22id%22%3A1%7D"
            response = await s.post(body, content_type="application/x-www-form-urlencoded")
            assert "unsupported content type" in rejected(response, 415)["error"]

    run(scenario())


def test_wrong_method_and_path_get_json_errors(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            rejected(await s.client.get(READINGS), 405)
            rejected(await s.client.post("/hooks/nothing-here"), 404)

    run(scenario())


# ---- sizes ----


def test_a_declared_size_over_max_body_gets_413_unread(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            body = orjson.dumps([reading(i) for i in range(2000)])  # about 150 kB > 64 kB
            answer = rejected(await s.post(body), 413)
            assert answer["detail"] == {"max_body": 65536}

    run(scenario())


def test_a_lying_content_length_is_caught_while_reading(tmp_path: Path) -> None:
    """The client declares 10 bytes and streams a megabyte: the app stops at max_body."""

    async def scenario() -> None:
        async with served(tmp_path) as s:
            sent = 0
            messages: list[MutableMapping[str, Any]] = []

            async def receive() -> dict[str, Any]:
                nonlocal sent
                sent += 16384
                return {"type": "http.request", "body": b"[" + b" " * 16383,
                        "more_body": sent < 1 << 20}  # fmt: skip

            async def send(message: MutableMapping[str, Any]) -> None:
                messages.append(message)

            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "POST", "scheme": "http", "path": READINGS, "raw_path": READINGS.encode(),
                "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
                "client": ("127.0.0.1", 1234),
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"10"),
                            (b"x-hub-signature-256", sign(b"whatever").encode())],
            }  # fmt: skip
            await s.app(scope, receive, send)
            assert messages[0]["status"] == 413
            assert orjson.loads(messages[1]["body"])["detail"] == {"max_body": 65536}
            assert sent <= 65536 + 16384  # it stopped reading once over the limit

    run(scenario())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_over_real_http_chunked_bodies_are_limited_too(tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = await start_runtime(tmp_path / "store.duckdb")
        app = build_app(runtime, spool_dir=tmp_path / "spool")
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="on"))  # fmt: skip
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:

                async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
                    yield b"["
                    for i in range(3000):
                        yield orjson.dumps(reading(i)) + b","
                    yield b"{}]"

                headers = {"X-Hub-Signature-256": sign(b"?"), "content-type": "application/json"}
                response = await c.post(READINGS, content=chunks(), headers=headers)
                assert response.status_code == 413
                body = orjson.dumps([reading(1)])
                response = await c.post(READINGS, content=body,
                                        headers={"X-Hub-Signature-256": sign(body)})  # fmt: skip
                assert response.status_code == 202
        finally:
            server.should_exit = True
            await task
            await runtime.close()

    run(scenario())


# ---- micro-batching, durability, idempotency ----


def test_concurrent_requests_share_batches(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            bodies = [orjson.dumps([reading(i * 2), reading(i * 2 + 1)]) for i in range(200)]
            responses = await asyncio.gather(*(s.post(body) for body in bodies))
            assert {r.status_code for r in responses} == {202}
            metrics = s.webhooks.endpoints["readings_in"].metrics
            assert metrics.accepted == 200
            assert metrics.records == 400
        # Fewer spool entries (fsyncs) than requests, and fewer plan runs than entries.
        assert metrics.spooled < 50, metrics
        assert metrics.batches <= metrics.spooled
        assert s.runtime.metrics.of("readings").batches == metrics.batches
        assert [r[0] for r in s.rows()] == list(range(400))

    run(scenario())


def test_a_batch_with_one_bad_request_keeps_the_others(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = WebhookSettings(batch_window=0.05)  # surely one batch
        async with served(tmp_path, settings) as s:
            bodies = [orjson.dumps([reading(i)]) for i in range(5)]
            bodies[2] = orjson.dumps([reading(2), reading(99, sensor=None)])
            responses = await asyncio.gather(*(s.post(body) for body in bodies))
            assert [r.status_code for r in responses] == [202, 202, 400, 202, 202]
            assert "record 1 does not fit" in responses[2].json()["error"]
        assert [r[0] for r in s.rows()] == [0, 1, 3, 4]

    run(scenario())


def test_retried_deliveries_do_not_duplicate_rows(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with served(tmp_path) as s:
            body = orjson.dumps([reading(1), reading(2)])
            for _ in range(3):  # the sender did not see our 202 and tries again
                assert (await s.post(body)).status_code == 202
            await asyncio.gather(*(s.post(body) for _ in range(5)))
        assert s.rows("SELECT id, count(*) FROM readings GROUP BY id ORDER BY id") == [
            (1, 1),
            (2, 1),
        ]

    run(scenario())


def test_spooled_entries_are_replayed_at_start(tmp_path: Path) -> None:
    async def scenario() -> None:
        spool = Spool.open(tmp_path / "spool")
        texts = [orjson.dumps(reading(7)), orjson.dumps(reading(8))]
        await spool.append(encode_entry("readings_in", texts))
        await spool.append(encode_entry("readings_in", [orjson.dumps(reading(9))]))
        await spool.append(encode_entry("gone", [b'{"id": 1}']))
        await spool.append(encode_entry("readings_in", [b'{"id": "no longer fits"}']))
        await spool.close()
        async with served(tmp_path) as s:
            assert [r[0] for r in s.rows()] == [7, 8, 9]  # replayed before the first request
            letters = s.rows("SELECT pipeline, reason, record FROM flowc_dead_letters ORDER BY 1")
            assert [(p, r) for p, _, r in letters] == [
                ("source:gone", '{"id": 1}'),
                ("source:readings_in", '{"id": "no longer fits"}'),
            ]
            assert "no webhook source `gone`" in letters[0][1]
        reopened = Spool.open(tmp_path / "spool")
        assert reopened.pending_count == 0
        await reopened.close()

    run(scenario())


def test_a_failing_pipeline_is_retried_then_left_for_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        settings = WebhookSettings(attempts=3, backoff=0.01)
        async with served(tmp_path, settings) as s:
            calls = 0
            real_emit = s.runtime.emit

            async def flaky(source: str, batch: Any) -> Any:
                nonlocal calls
                calls += 1
                if calls <= 4:
                    raise RuntimeError("store unavailable")
                return await real_emit(source, batch)

            for endpoint in s.webhooks.endpoints.values():
                endpoint.emit = flaky
            assert (await s.post(orjson.dumps([reading(1)]))).status_code == 202
            await asyncio.sleep(0.2)  # three failed attempts: left in the spool
            assert (await s.post(orjson.dumps([reading(2)]))).status_code == 202
            metrics = s.webhooks.endpoints["readings_in"].metrics
        assert metrics.failures == 1
        assert metrics.last_error == "RuntimeError: store unavailable"
        assert [r[0] for r in s.rows()] == [2]
        await s.runtime.close()  # one process at a time on the DuckDB file
        _OPEN.remove(s.runtime)
        async with served(tmp_path) as again:  # the next start replays the first batch
            assert [r[0] for r in again.rows()] == [1, 2]

    run(scenario())


def test_requests_before_the_start_get_503(tmp_path: Path) -> None:
    async def scenario() -> None:
        runtime = await start_runtime(tmp_path / "store.duckdb")
        app = build_app(runtime, spool_dir=tmp_path / "spool")
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = orjson.dumps(reading(1))
            response = await client.post(READINGS, content=body,
                                         headers={"X-Hub-Signature-256": sign(body)})  # fmt: skip
            rejected(response, 503)
        await runtime.close()

    run(scenario())


def test_two_webhooks_on_one_path_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        program = PROGRAM.replace('path: "/hooks/events"', 'path: "/hooks/readings"')
        runtime = await start_runtime(tmp_path / "store.duckdb", program)
        try:
            with pytest.raises(ValueError, match="both use the path /hooks/readings"):
                build_app(runtime, spool_dir=tmp_path / "spool")
        finally:
            await runtime.close()

    run(scenario())
