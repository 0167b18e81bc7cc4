"""PostgresStore against a real PostgreSQL (a fresh database per test, see tests/postgres.py).

The server the tests find has no TimescaleDB, so these run the `postgres` dialect; the
values every type takes through binary COPY are read back with psycopg and compared.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import psycopg
import pytest

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.migrate import ChangeKind
from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.dsl import types as t
from flowc.runtime.store.base import BreakingChanges, RunRecord
from flowc.runtime.store.open import open_store
from flowc.runtime.store.postgres_store import PostgresStore
from flowc.runtime.store_plan import StoreError
from tests.store_cases import AWKWARD, NOW, V1, V2, V3, compiled, dead_letters, readings, run

Conn = psycopg.Connection[tuple[Any, ...]]


ALL_TYPES = TableSpec(
    name="Every Type",  # quoted everywhere: a space and capitals survive
    columns=(
        ColumnSpec("id", t.INT),
        ColumnSpec("ts", t.TIMESTAMP),
        ColumnSpec("n", t.INT.nullable_()),
        ColumnSpec("x", t.FLOAT.nullable_()),
        ColumnSpec("ok", t.BOOL.nullable_()),
        ColumnSpec("text", t.STR.nullable_()),
        ColumnSpec("day", t.DATE.nullable_()),
        ColumnSpec("took", t.DURATION.nullable_()),
        ColumnSpec("doc", t.JSON),
        ColumnSpec("ints", t.list_of(t.INT.nullable_()).nullable_()),
        ColumnSpec("words", t.list_of(t.STR.nullable_())),
        ColumnSpec("times", t.list_of(t.TIMESTAMP)),
        ColumnSpec("grid", t.list_of(t.list_of(t.INT)).nullable_()),
        ColumnSpec("tags", t.list_of(t.list_of(t.STR))),
        ColumnSpec("point", t.struct({"a": t.INT.nullable_(), "b": t.STR.nullable_()}).nullable_()),
    ),
    time="ts",
    key=("id",),
)


def all_types_frame() -> pl.DataFrame:
    """One row per awkward text, with nulls, extremes and empty lists spread across them."""
    rows = len(AWKWARD)
    return pl.DataFrame(
        {
            "id": list(range(rows)),
            "ts": [
                NOW + dt.timedelta(days=i * 3000 - 12000, microseconds=i) for i in range(rows)
            ],
            "n": [None, -(2**63), 2**63 - 1, 0, None, 7, -1, 42],
            "x": [1.5, None, float("inf"), -0.0, 1e-300, float("-inf"), 3.25, None],
            "ok": [True, False, None, True, False, None, True, False],
            "text": AWKWARD,
            "day": [dt.date(1969, 12, 31), None, dt.date(2000, 1, 1), dt.date(2000, 2, 29),
                    dt.date(1900, 1, 1), dt.date(2099, 12, 31), None, dt.date(2026, 1, 1)],
            "took": [dt.timedelta(days=1, microseconds=5), None, dt.timedelta(seconds=-3),
                     dt.timedelta(0), dt.timedelta(hours=36), None, dt.timedelta(weeks=52),
                     dt.timedelta(microseconds=1)],
            "doc": ['{"a": [1, 2, {"b": null}]}', None, '"text \\" quoted"', "[]",
                    '{"é": "\\n"}', "3.5", "true", '{"nested": {"deep": [null]}}'],
            "ints": [[1, 2, 3], None, [], [None, 5], [2**62], [-1], None, [0, 0]],
            "words": [[*AWKWARD[:3], None], [], ["é"], ['x,y', "{}", '"', "\\"], ["NULL"],
                      [""], ["a b"], []],
            "times": [[NOW], [], [NOW, NOW + dt.timedelta(microseconds=1)], [], [], [NOW],
                      [], []],
            "grid": [[[1], [2, 3]], None, [], [[]], [[4]], None, [[5, 6]], []],
            "tags": [[["é", "😀"]], [], [AWKWARD[:4]], [[]], [["漢字"], ["x"]], [], [[""]], []],
            "point": [{"a": 1, "b": "x"}, None, {"a": None, "b": 'q"uote\n'}, {"a": 2, "b": None},
                      None, {"a": 3, "b": "é"}, {"a": None, "b": None}, {"a": 0, "b": ""}],
        },
        schema={
            "id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "n": pl.Int64, "x": pl.Float64,
            "ok": pl.Boolean, "text": pl.String, "day": pl.Date, "took": pl.Duration("us"),
            "doc": pl.String, "ints": pl.List(pl.Int64), "words": pl.List(pl.String),
            "times": pl.List(pl.Datetime("us", "UTC")), "grid": pl.List(pl.List(pl.Int64)),
            "tags": pl.List(pl.List(pl.String)),
            "point": pl.Struct({"a": pl.Int64, "b": pl.String}),
        },
    )  # fmt: skip


def expected_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows as psycopg reads them back: JSON documents parsed, everything else as is."""
    rows = frame.to_dicts()
    for row in rows:
        row["doc"] = None if row["doc"] is None else json.loads(row["doc"])
    return rows


