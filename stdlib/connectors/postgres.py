"""The `postgres` sink: records inserted into a PostgreSQL table."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from flowc.stdlib.connectors.base import (
    ConfigModel,
    DocType,
    EnvRef,
    Example,
    Secret,
    config_error,
    declare_sink,
    found,
)

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_TABLE = re.compile(rf"{_IDENT}(\.{_IDENT})?")
_COLUMN = re.compile(_IDENT)


def _table(value: str) -> str:
    if not _TABLE.fullmatch(value):
        raise config_error(
            "E303",
            f'expected a table name such as "events" or "analytics.events", found {found(value)}',
        )
    return value


def _columns(value: list[str]) -> list[str]:
    for index, column in enumerate(value):
        if not _COLUMN.fullmatch(column):
            raise config_error(
                "E303",
                f"expected a column name (letters, digits and `_`), found {found(column)}",
                path=(index,),
            )
        if column in value[:index]:
            raise config_error("E303", f"column `{column}` is listed twice", path=(index,))
    return value


class PostgresSink(ConfigModel):
    """Inserts each batch into a table of an existing PostgreSQL database, separate from
    flowc's own store (for that, use `persist`). With `key`, rows are upserted
    (`INSERT ... ON CONFLICT (key) DO UPDATE`), so a retried batch never duplicates rows;
    the key columns need a unique index. A missing table is created from the first batch's
    fields, with `key` as its primary key; an existing one needs columns named like the
    pipeline's fields. The connection string is a secret and comes from the environment.
    """

    url: Secret = Field(description="the connection string (`postgresql://...`)")
    table: Annotated[str, AfterValidator(_table), DocType("str")] = Field(
        description="the table, optionally with its schema: `analytics.events`"
    )
    key: (
        Annotated[list[str], Field(min_length=1), AfterValidator(_columns), DocType("list<str>")]
        | None
    ) = Field(default=None, description="columns that identify a row: upsert on them")
    batch: int = Field(default=1000, gt=0, description="rows per INSERT statement")


CONNECTOR = declare_sink(
    "postgres",
    PostgresSink,
    examples=(
        Example(
            "warehouse",
            {
                "url": EnvRef("WAREHOUSE_DSN"),
                "table": "analytics.weather",
                "key": ["city", "ts"],
            },
            title="Upsert into a table of another database",
        ),
    ),
)
