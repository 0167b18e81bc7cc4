"""DuckDBStore, the embedded default: the same behaviours as the PostgreSQL store's tests.

Each test works in its own DuckDB file and reads it back, after the store is closed,
through a connection of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from flowc.compiler.artifacts import Compiled
from flowc.compiler.sql.migrate import ChangeKind
from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.dsl import types as t
from flowc.runtime.store.base import BreakingChanges, RunRecord
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store.open import open_store
from tests.store_cases import AWKWARD, NOW, V1, V2, V3, compiled, dead_letters, readings, run

ALL_TYPES = TableSpec(
    name="Every Type",
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
        ColumnSpec("grid", t.list_of(t.list_of(t.INT)).nullable_()),
        ColumnSpec("point", t.struct({"a": t.INT.nullable_(), "b": t.STR.nullable_()}).nullable_()),
    ),
    time="ts",
    key=("id",),
)


def all_types_frame() -> pl.DataFrame:
    rows = len(AWKWARD)
    return pl.DataFrame(
        {
            "id": list(range(rows)),
            "ts": [NOW + dt.timedelta(days=i * 3000 - 12000, microseconds=i) for i in range(rows)],
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
            "grid": [[[1], [2, 3]], None, [], [[]], [[4]], None, [[5, 6]], []],
            "point": [{"a": 1, "b": "x"}, None, {"a": None, "b": 'q"uote\n'}, {"a": 2, "b": None},
                      None, {"a": 3, "b": "é"}, {"a": None, "b": None}, {"a": 0, "b": ""}],
        },
        schema={
            "id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "n": pl.Int64, "x": pl.Float64,
            "ok": pl.Boolean, "text": pl.String, "day": pl.Date, "took": pl.Duration("us"),
            "doc": pl.String, "ints": pl.List(pl.Int64), "words": pl.List(pl.String),
            "grid": pl.List(pl.List(pl.Int64)),
            "point": pl.Struct({"a": pl.Int64, "b": pl.String}),
        },
    )  # fmt: skip


async def prepared(path: Path, program: Compiled, *, allow_breaking: bool = False) -> DuckDBStore:
    store = DuckDBStore(path)
    try:
        await store.prepare(program, allow_breaking=allow_breaking)
    except BaseException:
        await store.close()
        raise
    return store


@contextmanager
def reading(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(path), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn


def columns(path: Path, table: str) -> list[str]:
    with reading(path) as conn:
        found = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    return [str(row[0]) for row in found]


def one(path: Path, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    with reading(path) as conn:
        return conn.execute(sql, params).fetchone()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".flowc" / "store.duckdb"


def test_open_store_chooses_duckdb_for_a_path(db: Path) -> None:
    async def scenario() -> DuckDBStore:
        store = await open_store(f"duckdb:{db}")
        await store.close()
        assert isinstance(store, DuckDBStore)
        return store

    store = run(scenario)
    assert store.path == db
    assert store.description == f"DuckDB file {db}"
    assert store.warnings == []


def test_prepare_creates_the_tables_and_the_state_tables(db: Path) -> None:
    async def scenario() -> None:
        store = await prepared(db, compiled())
        await store.close()

    run(scenario)
    with reading(db) as conn:
        found = conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
    names = {row[0] for row in found}
    assert {"readings", "flowc_dead_letters", "flowc_runs", "flowc_cursors"} <= names
    assert columns(db, "readings") == ["ts", "sensor", "temp"]


def test_prepare_twice_is_harmless(db: Path) -> None:
    async def scenario() -> list[ChangeKind]:
        store = await prepared(db, compiled())
        await store.write(compiled().tables["readings"], readings(("a", NOW, 1.0)), 1000)
        plan = await store.prepare(compiled(), allow_breaking=False)
        await store.close()
        return [c.kind for table in plan.tables for c in table.migration.changes]

    assert run(scenario) == []
    assert one(db, "SELECT sensor, temp FROM readings") == ("a", 1.0)


def test_prepare_applies_a_migration(db: Path) -> None:
    async def scenario() -> list[ChangeKind]:
        store = await prepared(db, compiled(V1))
        await store.write(compiled(V1).tables["readings"], readings(("a", NOW, 1.0)), 1000)
        await store.close()
        store = DuckDBStore(db)
        plan = await store.prepare(compiled(V2), allow_breaking=False)
        added = readings(("b", NOW, 2.0)).with_columns(temp_f=pl.lit(35.6))
        await store.write(compiled(V2).tables["readings"], added, 1000)
        await store.close()
        return [c.kind for table in plan.tables for c in table.migration.changes]

    assert run(scenario) == [ChangeKind.ADD_COLUMN]
    assert columns(db, "readings") == ["ts", "sensor", "temp", "temp_f"]
    with reading(db) as conn:
        stored = conn.execute("SELECT sensor, temp_f FROM readings ORDER BY sensor").fetchall()
    assert stored == [("a", None), ("b", 35.6)]


def test_breaking_changes_are_refused_unless_allowed(db: Path) -> None:
    async def scenario() -> None:
        store = await prepared(db, compiled(V1))
        try:
            with pytest.raises(BreakingChanges) as refused:
                await store.prepare(compiled(V3), allow_breaking=False)
            assert "temp" in str(refused.value)
            plan = await store.prepare(compiled(V3), allow_breaking=True)
            assert [c.column for c in plan.breaking] == ["temp"]
        finally:
            await store.close()

    run(scenario)
    assert columns(db, "readings") == ["ts", "sensor", "temp"]


def test_every_type_is_written_in_chunks_and_read_back_exactly(db: Path) -> None:
    frame = all_types_frame()

    async def scenario() -> int:
        store = await prepared(db, compiled(V1, ALL_TYPES))
        try:
            return await store.write(ALL_TYPES, frame, 3)
        finally:
            await store.close()

    assert run(scenario) == frame.height
    names = ", ".join(f'"{c.name}"' for c in ALL_TYPES.columns)
    with reading(db) as conn:
        fetched = conn.execute(f'SELECT {names} FROM "Every Type" ORDER BY id').fetchall()
    stored = [dict(zip(frame.columns, row, strict=True)) for row in fetched]
    expected = frame.to_dicts()
    for row in [*stored, *expected]:  # JSON is compared as documents, not as spellings
        row["doc"] = None if row["doc"] is None else json.loads(row["doc"])
    assert stored == expected


def test_a_retried_batch_adds_nothing(db: Path) -> None:
    spec = compiled().tables["readings"]
    first = readings(*((f"s{i}", NOW, float(i)) for i in range(10)))
    later = NOW + dt.timedelta(minutes=1)
    overlap = readings(
        *((f"s{i}", NOW, -1.0) for i in range(5)),
        *((f"s{i}", later, float(i)) for i in range(5)),
        ("s0", later, -2.0),
    )

    async def scenario() -> list[int]:
        store = await prepared(db, compiled())
        try:
            return [
                await store.write(spec, first, 4),
                await store.write(spec, first, 4),
                await store.write(spec, overlap, 4),
                await store.write(spec, overlap, 1),
            ]
        finally:
            await store.close()

    assert run(scenario) == [10, 0, 5, 0]
    assert one(db, "SELECT count(*) FROM readings") == (15,)
    assert one(db, "SELECT temp FROM readings WHERE sensor = 's0' AND ts = ?", [later]) == (0.0,)


def test_a_failed_batch_stores_nothing(db: Path) -> None:
    spec = compiled().tables["readings"]
    # The last chunk breaks NOT NULL: the chunks before it are rolled back too.
    bad = readings(("a", NOW, 1.0), ("b", NOW, 2.0), ("c", NOW, 3.0)).with_columns(
        temp=pl.Series([1.0, 2.0, None])
    )

    async def scenario() -> int:
        store = await prepared(db, compiled())
        try:
            with pytest.raises(duckdb.ConstraintException):
                await store.write(spec, bad, 1)
            return await store.write(spec, bad.head(2), 1)
        finally:
            await store.close()

    assert run(scenario) == 2
    assert one(db, "SELECT count(*) FROM readings") == (2,)


def test_dead_letters_are_stored_and_readable(db: Path) -> None:
    letters = dead_letters()

    async def scenario() -> None:
        store = await prepared(db, compiled())
        try:
            await store.dead_letters(letters)
            await store.dead_letters(letters.clear())
        finally:
            await store.close()

    run(scenario)
    with reading(db) as conn:
        stored = conn.execute(
            'SELECT id, pipeline, rule, action, reason, record, "at" FROM flowc_dead_letters '
            'ORDER BY "at", rule'
        ).fetchall()
    assert [row[1:] for row in stored] == list(letters.sort("at", "rule").iter_rows())
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    ids = [row[0] for row in stored]
    assert all(uuid.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_runs_are_recorded(db: Path) -> None:
    runs = [
        RunRecord("readings", NOW, NOW + dt.timedelta(seconds=2), 10, 8, 2, 8, None),
        RunRecord("readings", NOW, NOW, 0, 0, 0, 0, "HTTPError: 503 'unavailable'"),
    ]

    async def scenario() -> str | None:
        store = await prepared(db, compiled())
        try:
            for record in runs:
                await store.record_run(record)
            # The store stays usable after an insert whose result nobody reads.
            return await store.load_cursor("api")
        finally:
            await store.close()

    assert run(scenario) is None
    with reading(db) as conn:
        stored = conn.execute("SELECT * FROM flowc_runs ORDER BY error NULLS FIRST").fetchall()
    assert stored == [dataclasses.astuple(r) for r in runs]


def test_cursors_latest_wins_and_survives_a_new_store(db: Path) -> None:
    async def scenario() -> list[str | None]:
        store = await prepared(db, compiled())
        seen = [await store.load_cursor("api")]
        for value in ("page=1", "page=2", "page=3"):  # faster than the clock may tick
            await store.save_cursor("api", value)
        await store.save_cursor("other", "x")
        seen.append(await store.load_cursor("api"))
        await store.close()
        store = DuckDBStore(db)
        seen += [await store.load_cursor("api"), await store.load_cursor("other")]
        await store.save_cursor("api", "page=4")
        seen.append(await store.load_cursor("api"))
        await store.close()
        return seen

    assert run(scenario) == [None, "page=3", "page=3", "x", "page=4"]
