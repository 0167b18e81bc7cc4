"""The postgres sink into a real database (the `pg_url` fixture: tests/postgres.py)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import polars as pl
import psycopg
import pytest

from flowc.runtime.metrics import Metrics
from flowc.runtime.sinks.base import SinkWorker
from flowc.runtime.sinks.postgres import PostgresDestination, url_secrets
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.common import SinkRetryPolicy
from flowc.stdlib.connectors.postgres import PostgresSink
from tests.test_sinks import MemoryStore, frame, run
from tests.test_sinks_http import FAST, free_port

Conn = psycopg.Connection[tuple[Any, ...]]


def pg_sink(
    monkeypatch: pytest.MonkeyPatch, url: str, store: MemoryStore, **config: Any
) -> SinkWorker:
    monkeypatch.setenv("WAREHOUSE_DSN", url)
    model = PostgresSink.model_validate({"url": EnvRef("WAREHOUSE_DSN"), **config})
    dest = PostgresDestination(model)
    retry = SinkRetryPolicy.model_validate(FAST)
    return SinkWorker("wh", dest, store=store, metrics=Metrics(), retry=retry)


def test_append_creates_the_table_from_the_batch_and_copies_every_type(
    pg_url: str, pg_conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["a", "", None],
            "temp": [1.5, None, float("nan")],
            "ok": [True, False, None],
            "ts": [dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC), None,
                   dt.datetime(2026, 1, 2, tzinfo=dt.UTC)],
            "day": [dt.date(2026, 1, 1), None, None],
            "tags": [["x", "y"], [], None],
            "meta": [{"k": 1}, None, {"k": None}],
            "blob": [b"\x00\xff", None, b""],
            "took": [dt.timedelta(seconds=90), None, None],
            "price": [decimal.Decimal("1.25"), None, None],
        },
        schema_overrides={"price": pl.Decimal(10, 2)},
    )  # fmt: skip
    store = MemoryStore()

    async def main() -> None:
        sink = pg_sink(monkeypatch, pg_url, store, table="public.readings")
        sink.start()
        sink.offer("p", batch)
        await sink.settled()
        sink.offer("p", batch.head(1))  # appends again: no key, so a second row
        await sink.stop()

    run(main())
    assert store.batches == []
    types = dict(
        pg_conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'readings'"
        ).fetchall()
    )
    assert types == {
        "id": "bigint", "name": "text", "temp": "double precision", "ok": "boolean",
        "ts": "timestamp with time zone", "day": "date", "tags": "jsonb", "meta": "jsonb",
        "blob": "bytea", "took": "interval", "price": "numeric",
    }  # fmt: skip
    rows = pg_conn.execute("SELECT * FROM readings ORDER BY id").fetchall()
    assert len(rows) == 4
    first, second, third = rows[0], rows[2], rows[3]
    assert first == (
        1, "a", 1.5, True, dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
        dt.date(2026, 1, 1), ["x", "y"], {"k": 1}, b"\x00\xff", dt.timedelta(seconds=90),
        decimal.Decimal("1.25"),
    )  # fmt: skip
    assert second[1] == ""
    assert second[6] == []
    assert second[7] is None
    assert third[1] is None
    assert third[2] != third[2]
    assert third[7] == {"k": None}
    assert third[8] == b""


def test_upsert_on_key_never_duplicates_and_updates(
    pg_url: str, pg_conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()

    async def main() -> None:
        sink = pg_sink(monkeypatch, pg_url, store, table="weather", key=["city", "ts"], batch=2)
        sink.start()
        day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        first = pl.DataFrame({"city": ["Oslo", "Lima", "Oslo"], "ts": [day] * 3,
                              "temp": [1.0, 20.0, 2.0]})  # fmt: skip
        sink.offer("p", first)
        await sink.settled()
        sink.offer("p", pl.DataFrame({"city": ["Lima", "Rome"], "ts": [day] * 2,
                                      "temp": [21.0, 12.0]}))  # fmt: skip
        await sink.stop()
        assert sink.metrics.of("p").sink_deliveries == {"wh": 5}

    run(main())
    assert store.batches == []
    rows = pg_conn.execute("SELECT city, temp FROM weather ORDER BY city").fetchall()
    assert rows == [("Lima", 21.0), ("Oslo", 2.0), ("Rome", 12.0)]
    primary = pg_conn.execute(
        "SELECT count(*) FROM information_schema.table_constraints "
        "WHERE table_name = 'weather' AND constraint_type = 'PRIMARY KEY'"
    ).fetchone()
    assert primary == (1,)


def test_an_existing_table_is_used_as_it_is(
    pg_url: str, pg_conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_conn.execute("CREATE SCHEMA analytics")
    pg_conn.execute(
        "CREATE TABLE analytics.events (id integer PRIMARY KEY, name text, "
        "seen timestamptz DEFAULT now())"
    )
    pg_conn.execute("INSERT INTO analytics.events (id, name) VALUES (0, 'old')")
    store = MemoryStore()

    async def main() -> None:
        sink = pg_sink(monkeypatch, pg_url, store, table="analytics.events", key=["id"])
        sink.start()
        sink.offer("p", frame(0, 3))
        await sink.settled()
        sink.offer("p", pl.DataFrame({"id": [7], "colour": ["red"]}))  # no such column
        await sink.stop()

    run(main())
    rows = pg_conn.execute("SELECT id, name, seen IS NOT NULL FROM analytics.events ORDER BY id")
    assert rows.fetchall() == [(0, "r0", True), (1, "r0", True), (2, "r0", True)]
    assert store.dead_ids() == [7]
    reason = store.dead["reason"][0]
    assert 'column "colour"' in reason
    assert "(table analytics.events)" in reason


def test_a_database_that_is_down_is_retried_then_dead_lettered_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql://flowc:Sup3rS3cret@127.0.0.1:{free_port()}/nothing"
    store = MemoryStore()

    async def main() -> None:
        sink = pg_sink(monkeypatch, url, store, table="events")
        sink.start()
        sink.offer("p", frame(0, 2))
        await sink.settled()
        await sink.stop()

    run(main())
    assert store.dead_ids() == [0, 1]
    reason = store.dead["reason"][0]
    assert reason.startswith("OperationalError")
    assert "gave up after 3 attempts" in reason
    assert "Sup3rS3cret" not in reason
    assert "Sup3rS3cret" in url_secrets(url)
