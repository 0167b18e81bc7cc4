"""The REST API (`/api/...`): every endpoint, its answers and its refusals.

Each test runs a real Runtime on a DuckDB file in tmp_path and the app that `flowc run`
serves, in process through its lifespan (httpx's ASGI transport); the event stream, which
must see its client go away, is tested through uvicorn on loopback. The bucketed-history
SQL of plain PostgreSQL runs on the real server of tests/postgres.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb
import httpx
import orjson
import polars as pl
import psycopg
import pytest
import uvicorn
from psycopg.rows import dict_row
from starlette.applications import Starlette

from flowc.compiler.checker import check_path
from flowc.compiler.sql.ddl import ddl_statements
from flowc.runtime import api_queries as queries
from flowc.runtime.api import Api, ApiSettings
from flowc.runtime.api_activity import Activity
from flowc.runtime.api_auth import ServerConfigError, api_token, is_loopback
from flowc.runtime.api_stream import StreamSettings
from flowc.runtime.app import Runtime
from flowc.runtime.executor import Batch
from flowc.runtime.metrics import Metrics
from flowc.runtime.records import records_frame
from flowc.runtime.scheduler import Scheduler
from flowc.runtime.server import build_app, source_schema
from flowc.runtime.store.base import DEAD_LETTER_SCHEMA, Store
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store.series import SeriesQuery, parse_duration, series_sql
from flowc.runtime.store.state import STATE_TABLES
from tests.mock_api import MockApi, Reply

pytestmark = pytest.mark.anyio

NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)

PROGRAM = """\
source readings: generate {
  count: 20
  batch: 20
  seed: 7
  fields {
    id: { sequence: 1 }
    sensor: { choice: ["kitchen", "attic"] }
    temp: { int_range: { min: -20, max: 60 } }
  }
}

source hook: webhook {
  path: "/hooks/readings"
  schema { sensor: str, temp: float, meta: json? }
}

sink out: file {
  path: "out/readings.jsonl"
  format: "jsonl"
}

pipeline cleaned from readings {
  map {
    id = id
    ts = @2026-02-01T11:00:00Z + 1m * id
    sensor = sensor
    temp = float(temp) ?? 0.0
  }
  validate {
    temp between -10.0 and 50.0 else dead_letter
  }
  persist timescale cleaned { time: ts, key: (id, ts) }
  cache 5
  sink out
}

pipeline by_sensor from cleaned {
  aggregate every 1h by sensor { n = count() }
  persist timescale by_sensor { time: bucket, key: (sensor, bucket) }
}

pipeline hooked from hook {
  validate { temp < 100.0 else fail }
}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Served:
    runtime: Runtime
    app: Starlette
    client: httpx.AsyncClient

    async def json(self, url: str, status: int = 200) -> Any:
        response = await self.client.get(url)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    async def error(self, url: str, status: int, method: str = "GET") -> str:
        """The error sentence of a refused request (every error has the same shape)."""
        response = await self.client.request(method, url)
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"error", "detail"}
        return str(body["error"])

    async def hook(self, *records: dict[str, Any]) -> None:
        """The records through `hook`'s pipelines, as the webhook would hand them over."""
        frame, raw = records_frame(list(records), source_schema(self.runtime, "hook"))
        await self.runtime.emit("hook", Batch(frame, raw))


@contextlib.asynccontextmanager
async def served(
    tmp_path: Path,
    *,
    run: bool = True,
    program: str = PROGRAM,
    clock: Callable[[], dt.datetime] = lambda: NOW,
    **options: Any,
) -> AsyncIterator[Served]:
    """The program's runtime (run once unless `run` is false) and its app, started."""
    path = tmp_path / "p.flow"
    path.write_text(program)
    runtime = await Runtime.start(check_path(path), DuckDBStore(tmp_path / "s.duckdb"), clock=clock)
    try:
        if run:
            await runtime.run_once()
        app = build_app(runtime, spool_dir=tmp_path / "spool", **options)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://flowc") as client:
                yield Served(runtime, app, client)
    finally:
        await runtime.close()