async def prepared(url: str, program: Compiled, *, allow_breaking: bool = False) -> PostgresStore:
    store = await PostgresStore.connect(url)
    try:
        await store.prepare(program, allow_breaking=allow_breaking)
    except BaseException:
        await store.close()
        raise
    return store


def tables(conn: Conn) -> set[str]:
    found = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {str(row[0]) for row in found}


def columns(conn: Conn, table: str) -> list[str]:
    found = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [str(row[0]) for row in found]


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


# ---- connecting ----


def test_connect_describes_the_server_and_warns_without_timescaledb(pg_url: str) -> None:
    async def scenario() -> PostgresStore:
        store = await PostgresStore.connect(pg_url)
        await store.close()
        return store

    store = run(scenario)
    assert store.dialect == "postgres"
    assert re.match(r"PostgreSQL \d+\S* .*without TimescaleDB at postgresql://", store.description)
    (warning,) = store.warnings
    for lost in ("chunks", "compression", "retention", "continuous aggregates"):
        assert lost in warning


def test_the_password_never_appears(pg_url: str) -> None:
    # The test server trusts local connections, so any password is accepted.
    secret = "s3cr3t-pa55"
    url = with_password(pg_url, secret)

    async def scenario() -> PostgresStore:
        store = await PostgresStore.connect(url)
        await store.close()
        return store

    store = run(scenario)
    assert secret not in store.description
    assert ":***@" in store.description
    assert all(secret not in warning for warning in store.warnings)

    closed = with_password("postgresql://flowc@127.0.0.1:1/nowhere", secret)
    with pytest.raises(StoreError) as error:
        run(lambda: PostgresStore.connect(closed))
    assert secret not in str(error.value)
    assert "postgresql://flowc:***@127.0.0.1:1/nowhere" in str(error.value)


def test_open_store_chooses_postgres_for_postgres_urls(pg_url: str) -> None:
    async def scenario() -> str:
        store = await open_store(pg_url)
        await store.close()
        return type(store).__name__

    assert run(scenario) == "PostgresStore"


# ---- prepare ----


def test_prepare_creates_the_tables_and_the_state_tables(pg_url: str, pg_conn: Conn) -> None:
    async def scenario() -> None:
        store = await prepared(pg_url, compiled())
        await store.close()

    run(scenario)
    assert {"readings", "flowc_dead_letters", "flowc_runs", "flowc_cursors"} <= tables(pg_conn)
    assert columns(pg_conn, "readings") == ["ts", "sensor", "temp"]
    indexes = {
        str(row[0])
        for row in pg_conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'readings'")
    }
    assert indexes == {"readings_sensor_ts_key", "readings_ts_idx"}


def test_prepare_twice_is_harmless(pg_url: str, pg_conn: Conn) -> None:
    async def scenario() -> list[ChangeKind]:
        store = await prepared(pg_url, compiled())
        await store.write(compiled().tables["readings"], readings(("a", NOW, 1.0)), 1000)
        await store.close()
        store = await prepared(pg_url, compiled())
        plan = await store.prepare(compiled(), allow_breaking=False)
        await store.close()
        return [c.kind for table in plan.tables for c in table.migration.changes]

    assert run(scenario) == []
    assert pg_conn.execute("SELECT sensor, temp FROM readings").fetchall() == [("a", 1.0)]


