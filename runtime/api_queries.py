"""The API's reads and writes of the store: run history, dead letters, bucketed history.

Statements are built with sqlglot for the store's dialect (identifiers quoted, every value
a positional parameter) and run through two store methods beyond the `Store` protocol:
`fetch(sql, params) -> rows as dicts` and `execute(sql, params) -> rows changed`. A store
without them answers 501 rather than failing halfway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import sqlglot.expressions as exp

from flowc.compiler.sql.types import Dialect
from flowc.runtime.api_errors import ApiError
from flowc.runtime.store.base import DEAD_LETTERS, RUNS, Store
from flowc.runtime.store.series import SeriesQuery, series_sql

_RUN_COLUMNS = ("pipeline", "started_at", "finished_at", "records_in", "records_out",
                "rejected", "stored", "error")  # fmt: skip
_LETTER_COLUMNS = ("id", "pipeline", "rule", "action", "reason", "record", "at")


@runtime_checkable
class Queryable(Protocol):
    """What the API needs of a store besides `Store`: plain queries with parameters."""

    dialect: Dialect

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]: ...

    async def execute(self, sql: str, params: Sequence[Any]) -> int: ...


def queryable(store: Store) -> Queryable:
    if not isinstance(store, Queryable):
        raise ApiError(
            501,
            f"the store ({type(store).__name__}) cannot answer queries yet",
            {"store": store.description},
        )
    return store


def _render(query: exp.Expression, dialect: Dialect) -> str:
    return query.sql(dialect="duckdb" if dialect == "duckdb" else "postgres")


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def _equals(column: str) -> exp.EQ:
    return exp.EQ(this=_col(column), expression=exp.Placeholder())


async def runs(store: Store, pipeline: str, limit: int) -> list[dict[str, Any]]:
    """The pipeline's runs, newest first."""
    db = queryable(store)
    query = (
        exp.select(*map(_col, _RUN_COLUMNS))
        .from_(_table(RUNS))
        .where(_equals("pipeline"))
        .order_by(exp.Ordered(this=_col("started_at"), desc=True))
        .limit(exp.Placeholder())
    )
    return await db.fetch(_render(query, db.dialect), [pipeline, limit])


async def dead_letters(store: Store, pipeline: str | None, limit: int) -> list[dict[str, Any]]:
    """Dead letters, newest first, of one pipeline or of all."""
    db = queryable(store)
    query = exp.select(*map(_col, _LETTER_COLUMNS)).from_(_table(DEAD_LETTERS))
    params: list[Any] = []
    if pipeline is not None:
        query = query.where(_equals("pipeline"))
        params.append(pipeline)
    query = query.order_by(
        exp.Ordered(this=_col("at"), desc=True), exp.Ordered(this=_col("id"))
    ).limit(exp.Placeholder())
    params.append(limit)
    return await db.fetch(_render(query, db.dialect), params)


async def dead_letter(store: Store, letter_id: str) -> dict[str, Any] | None:
    db = queryable(store)
    query = exp.select(*map(_col, _LETTER_COLUMNS)).from_(_table(DEAD_LETTERS))
    rows = await db.fetch(_render(query.where(_equals("id")), db.dialect), [letter_id])
    return rows[0] if rows else None


async def delete_dead_letter(store: Store, letter_id: str) -> bool:
    db = queryable(store)
    query = exp.delete(_table(DEAD_LETTERS), where=_equals("id"))
    return await db.execute(_render(query, db.dialect), [letter_id]) > 0


async def series(store: Store, query: SeriesQuery) -> list[dict[str, Any]]:
    """Rows of `bucket` and `value`, oldest first."""
    db = queryable(store)
    sql, params = series_sql(query, db.dialect)
    return await db.fetch(sql, params)