# ---- pipelines ----


async def test_pipelines_lists_every_pipeline_with_its_status_and_metrics(tmp_path: Path) -> None:
    async with served(tmp_path, run=False) as s:
        before = (await s.json("/api/pipelines"))["pipelines"]
        assert [p["status"] for p in before] == ["idle", "idle", "idle"]
        await s.runtime.run_once()
        pipelines = {p["name"]: p for p in (await s.json("/api/pipelines"))["pipelines"]}

        cleaned = pipelines["cleaned"]
        assert (cleaned["upstream"], cleaned["upstream_kind"]) == ("readings", "source")
        assert (cleaned["source_kind"], cleaned["schedule"]) == ("generate", None)
        assert cleaned["status"] == "ok"
        assert cleaned["last_run"] == "2026-02-01T12:00:00Z"
        metrics = cleaned["metrics"]
        assert metrics["records_in"] == 20
        assert metrics["stored"] + metrics["dead_lettered"] == 20 < metrics["stored"] + 20
        assert (metrics["batches"], metrics["runs"], metrics["failures"]) == (1, 1, 0)
        assert metrics["latency_p50_ms"] > 0
        assert cleaned["records_per_minute"] >= 0

        by_sensor = pipelines["by_sensor"]
        assert (by_sensor["upstream_kind"], by_sensor["source_kind"]) == ("pipeline", "pipeline")
        assert by_sensor["metrics"]["records_in"] == metrics["records_out"]
        hooked = pipelines["hooked"]
        assert (hooked["source_kind"], hooked["schedule"], hooked["status"]) == (
            "webhook",
            None,
            "idle",
        )

        # A `fail` rule rejecting a batch makes the pipeline fail, until a good batch.
        await s.hook({"sensor": "a", "temp": 150.0})
        hooked = await s.json("/api/pipelines/hooked")
        assert hooked["status"] == "failing"
        assert "temp < 100.0" in hooked["last_error"]
        await s.hook({"sensor": "a", "temp": 15.0})
        assert (await s.json("/api/pipelines/hooked"))["status"] == "ok"


async def test_a_polled_schedule_is_reported(tmp_path: Path) -> None:
    program = PROGRAM.replace("  batch: 20\n", "  batch: 20\n  every: 30s\n")
    async with served(tmp_path, run=False, program=program) as s:
        cleaned = await s.json("/api/pipelines/cleaned")
        assert cleaned["schedule"] == {"every_seconds": 30.0, "cron": None}