def test_prepare_applies_a_migration(pg_url: str, pg_conn: Conn) -> None:
    async def scenario() -> list[ChangeKind]:
        store = await prepared(pg_url, compiled(V1))
        await store.write(compiled(V1).tables["readings"], readings(("a", NOW, 1.0)), 1000)
        await store.close()
        store = await PostgresStore.connect(pg_url)
        plan = await store.prepare(compiled(V2), allow_breaking=False)
        added = readings(("b", NOW, 2.0)).with_columns(temp_f=pl.lit(35.6))
        await store.write(compiled(V2).tables["readings"], added, 1000)
        await store.close()
        return [c.kind for table in plan.tables for c in table.migration.changes]

    assert run(scenario) == [ChangeKind.ADD_COLUMN]
    assert columns(pg_conn, "readings") == ["ts", "sensor", "temp", "temp_f"]
    stored = pg_conn.execute("SELECT sensor, temp_f FROM readings ORDER BY sensor").fetchall()
    assert stored == [("a", None), ("b", 35.6)]


def test_breaking_changes_are_refused_unless_allowed(pg_url: str, pg_conn: Conn) -> None:
    async def scenario() -> None:
        store = await prepared(pg_url, compiled(V1))
        await store.close()
        store = await PostgresStore.connect(pg_url)
        try:
            with pytest.raises(BreakingChanges) as refused:
                await store.prepare(compiled(V3), allow_breaking=False)
            assert "temp" in str(refused.value)
            assert columns(pg_conn, "readings") == ["ts", "sensor", "temp"]
            plan = await store.prepare(compiled(V3), allow_breaking=True)
            assert [c.column for c in plan.breaking] == ["temp"]
        finally:
            await store.close()

    run(scenario)
    # Allowed, the rest is applied, and the column with its data stays.
    assert columns(pg_conn, "readings") == ["ts", "sensor", "temp"]


# ---- writes ----


def test_every_type_is_written_in_chunks_and_read_back_exactly(pg_url: str, pg_conn: Conn) -> None:
    frame = all_types_frame()

    async def scenario() -> int:
        store = await prepared(pg_url, compiled(V1, ALL_TYPES))
        try:
            return await store.write(ALL_TYPES, frame, 3)  # 3 chunks: 3 + 3 + 2
        finally:
            await store.close()

    assert run(scenario) == frame.height
    names = ", ".join(f'"{c.name}"' for c in ALL_TYPES.columns)
    cursor = pg_conn.execute(f'SELECT {names} FROM "Every Type" ORDER BY id')
    stored = [dict(zip(frame.columns, row, strict=True)) for row in cursor.fetchall()]
    assert stored == expected_rows(frame)
    kinds = pg_conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'Every Type' AND column_name IN ('ints', 'grid', 'point', 'doc')"
    ).fetchall()
    assert dict(kinds) == {"ints": "ARRAY", "grid": "jsonb", "point": "jsonb", "doc": "jsonb"}


def test_a_retried_batch_adds_nothing(pg_url: str, pg_conn: Conn) -> None:
    spec = compiled().tables["readings"]
    first = readings(*((f"s{i}", NOW, float(i)) for i in range(10)))
    later = NOW + dt.timedelta(minutes=1)
    # Half already stored, a key repeated within the batch (the first one is kept).
    overlap = readings(
        *((f"s{i}", NOW, -1.0) for i in range(5)),
        *((f"s{i}", later, float(i)) for i in range(5)),
        ("s0", later, -2.0),
    )
    fresh = readings(*((f"s{i}", NOW + dt.timedelta(hours=1), 0.0) for i in range(4)))

    async def scenario() -> list[int]:
        store = await prepared(pg_url, compiled())
        try:
            return [
                await store.write(spec, first, 4),
                await store.write(spec, first, 4),
                await store.write(spec, overlap, 4),
                await store.write(spec, fresh, 4),
                await store.write(spec, fresh, 1000),
            ]
        finally:
            await store.close()

    assert run(scenario) == [10, 0, 5, 4, 0]
    assert pg_conn.execute("SELECT count(*) FROM readings").fetchone() == (19,)
    kept = pg_conn.execute(
        "SELECT temp FROM readings WHERE sensor = 's0' AND ts = %s", [later]
    ).fetchone()
    assert kept == (0.0,)
    assert pg_conn.execute("SELECT count(*) FROM readings WHERE temp < 0").fetchone() == (0,)


