"""The `http` source against a real API on loopback (tests/mock_api.py): paging of every
kind, GraphQL, incremental cursors across restarts, retries, timeouts, auth and secrets."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
import random
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from flowc.compiler.artifacts import compile_unit
from flowc.compiler.checker import check_path
from flowc.compiler.manifest import Field, Source
from flowc.dsl import types as t
from flowc.runtime.jsonpath import compile_path
from flowc.runtime.sources.base import RunResult
from flowc.runtime.sources.http_auth import HttpSourceError, MissingEnvError
from flowc.runtime.sources.http_poll import HttpPollSource
from flowc.runtime.sources.http_records import reader_schema
from flowc.runtime.sources.http_retry import Retrier, retry_after_seconds
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.common import RetryPolicy
from flowc.stdlib.connectors.http import HttpSource
from tests.mock_api import Collector, MemoryState, MockApi, Reply, item

SCHEMA = {"id": t.parse_spec("int"), "name": t.parse_spec("str"), "updated_at": t.parse_spec("str")}
FAST_RETRY = {"attempts": 3, "backoff": dt.timedelta(milliseconds=10),
              "max_backoff": dt.timedelta(milliseconds=50)}  # fmt: skip
ALL_IDS = list(range(1, 26))


@pytest.fixture(scope="module")
def server() -> Iterator[MockApi]:
    api = MockApi()
    api.start()
    yield api
    api.stop()


@pytest.fixture
def api(server: MockApi) -> MockApi:
    server.reset()
    return server


def http(api: MockApi, path: str, **config: Any) -> HttpSource:
    settings = {"url": api.url(path), "every": dt.timedelta(minutes=1), "retry": FAST_RETRY}
    return HttpSource.model_validate({**settings, **config})


def run(
    source: HttpPollSource, state: MemoryState | None = None, emit: Collector | None = None
) -> tuple[RunResult, Collector, MemoryState]:
    state = state or MemoryState()
    emit = emit or Collector()

    async def go() -> RunResult:
        try:
            # Bounded: a run that hangs fails the test instead of the suite.
            return await asyncio.wait_for(source.run_once(emit, state), timeout=20)
        finally:
            await source.close()

    return asyncio.run(go()), emit, state


def source(config: HttpSource, **kwargs: Any) -> HttpPollSource:
    return HttpPollSource("api", config, SCHEMA, **kwargs)


# ---- pagination ----


def test_page_pagination_stops_on_a_short_page(api: MockApi) -> None:
    config = http(api, "/page", records="$.items", pagination={
        "kind": "page", "param": "page", "size_param": "per_page", "size": 10})  # fmt: skip
    result, emitted, _ = run(source(config))
    assert (result.records, result.batches) == (25, 3)
    assert emitted.column("id") == ALL_IDS
    assert [(r.query["page"], r.query["per_page"]) for r in api.requests] == [
        ("1", "10"), ("2", "10"), ("3", "10")]  # fmt: skip
    batch = emitted.batches[0]
    assert batch.raw is not None
    assert orjson.loads(batch.raw[0]) == api.items[0]
    assert batch.frame.schema["id"].is_integer()


def test_page_pagination_without_size_stops_on_an_empty_page(api: MockApi) -> None:
    config = http(api, "/page", records="$.items",
                  pagination={"kind": "page", "param": "page", "start": 1})  # fmt: skip
    result, _, _ = run(source(config))
    assert (result.records, result.batches) == (25, 3)
    assert [r.query["page"] for r in api.requests] == ["1", "2", "3", "4"]


def test_offset_pagination(api: MockApi) -> None:
    config = http(api, "/offset", records="$.results", pagination={
        "kind": "offset", "param": "offset", "limit_param": "limit", "limit": 10})  # fmt: skip
    result, emitted, _ = run(source(config))
    assert emitted.column("id") == ALL_IDS
    assert [r.query["offset"] for r in api.requests] == ["0", "10", "20"]
    assert result.batches == 3


def test_cursor_pagination_follows_next_until_has_more_is_false(api: MockApi) -> None:
    config = http(api, "/cursor", records="$.data", pagination={
        "kind": "cursor", "param": "after", "next": "$.meta.next",
        "has_more": "$.meta.has_more"})  # fmt: skip
    _, emitted, _ = run(source(config))
    assert emitted.column("id") == ALL_IDS
    assert [r.query.get("after") for r in api.requests] == [None, "id:10", "id:20"]


def test_link_pagination_follows_relative_next_links(api: MockApi) -> None:
    config = http(api, "/link", params={"page": 1}, pagination={"kind": "link"})
    _, emitted, _ = run(source(config))
    assert emitted.column("id") == ALL_IDS
    assert [r.query["page"] for r in api.requests] == ["1", "2", "3"]


def test_max_pages_stops_paging(api: MockApi) -> None:
    config = http(api, "/page", records="$.items", max_pages=2,
                  pagination={"kind": "page", "param": "page"})  # fmt: skip
    result, _, _ = run(source(config))
    assert (result.records, len(api.requests)) == (20, 2)


def test_an_api_that_ignores_the_page_parameter_does_not_loop_forever(api: MockApi) -> None:
    config = http(api, "/flat", pagination={"kind": "page", "param": "page"})
    result, _, _ = run(source(config))
    assert (result.batches, len(api.requests)) == (1, 2)


# ---- GraphQL ----


def test_graphql_with_cursor_pagination_sends_variables(api: MockApi) -> None:
    config = http(
        api,
        "/graphql",
        graphql={"query": "query($after: String, $first: Int) { items { nodes { id } } }",
                 "variables": {"first": 10}},
        records="$.data.items.nodes",
        pagination={"kind": "cursor", "param": "after", "next": "$.data.items.pageInfo.endCursor",
                    "has_more": "$.data.items.pageInfo.hasNextPage"},
    )  # fmt: skip
    _, emitted, _ = run(source(config))
    assert emitted.column("id") == ALL_IDS
    assert {r.method for r in api.requests} == {"POST"}
    variables = [r.json["variables"] for r in api.requests]
    assert variables == [{"first": 10}, {"first": 10, "after": "id:10"},
                         {"first": 10, "after": "id:20"}]  # fmt: skip
    assert all(r.json["query"].startswith("query($after") for r in api.requests)


def test_graphql_errors_fail_the_run_with_the_servers_message(api: MockApi) -> None:
    config = http(api, "/graphql", graphql={"query": "{ broken }"}, records="$.data.items")
    with pytest.raises(HttpSourceError, match="GraphQL query failed: Field 'broken' not found"):
        run(source(config))


# ---- incremental cursor ----


def events(api: MockApi, **config: Any) -> HttpSource:
    return http(api, "/events", records="$.events",
                pagination={"kind": "page", "param": "page", "size": 10},
                cursor={"field": "updated_at", "param": "since",
                        "initial": "2026-01-01T00:00:00Z"}, **config)  # fmt: skip


def test_cursor_is_saved_after_each_batch_and_resumed_by_a_new_source(api: MockApi) -> None:
    state = MemoryState()
    _, emitted, _ = run(source(events(api)), state)
    assert emitted.column("id") == ALL_IDS
    assert [r.query["since"] for r in api.requests] == ["2026-01-01T00:00:00Z"] * 3
    saved = [orjson.loads(v) for v in state.saves]
    assert saved == [api.items[n]["updated_at"] for n in (9, 19, 24)]

    api.items.extend([item(26), item(27)])
    api.requests.clear()
    _, emitted, _ = run(source(events(api)), state)  # a new instance: a restart
    assert emitted.column("id") == [26, 27]
    assert api.requests[0].query["since"] == "2026-01-01T00:25:00Z"
    assert orjson.loads(state.cursors["api"]) == "2026-01-01T00:27:00Z"


def test_a_run_that_fails_midway_resumes_after_the_last_saved_batch(api: MockApi) -> None:
    state = MemoryState()
    with pytest.raises(RuntimeError, match="pipeline failed"):
        run(source(events(api)), state, Collector(fail_on=2))
    assert orjson.loads(state.cursors["api"]) == "2026-01-01T00:10:00Z"
    api.requests.clear()
    _, emitted, _ = run(source(events(api)), state)
    assert emitted.column("id") == list(range(11, 26))
    assert api.requests[0].query["since"] == "2026-01-01T00:10:00Z"


def test_graphql_incremental_cursor_goes_into_variables(api: MockApi) -> None:
    config = http(api, "/graphql", graphql={"query": "query($since: String) { items }"},
                  records="$.data.items.nodes",
                  cursor={"field": "updated_at", "param": "since",
                          "initial": "2026-01-01T00:05:00Z"})  # fmt: skip
    state = MemoryState()
    _, emitted, _ = run(source(config), state)
    assert api.requests[0].json["variables"] == {"since": "2026-01-01T00:05:00Z"}
    assert emitted.column("id") == list(range(6, 11))
    assert orjson.loads(state.cursors["api"]) == "2026-01-01T00:10:00Z"


def test_a_cursor_field_outside_the_schema_is_read_from_the_raw_records(api: MockApi) -> None:
    state = MemoryState()
    narrow = HttpPollSource("api", events(api), {"name": t.parse_spec("str")})
    run(narrow, state)
    assert orjson.loads(state.cursors["api"]) == "2026-01-01T00:25:00Z"
    numeric = HttpPollSource("num", http(api, "/page", records="$.items",
                             cursor={"field": "id", "param": "after_id"}), None)  # fmt: skip
    run(numeric, state)
    assert state.cursors["num"] == "10"
    assert "after_id" not in api.requests[-1].query  # no `initial`, nothing saved: not sent


# ---- retries and timeouts ----


def test_429_waits_for_retry_after_then_succeeds(api: MockApi) -> None:
    api.script("/page", Reply(429, {"message": "slow down"}, {"Retry-After": "1"}))
    retry = {**FAST_RETRY, "max_backoff": dt.timedelta(seconds=2)}
    started = time.monotonic()
    result, _, _ = run(source(http(api, "/page", records="$.items", retry=retry)))
    assert time.monotonic() - started >= 0.95  # the wait the server asked for, not 10ms
    assert (result.records, len(api.requests)) == (10, 2)


def test_a_retry_after_longer_than_max_backoff_gives_up_at_once(api: MockApi) -> None:
    api.script("/page", Reply(429, {"message": "slow down"}, {"Retry-After": "3600"}))
    with pytest.raises(HttpSourceError, match=r"asks to wait 3600s \(Retry-After\)"):
        run(source(http(api, "/page", records="$.items")))
    assert len(api.requests) == 1


def test_500s_are_retried_then_succeed(api: MockApi) -> None:
    api.script("/page", Reply(500, {"error": "boom"}), Reply(503, {"error": "busy"}))
    result, _, _ = run(source(http(api, "/page", records="$.items")))
    assert (result.records, len(api.requests)) == (10, 3)


def test_500s_that_last_fail_the_run_after_the_configured_attempts(api: MockApi) -> None:
    api.script("/page", *[Reply(500, {"error": "boom"})] * 3)
    with pytest.raises(HttpSourceError) as error:
        run(source(http(api, "/page", records="$.items")))
    assert str(error.value) == (
        f"source `api`: GET {api.url('/page')} failed after 3 attempts: the server answered "
        '500 Internal Server Error: {"error":"boom"}'
    )
    assert len(api.requests) == 3


def test_a_4xx_is_not_retried(api: MockApi) -> None:
    api.script("/page", Reply(404, {"message": "no such repository"}))
    with pytest.raises(HttpSourceError, match=r"answered 404 Not Found: .*no such repository"):
        run(source(http(api, "/page", records="$.items")))
    assert len(api.requests) == 1


def test_a_slow_response_times_out_and_is_retried(api: MockApi) -> None:
    api.script("/page", Reply(delay=1.0), Reply(delay=1.0))
    config = http(api, "/page", records="$.items", timeout=dt.timedelta(milliseconds=200),
                  retry={**FAST_RETRY, "attempts": 2})  # fmt: skip
    started = time.monotonic()
    with pytest.raises(HttpSourceError, match=r"failed after 2 attempts: no answer within 0.2s"):
        run(source(config))
    assert time.monotonic() - started < 1.5


def test_a_slow_response_within_the_timeout_is_fine(api: MockApi) -> None:
    api.script("/page", Reply(delay=0.3))
    config = http(api, "/page", records="$.items", timeout=dt.timedelta(seconds=5))
    result, _, _ = run(source(config))
    assert (result.records, len(api.requests)) == (10, 1)


def test_connection_errors_are_retried_then_reported() -> None:
    with closed_port() as port:
        config = HttpSource.model_validate({"url": f"http://127.0.0.1:{port}/x",
                                            "every": dt.timedelta(minutes=1),
                                            "retry": FAST_RETRY})  # fmt: skip
        with pytest.raises(HttpSourceError, match="failed after 3 attempts: could not connect"):
            run(source(config))


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused
    yield port


def test_backoff_doubles_with_jitter_up_to_max_backoff() -> None:
    policy = RetryPolicy(attempts=6, backoff=dt.timedelta(seconds=1),
                         max_backoff=dt.timedelta(seconds=5))  # fmt: skip
    retrier = Retrier("s", policy, 1.0, rng=random.Random(7))
    waits = [retrier.backoff(n) for n in range(1, 6)]
    for wait, ceiling in zip(waits, [1, 2, 4, 5, 5], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


# ---- auth and secrets ----

TOKEN = "s3cr3t-t0ken/with+chars"


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        ({"bearer": EnvRef("API_TOKEN")},
         lambda r: r.headers["authorization"] == f"Bearer {TOKEN}"),
        ({"basic": {"user": "me", "password": EnvRef("API_TOKEN")}},
         lambda r: r.headers["authorization"]
         == "Basic " + base64.b64encode(f"me:{TOKEN}".encode()).decode()),
        ({"api_key": {"header": "X-Api-Key", "value": EnvRef("API_TOKEN")}},
         lambda r: r.headers["x-api-key"] == TOKEN),
        ({"api_key": {"query": "api_key", "value": EnvRef("API_TOKEN")}},
         lambda r: r.query["api_key"] == TOKEN),
    ],
    ids=["bearer", "basic", "api_key-header", "api_key-query"],
)  # fmt: skip
def test_auth_is_sent_and_never_logged(
    api: MockApi, auth: dict[str, Any], check: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    environ = {"API_TOKEN": TOKEN}
    config = http(api, "/echo", auth=auth, params={"page": 1})
    echo = HttpPollSource("api", config, None, environ=environ)
    run(echo)
    assert check(api.requests[0])
    # A failing request's message, the retry warnings and httpx's own logs stay clean.
    api.script("/echo", *[Reply(500, {"echo": TOKEN, "query": api.requests[0].query})] * 3)
    with pytest.raises(HttpSourceError) as error:
        run(HttpPollSource("api", config, None, environ=environ))
    assert "retrying" in caplog.text
    assert "HTTP Request" in caplog.text  # httpx logged the requests, masked
    for text in (caplog.text, str(error.value)):
        assert TOKEN not in text
        assert "s3cr3t" not in text


def test_a_missing_variable_is_named_and_fails_the_run(api: MockApi) -> None:
    config = http(api, "/echo", auth={"bearer": EnvRef("NOT_SET_TOKEN")})
    with pytest.raises(MissingEnvError) as error:
        run(source(config, environ={}))
    assert error.value.variable == "NOT_SET_TOKEN"
    assert "NOT_SET_TOKEN is not set (it gives `auth.bearer`)" in str(error.value)
    assert api.requests == []
    config = http(api, "/echo", headers={"X-Tenant": EnvRef("TENANT")})
    with pytest.raises(MissingEnvError, match=r"TENANT is not set .*`headers.X-Tenant`"):
        run(source(config, environ={}))


# ---- records ----


def test_records_that_do_not_fit_the_schema_fail_with_the_field(api: MockApi) -> None:
    wrong = {"id": t.parse_spec("int"), "name": t.parse_spec("int")}
    with pytest.raises(HttpSourceError, match=r"at `\$.items`, record 0 .*`name` should be int"):
        run(HttpPollSource("api", http(api, "/page", records="$.items"), wrong))
    with pytest.raises(HttpSourceError, match=r"record 0 is a string \"item 1\", expected an"):
        run(source(http(api, "/page", records="$.items[*].name")))


def test_no_schema_infers_the_frame_and_an_answer_that_is_not_json_fails(api: MockApi) -> None:
    _, emitted, _ = run(HttpPollSource("api", http(api, "/flat"), None))
    assert emitted.column("name") == ["item 1", "item 2", "item 3"]
    # A real socket adds nothing here: an httpx MockTransport answers HTML.
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>down"))
    client = httpx.AsyncClient(transport=transport)
    with pytest.raises(HttpSourceError, match="did not answer JSON: '<html>down'"):
        run(HttpPollSource("api", http(api, "/flat"), None, client))


def test_a_bad_jsonpath_fails_when_the_source_is_built(api: MockApi) -> None:
    with pytest.raises(HttpSourceError, match=r"invalid JSONPath '\$.items\['"):
        source(http(api, "/page", records="$.items["))
    assert compile_path("$.a[*].b").records({"a": [{"b": [1, 2]}, {"b": 3}, {"b": None}]}) == [
        1, 2, 3]  # fmt: skip


def test_from_manifest_reads_the_compiled_config(api: MockApi) -> None:
    config = http(api, "/page", records="$.items", auth={"bearer": EnvRef("API_TOKEN")})
    fields = [Field(name="id", type="int"), Field(name="name", type="str?")]
    entry = Source(
        name="api", kind="http", file="x.flow", config=config.model_dump(mode="json"), fields=fields
    )
    built = HttpPollSource.from_manifest(entry)
    assert built.config == config
    assert built.schema == {"id": t.parse_spec("int"), "name": t.parse_spec("str?")}


def test_the_examples_in_docs_sources_md_check(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "docs" / "sources.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```flow\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 6
    for index, block in enumerate(blocks):
        name = re.search(r"source (\w+):", block)
        assert name is not None
        program = tmp_path / f"example{index}.flow"
        program.write_text(f"{block}\npipeline p from {name[1]} {{\n  persist off\n}}\n")
        result = check_path(program)
        assert result.ok, (block, [d.message for d in result.diagnostics])


def test_a_source_without_schema_gives_its_readers_fields_as_json_text(
    api: MockApi, tmp_path: Path
) -> None:
    program = tmp_path / "open.flow"
    program.write_text(
        f'source echo: http {{\n  url: "{api.url("/echo")}"\n  every: 1m\n}}\n'
        "pipeline seen from echo {\n"
        '  map {\n    n = json_int(id, "$") ?? 0\n    accept = json_str(headers, "$.accept")\n  }\n'
        "  persist off\n}\n"
    )
    compiled = compile_unit(check_path(program))
    entry = compiled.manifest.sources[0]
    schema = reader_schema(entry, compiled.manifest.pipelines)
    assert schema == {"headers": t.parse_spec("json?"), "id": t.parse_spec("json?")}
    _, emitted, _ = run(HttpPollSource.from_manifest(entry, schema))
    frame = emitted.batches[0].frame
    assert frame["id"].to_list() == ["1"]
    assert orjson.loads(frame["headers"][0])["accept"] == "application/json"