async def test_pipeline_detail(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        cleaned = await s.json("/api/pipelines/cleaned")
        assert cleaned["schema"]["input"] == [
            {"name": "id", "type": "int"},
            {"name": "sensor", "type": "str"},
            {"name": "temp", "type": "int"},
        ]
        assert {"name": "ts", "type": "timestamp"} in cleaned["schema"]["output"]
        assert cleaned["rules"] == [
            {"id": "1.0", "rule": "temp between -10.0 and 50.0", "action": "dead_letter"}
        ]
        assert (cleaned["storage"]["table"], cleaned["storage"]["time"]) == ("cleaned", "ts")
        assert set(cleaned["sql"]) == {"timescale", "postgres", "duckdb"}
        assert "create_hypertable" in cleaned["sql"]["timescale"]
        assert 'CREATE TABLE IF NOT EXISTS "cleaned"' in cleaned["sql"]["duckdb"]
        assert "temp" in cleaned["plan"]
        assert cleaned["sinks"] == [{"name": "out", "kind": "file"}]
        assert (cleaned["downstream"], cleaned["cache_size"]) == (["by_sensor"], 5)
        assert cleaned["metrics"]["records_in"] == 20  # the summary's fields are there too

        hooked = await s.json("/api/pipelines/hooked")
        assert (hooked["storage"], hooked["sql"], hooked["sinks"]) == (None, {}, [])
        assert await s.error("/api/pipelines/nope", 404) == "no pipeline `nope`"


# ---- records ----


async def test_records_are_the_cache_most_recent_first(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        page = await s.json("/api/pipelines/cleaned/records")
        ids = [r["id"] for r in page["records"]]
        assert page["count"] == len(ids) == 5  # `cache 5`
        assert ids == sorted(ids, reverse=True)
        newest = page["records"][0]
        assert newest["ts"] == f"2026-02-01T11:{newest['id']:02d}:00Z"
        assert len((await s.json("/api/pipelines/cleaned/records?limit=2"))["records"]) == 2

        assert "between 1 and 5" in await s.error("/api/pipelines/cleaned/records?limit=6", 400)
        await s.error("/api/pipelines/cleaned/records?limit=0", 422)
        assert "limit" in await s.error("/api/pipelines/cleaned/records?limit=many", 422)
        await s.error("/api/pipelines/nope/records", 404)

        # Nothing yet: an empty page. Then `json` fields are JSON, not text to parse again.
        assert (await s.json("/api/pipelines/hooked/records"))["records"] == []
        await s.hook({"sensor": "a", "temp": 1.5, "meta": {"tags": ["x"], "n": None}})
        [record] = (await s.json("/api/pipelines/hooked/records"))["records"]
        assert record == {"sensor": "a", "temp": 1.5, "meta": {"tags": ["x"], "n": None}}


# ---- series ----


async def _stored(s: Served) -> list[dict[str, Any]]:
    store = s.runtime.store
    assert isinstance(store, DuckDBStore)
    return await store.fetch('SELECT ts, temp FROM "cleaned" ORDER BY ts', [])


async def store_sensors(s: Served) -> dict[str, int]:
    store = s.runtime.store
    assert isinstance(store, DuckDBStore)
    rows = await store.fetch('SELECT sensor, count(*) AS n FROM "cleaned" GROUP BY 1', [])
    return {r["sensor"]: int(r["n"]) for r in rows}


async def test_series_buckets_in_the_database(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        rows = await _stored(s)
        series = await s.json("/api/pipelines/cleaned/series?bucket=10m&agg=avg&field=temp")
        expected: dict[str, list[float]] = {}
        for row in rows:
            start = row["ts"].replace(minute=row["ts"].minute // 10 * 10)
            expected.setdefault(start.isoformat().replace("+00:00", "Z"), []).append(row["temp"])
        assert {p["time"]: p["value"] for p in series["points"]} == {
            t: sum(v) / len(v) for t, v in expected.items()
        }
        assert (series["bucket"], series["bucket_seconds"]) == ("10m", 600.0)
        assert (series["from"], series["to"]) == ("2026-01-31T12:00:00Z", "2026-02-01T12:00:00Z")

        # Without agg and field: the number of records; the default bucket fits ~1000 points.
        counted = await s.json("/api/pipelines/cleaned/series")
        assert (counted["agg"], counted["field"], counted["bucket"]) == ("count", None, "5m")
        assert sum(p["value"] for p in counted["points"]) == len(rows)
        hourly = await s.json(
            "/api/pipelines/cleaned/series?agg=max&field=temp&bucket=1h"
            "&from=2026-02-01T11:00:00&to=2026-02-01T12:00:00Z"  # naive: UTC
        )
        assert hourly["points"] == [
            {"time": "2026-02-01T11:00:00Z", "value": max(r["temp"] for r in rows), "group": None}
        ]
        empty = "/api/pipelines/cleaned/series?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z"
        assert (await s.json(empty))["points"] == []
        by_sensor = await s.json("/api/pipelines/by_sensor/series?agg=sum&field=n&bucket=1d")
        assert [p["value"] for p in by_sensor["points"]] == [float(len(rows))]
        # Split by a field: one series per value, in the database.
        split = await s.json("/api/pipelines/cleaned/series?agg=count&bucket=1d&by=sensor")
        assert split["by"] == "sensor"
        counts = {p["group"]: p["value"] for p in split["points"]}
        sensors = await store_sensors(s)
        assert counts == {sensor: float(n) for sensor, n in sensors.items()}
        bad = await s.client.get("/api/pipelines/cleaned/series?by=nope")
        assert bad.status_code == 400
        assert "not a stored field to split by" in bad.json()["error"]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("agg=median&field=temp", 422, "agg"),
        ("field=sensor", 400, "`sensor` is not numeric"),
        ("field=nope", 400, "`nope` is not a stored field"),
        ("agg=avg", 400, "`avg` needs a field"),
        ("bucket=5x", 400, "`5x` is not a duration"),
        ("bucket=0s", 400, "longer than zero"),
        ("bucket=1s", 400, "more than 10000 points"),
        ("bucket=99999999999w", 400, "not a duration"),
        ("from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z", 400, "`from` must be before"),
        ("from=yesterday", 422, "from"),
        ("to=0001-01-01T00:00:00Z", 400, "beyond the years"),
    ],
)
async def test_series_refuses_bad_parameters(
    tmp_path: Path, query: str, status: int, message: str
) -> None:
    async with served(tmp_path, run=False) as s:
        assert message in await s.error(f"/api/pipelines/cleaned/series?{query}", status)


async def test_series_needs_a_stored_pipeline(tmp_path: Path) -> None:
    async with served(tmp_path, run=False) as s:
        assert "does not persist" in await s.error("/api/pipelines/hooked/series", 409)
        await s.error("/api/pipelines/nope/series", 404)


@pytest.mark.parametrize("bucket", ["10m", "7h", "1d"])
def test_series_sql_gives_the_same_buckets_on_postgresql_and_duckdb(
    pg_conn: psycopg.Connection[Any], bucket: str
) -> None:
    """`date_bin` (PostgreSQL) and `time_bucket` (DuckDB; TimescaleDB takes the same SQL
    text as PostgreSQL with time_bucket) agree, aligned to the epoch even for 7h."""
    stamps = [NOW - dt.timedelta(minutes=37 * i) for i in range(60)]
    rows = [(ts, float(i % 7)) for i, ts in enumerate(stamps)]
    query = SeriesQuery(
        "m", "ts", NOW - dt.timedelta(days=3), NOW, parse_duration(bucket), "avg", "v"
    )

    pg_conn.execute('CREATE TABLE "m" ("ts" TIMESTAMPTZ, "v" DOUBLE PRECISION)')
    with pg_conn.cursor() as cursor:
        cursor.executemany('INSERT INTO "m" VALUES (%s, %s)', rows)
    sql, params = series_sql(query, "postgres")
    assert "DATE_BIN" in sql
    postgres = pg_conn.execute(sql, params).fetchall()

    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute('CREATE TABLE "m" ("ts" TIMESTAMPTZ, "v" DOUBLE)')
        conn.executemany('INSERT INTO "m" VALUES (?, ?)', rows)
        sql, params = series_sql(query, "duckdb")
        embedded = conn.execute(sql, params).fetchall()

    width = parse_duration(bucket).total_seconds()
    assert [(b.timestamp(), v) for b, v in postgres] == [(b.timestamp(), v) for b, v in embedded]
    assert all(b.timestamp() % width == 0 for b, _ in postgres)
    assert sum(1 for _ in postgres) > 1
    assert "TIME_BUCKET" in series_sql(query, "timescale")[0]


class _PostgresQueries:
    """`fetch` and `execute` as PostgresStore is to have them, on the test's connection."""

    dialect = "postgres"
    description = "PostgreSQL (test)"

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        with self.connection.cursor(row_factory=dict_row) as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchall()

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        return self.connection.execute(sql, list(params)).rowcount


async def test_the_api_queries_run_on_postgresql(pg_conn: psycopg.Connection[Any]) -> None:
    for spec in STATE_TABLES:
        for statement in ddl_statements(spec, "postgres"):
            pg_conn.execute(statement)
    later = NOW + dt.timedelta(minutes=1)
    pg_conn.execute(
        "INSERT INTO flowc_dead_letters VALUES ('a', 'p', 'r', 'dead_letter', NULL, '{}', %s),"
        " ('b', 'q', 'r', 'fail', 'why', '[1]', %s)",
        [NOW, later],
    )
    pg_conn.execute(
        "INSERT INTO flowc_runs VALUES ('p', %s, %s, 3, 2, 1, 2, NULL),"
        " ('p', %s, %s, 1, 1, 0, 1, 'x')",
        [NOW, NOW, later, later],
    )
    store = cast(Store, _PostgresQueries(pg_conn))
    assert [r["id"] for r in await queries.dead_letters(store, None, 10)] == ["b", "a"]
    assert [r["id"] for r in await queries.dead_letters(store, "p", 10)] == ["a"]
    assert [r["id"] for r in await queries.dead_letters(store, None, 1)] == ["b"]
    letter = await queries.dead_letter(store, "b")
    assert letter is not None
    assert (letter["reason"], letter["record"], letter["at"]) == ("why", "[1]", later)
    assert await queries.delete_dead_letter(store, "b") is True
    assert await queries.delete_dead_letter(store, "b") is False
    assert await queries.dead_letter(store, "b") is None
    runs = await queries.runs(store, "p", 10)
    assert [(r["records_in"], r["error"]) for r in runs] == [(1, "x"), (3, None)]


# ---- runs ----


async def test_runs_newest_first(tmp_path: Path) -> None:
    ticks = iter(range(1000))
    async with served(tmp_path, clock=lambda: NOW + dt.timedelta(seconds=next(ticks))) as s:
        await s.runtime.run_source("readings")  # exhausted: a run with nothing new
        runs = (await s.json("/api/pipelines/cleaned/runs"))["runs"]
        assert [r["records_in"] for r in runs] == [0, 20]
        assert runs[0]["started_at"] > runs[1]["started_at"]
        assert runs[1]["duration_ms"] >= 0
        assert runs[1]["error"] is None
        assert len((await s.json("/api/pipelines/cleaned/runs?limit=1"))["runs"]) == 1
        assert (await s.json("/api/pipelines/hooked/runs"))["runs"] == []
        await s.error("/api/pipelines/cleaned/runs?limit=0", 422)
        await s.error("/api/pipelines/cleaned/runs?limit=1001", 422)
        await s.error("/api/pipelines/nope/runs", 404)


# ---- dead letters ----


async def _letter(
    s: Served, pipeline: str, record: dict[str, Any], at: dt.datetime = NOW, **fields: str
) -> str:
    """A dead letter put in the store directly; its id."""
    values = {"rule": "r", "action": "dead_letter", "reason": "test", **fields}
    frame = pl.DataFrame(
        {"pipeline": pipeline, **values, "record": orjson.dumps(record).decode(), "at": at},
        schema=DEAD_LETTER_SCHEMA,
    )
    await s.runtime.store.dead_letters(frame)
    letters = (await s.json(f"/api/dead-letters?pipeline={pipeline}"))["dead_letters"]
    return str(next(x["id"] for x in letters if x["record"] == record))


async def test_dead_letters_newest_first_and_by_pipeline(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        rejected = s.runtime.metrics.of("cleaned").dead_lettered
        letters = (await s.json("/api/dead-letters"))["dead_letters"]
        assert len(letters) == rejected > 0
        letter = letters[0]
        assert letter["pipeline"] == "cleaned"
        assert letter["action"] == "dead_letter"
        assert "failed (temp = " in letter["reason"]
        assert set(letter["record"]) == {"id", "sensor", "temp"}  # the record as it came
        later = await _letter(s, "hooked", {"sensor": "a", "temp": 1.0}, NOW + dt.timedelta(1))
        assert (await s.json("/api/dead-letters?limit=1"))["dead_letters"][0]["id"] == later
        assert len((await s.json("/api/dead-letters?pipeline=cleaned"))["dead_letters"]) == rejected
        assert (await s.json("/api/dead-letters?pipeline=nope"))["dead_letters"] == []
        await s.error("/api/dead-letters?limit=0", 422)


async def test_replaying_a_dead_letter(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        # Rejected again: the old letter goes, a new one (this time's) comes.
        before = (await s.json("/api/dead-letters?pipeline=cleaned"))["dead_letters"]
        response = await s.client.post(f"/api/dead-letters/{before[0]['id']}/replay")
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "rejected"
        assert response.json()["deleted"] is True
        after = (await s.json("/api/dead-letters?pipeline=cleaned"))["dead_letters"]
        assert len(after) == len(before)
        assert before[0]["id"] not in {x["id"] for x in after}

        # A record that passes now: processed, stored, cached, and the letter is gone.
        good = await _letter(s, "cleaned", {"id": 100, "sensor": "attic", "temp": 20})
        result = (await s.client.post(f"/api/dead-letters/{good}/replay")).json()
        assert result == {
            "id": good, "pipeline": "cleaned", "outcome": "processed", "records_out": 1,
            "stored": 1, "dead_lettered": 0, "dropped": 0, "warned": 0, "failed_rule": None,
            "deleted": True,
        }  # fmt: skip
        assert (await s.json("/api/pipelines/cleaned/records?limit=1"))["records"][0]["id"] == 100
        assert (
            await s.error(f"/api/dead-letters/{good}/replay", 404, "POST")
            == f"no dead letter {good}"
        )

        # A record that no longer fits the pipeline's input stays where it is.
        misfit = await _letter(s, "cleaned", {"id": "one", "sensor": "attic", "temp": 20})
        assert "no longer fits pipeline `cleaned`" in await s.error(
            f"/api/dead-letters/{misfit}/replay", 409, "POST"
        )
        gone = await _letter(s, "removed", {"id": 1})
        assert "no pipeline `removed`" in await s.error(
            f"/api/dead-letters/{gone}/replay", 409, "POST"
        )
        ids = {x["id"] for x in (await s.json("/api/dead-letters"))["dead_letters"]}
        assert {misfit, gone} <= ids


async def test_replaying_sink_and_webhook_dead_letters(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        record = {"id": 700, "ts": "2026-02-01T11:07:00Z", "sensor": "attic", "temp": 1.5}
        undelivered = await _letter(s, "cleaned", record, rule="sink out", action="undelivered")
        result = (await s.client.post(f"/api/dead-letters/{undelivered}/replay")).json()
        assert (result["outcome"], result["deleted"]) == ("queued", True)
        await s.runtime.settled()
        lines = (tmp_path / "out" / "readings.jsonl").read_text().splitlines()
        assert orjson.loads(lines[-1])["id"] == 700

        spooled = await _letter(s, "source:hook", {"sensor": "b", "temp": 3.0}, rule="webhook")
        result = (await s.client.post(f"/api/dead-letters/{spooled}/replay")).json()
        assert (result["pipeline"], result["outcome"], result["records_out"]) == (
            "source:hook",
            "processed",
            1,
        )
        assert s.runtime.metrics.of("hooked").records_in == 1


# ---- triggering runs ----


async def test_run_triggers_a_polled_source(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        response = await s.client.post("/api/pipelines/cleaned/run")
        assert response.status_code == 202, response.text
        assert response.json() == {
            "pipeline": "cleaned",
            "source": "readings",
            "status": "triggered",
        }
        await _until(lambda: s.runtime.metrics.of("cleaned").runs == 2)
        assert "webhook source `hook`" in await s.error("/api/pipelines/hooked/run", 409, "POST")
        assert "pipeline `cleaned`" in await s.error("/api/pipelines/by_sensor/run", 409, "POST")
        await s.error("/api/pipelines/nope/run", 404, "POST")
        await s.error("/api/pipelines/cleaned/run", 405)


async def test_run_goes_through_the_scheduler_and_never_overlaps(tmp_path: Path) -> None:
    mock = MockApi()
    mock.start()
    try:
        mock.script("/flat", Reply(delay=1.0))  # the first run is slow
        program = (
            f'source items: http {{\n  url: "{mock.url("/flat")}"\n  every: 1h\n'
            "  schema { id: int, name: str, updated_at: str }\n}\n"
            "pipeline listed from items {\n}\n"
        )
        async with served(tmp_path, run=False, program=program) as s:
            scheduler = Scheduler(s.runtime)
            s.runtime.scheduler = scheduler
            scheduler.start()  # runs the source at once
            try:
                await _until(lambda: len(mock.calls("/flat")) == 1)
                assert "already running" in await s.error("/api/pipelines/listed/run", 409, "POST")
                # Once the first run is over (its job too, a moment after its counters),
                # a run can be asked for.
                deadline = time.monotonic() + 10
                while (
                    response := await s.client.post("/api/pipelines/listed/run")
                ).status_code == 409:
                    assert "already running" in response.text
                    assert time.monotonic() < deadline, "the first run never ended"
                    await asyncio.sleep(0.05)
                assert response.status_code == 202, response.text
                assert s.runtime.metrics.of("listed").runs == 1
                await _until(lambda: s.runtime.metrics.of("listed").runs == 2)
                assert len(mock.calls("/flat")) == 2
            finally:
                scheduler.shutdown()
    finally:
        mock.stop()


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


# ---- the event stream ----


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_stream_sends_each_batch_and_unsubscribes_when_the_client_goes(
    tmp_path: Path,
) -> None:
    settings = ApiSettings(stream=StreamSettings(keepalive=0.2))
    async with served(tmp_path, run=False, api_settings=settings) as s:
        port = _free_port()
        config = uvicorn.Config(s.app, host="127.0.0.1", port=port, log_level="warning",
                                lifespan="off")  # fmt: skip
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        subscribers = s.runtime.broker.subscriptions
        try:
            await _until(lambda: server.started)
            url = f"http://127.0.0.1:{port}/api/pipelines/hooked/stream"
            async with httpx.AsyncClient(timeout=10) as client:
                async with client.stream("GET", url) as response:
                    assert response.headers["content-type"].startswith("text/event-stream")
                    lines = response.aiter_lines()
                    assert await anext(lines) == "retry: 2000"
                    assert (await anext(lines)).startswith(": subscribed")
                    assert await anext(lines) == ""
                    await s.hook({"sensor": "a", "temp": 1.5}, {"sensor": "b", "temp": 2.5})
                    event = [await anext(lines) for _ in range(3)]
                    assert event[0] == "event: batch"
                    data = orjson.loads(event[1].removeprefix("data: "))
                    assert data["count"] == 2
                    assert data["at"] == "2026-02-01T12:00:00Z"
                    assert [r["sensor"] for r in data["records"]] == ["a", "b"]
                    assert event[2] == ""
                    assert [await anext(lines) for _ in range(2)] == [": keep-alive", ""]
                    assert len(subscribers["pipeline:hooked"]) == 1
                # The client went away: the subscription goes too.
                await _until(lambda: not subscribers["pipeline:hooked"])

                # Shutting down ends the streams still open (else the server would wait).
                async with client.stream("GET", url) as response:
                    api = s.app.state.api
                    assert isinstance(api, Api)
                    api.close_streams()
                    rest = [line async for line in response.aiter_lines()]
                    assert rest[1].startswith(": subscribed")
            await s.error("/api/pipelines/nope/stream", 404)
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, 10)


# ---- the token ----


async def test_token_guards_everything_but_webhooks(tmp_path: Path) -> None:
    async with served(tmp_path, run=False, require_token="s3cret") as s:
        assert await s.error("/api/pipelines", 401) == "the API token is missing"
        assert await s.error("/metrics", 401) == "the API token is missing"
        assert await s.error("/openapi.json?token=wrong", 401) == "the API token does not match"
        bearer = {"Authorization": "Bearer s3cret"}
        assert (await s.client.get("/api/pipelines", headers=bearer)).status_code == 200
        assert (await s.client.get("/api/pipelines?token=s3cret")).status_code == 200
        response = await s.client.post("/hooks/readings", json={"sensor": "a", "temp": 1.0})
        assert response.status_code == 202, response.text


def test_a_token_is_required_beyond_loopback() -> None:
    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"):
        assert is_loopback(host)
        assert api_token(host, {}) is None
    assert api_token("127.0.0.1", {"FLOWC_API_TOKEN": "t"}) == "t"  # set: enforced anyway
    assert api_token("0.0.0.0", {"FLOWC_API_TOKEN": "t"}) == "t"
    for host in ("0.0.0.0", "::", "192.168.1.2", "flowc.example"):
        with pytest.raises(ServerConfigError, match="set FLOWC_API_TOKEN"):
            api_token(host, {})


# ---- OpenAPI, errors, activity ----


async def test_openapi_describes_every_endpoint(tmp_path: Path) -> None:
    async with served(tmp_path, run=False) as s:
        spec = await s.json("/openapi.json")
        operations = {
            (method.upper(), path): operation
            for path, item in spec["paths"].items()
            for method, operation in item.items()
        }
        assert set(operations) == {
            ("GET", "/api/pipelines"), ("GET", "/api/pipelines/{name}"),
            ("GET", "/api/pipelines/{name}/records"), ("GET", "/api/pipelines/{name}/series"),
            ("GET", "/api/pipelines/{name}/runs"), ("POST", "/api/pipelines/{name}/run"),
            ("GET", "/api/pipelines/{name}/stream"), ("GET", "/api/dead-letters"),
            ("POST", "/api/dead-letters/{id}/replay"), ("GET", "/metrics"),
        }  # fmt: skip
        for (_, path), operation in operations.items():
            ok = operation["responses"].get("200") or operation["responses"]["202"]
            assert ok["content"], path
            if path.startswith("/api"):
                errors = operation["responses"]["422"]["content"]["application/json"]
                assert errors["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
        assert "PipelineDetail" in spec["components"]["schemas"]
        assert await s.error("/nowhere", 404) == "Not Found"
        await s.error("/api/pipelines", 405, "DELETE")


def test_activity_rate_and_status() -> None:
    now = [0.0]
    metrics = Metrics()
    m = metrics.of("p")
    activity = Activity(metrics, window=120, idle_after=600, clock=lambda: now[0])
    activity.observe()
    assert (activity.status("p"), activity.records_per_minute("p")) == ("idle", 0.0)
    for minute in range(1, 5):  # 60 records a minute for four minutes
        now[0] = minute * 60.0
        m.records_in += 60
        m.batches += 1
        m.last_run = NOW + dt.timedelta(minutes=minute)
        activity.observe()
    assert activity.records_per_minute("p") == 60.0
    assert activity.status("p") == "ok"
    now[0] += 30
    m.failures += 1
    activity.observe()
    assert activity.status("p") == "failing"
    now[0] += 30
    m.last_run = NOW + dt.timedelta(hours=1)
    activity.observe()
    assert activity.status("p") == "ok"
    now[0] += 601
    assert activity.status("p") == "idle"
    activity.observe()
    assert activity.records_per_minute("p") == 0.0  # nothing in the last two minutes