def test_concurrent_writers_of_the_same_batch_store_it_once(pg_url: str, pg_conn: Conn) -> None:
    spec = compiled().tables["readings"]
    batch = readings(*((f"s{i % 50}", NOW + dt.timedelta(seconds=i), 1.0) for i in range(2000)))

    async def scenario() -> list[int]:
        stores = [await prepared(pg_url, compiled()) for _ in range(3)]
        try:
            return list(await asyncio.gather(*(s.write(spec, batch, 100) for s in stores)))
        finally:
            for store in stores:
                await store.close()

    added = run(scenario)
    assert sum(added) == 2000
    assert pg_conn.execute("SELECT count(*) FROM readings").fetchone() == (2000,)


def test_a_table_without_a_key_appends_every_row(pg_url: str, pg_conn: Conn) -> None:
    spec = dataclasses.replace(compiled().tables["readings"], name="log", key=())
    batch = readings(("a", NOW, 1.0), ("a", NOW, 1.0))

    async def scenario() -> list[int]:
        store = await prepared(pg_url, compiled(V1, spec))
        try:
            return [await store.write(spec, batch, 1), await store.write(spec, batch, 1)]
        finally:
            await store.close()

    assert run(scenario) == [2, 2]
    assert pg_conn.execute("SELECT count(*) FROM log").fetchone() == (4,)


def test_a_failed_batch_stores_nothing(pg_url: str, pg_conn: Conn) -> None:
    spec = compiled().tables["readings"]
    # The last chunk breaks NOT NULL: the chunks before it are rolled back too.
    bad = readings(("a", NOW, 1.0), ("b", NOW, 2.0), ("c", NOW, 3.0)).with_columns(
        temp=pl.Series([1.0, 2.0, None])
    )

    async def scenario() -> int:
        store = await prepared(pg_url, compiled())
        try:
            with pytest.raises(psycopg.errors.NotNullViolation):
                await store.write(spec, bad, 1)
            return await store.write(spec, bad.head(2), 1)
        finally:
            await store.close()

    assert run(scenario) == 2
    assert pg_conn.execute("SELECT count(*) FROM readings").fetchone() == (2,)


# ---- the runtime's state ----


def test_dead_letters_are_stored_and_readable(pg_url: str, pg_conn: Conn) -> None:
    letters = dead_letters()

    async def scenario() -> None:
        store = await prepared(pg_url, compiled())
        try:
            await store.dead_letters(letters)
            await store.dead_letters(letters.clear())
        finally:
            await store.close()

    run(scenario)
    stored = pg_conn.execute(
        "SELECT id, pipeline, rule, action, reason, record, at FROM flowc_dead_letters "
        "ORDER BY at, rule"
    ).fetchall()
    assert [row[1:] for row in stored] == list(letters.sort("at", "rule").iter_rows())
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    ids = [row[0] for row in stored]
    assert all(uuid.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_runs_are_recorded(pg_url: str, pg_conn: Conn) -> None:
    runs = [
        RunRecord("readings", NOW, NOW + dt.timedelta(seconds=2), 10, 8, 2, 8, None),
        RunRecord("readings", NOW, NOW, 0, 0, 0, 0, "HTTPError: 503 'unavailable'"),
    ]

    async def scenario() -> None:
        store = await prepared(pg_url, compiled())
        try:
            for record in runs:
                await store.record_run(record)
        finally:
            await store.close()

    run(scenario)
    stored = pg_conn.execute("SELECT * FROM flowc_runs ORDER BY error NULLS FIRST").fetchall()
    assert stored == [dataclasses.astuple(r) for r in runs]


def test_cursors_latest_wins_and_survives_a_new_store(pg_url: str) -> None:
    async def scenario() -> list[str | None]:
        store = await prepared(pg_url, compiled())
        seen = [await store.load_cursor("api")]
        for value in ("page=1", "page=2", "page=3"):  # faster than the clock may tick
            await store.save_cursor("api", value)
        await store.save_cursor("other", "x")
        seen.append(await store.load_cursor("api"))
        await store.close()
        store = await PostgresStore.connect(pg_url)
        seen += [await store.load_cursor("api"), await store.load_cursor("other")]
        await store.save_cursor("api", "page=4")
        seen.append(await store.load_cursor("api"))
        await store.close()
        return seen

    assert run(scenario) == [None, "page=3", "page=3", "x", "page=4"]
