"""The `postgres` sink: batches appended with COPY, or upserted on `key`.

COPY is the fastest way in, and the batch goes over as one CSV text that Polars writes in
bulk. An upsert COPYs into a temporary table first and then runs one
`INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE`, in one transaction, so a retried batch
never duplicates rows and a failed one leaves nothing behind. When the table is missing it
is created from the first batch's schema (with `key` as its primary key).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import polars as pl
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from flowc.runtime.sinks.base import (
    Delivery,
    Destination,
    PermanentError,
    RetryableError,
    describe,
    env_value,
)
from flowc.stdlib.connectors.postgres import PostgresSink

CONNECT_TIMEOUT = 10
# SQLSTATE classes worth retrying: connection exceptions, transaction rollbacks (deadlock,
# serialization), insufficient resources, operator intervention, system errors.
_RETRYABLE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_JSON_WRAPPER = '{"v":'


def pg_type(dtype: pl.DataType) -> str:
    """The column type a new table gets for a Polars dtype."""
    if dtype.is_nested():
        return "jsonb"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.Decimal):
        return "numeric"
    simple: dict[type[pl.DataType], str] = {
        pl.Boolean: "boolean",
        pl.Int8: "smallint",
        pl.Int16: "smallint",
        pl.Int32: "integer",
        pl.Int64: "bigint",
        pl.UInt8: "smallint",
        pl.UInt16: "integer",
        pl.UInt32: "bigint",
        pl.UInt64: "numeric",
        pl.Float32: "real",
        pl.Float64: "double precision",
        pl.Date: "date",
        pl.Time: "time",
        pl.Duration: "interval",
        pl.Binary: "bytea",
    }
    return simple.get(type(dtype), "text")


def copy_text(frame: pl.DataFrame) -> str:
    """The frame as CSV that PostgreSQL's COPY reads: nested values as JSON, bytes as
    `\\x` hex, times with their offset, durations in microseconds; nulls unquoted and empty
    strings quoted, which is how COPY's CSV format tells them apart."""
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Struct):
            col = pl.when(col.is_not_null()).then(col.struct.json_encode())
        elif dtype.is_nested():  # a list or array: JSON through a one-field struct
            wrapped = pl.struct(col.alias("v")).struct.json_encode()
            json = wrapped.str.strip_prefix(_JSON_WRAPPER).str.strip_suffix("}")
            col = pl.when(col.is_not_null()).then(json)
        elif isinstance(dtype, pl.Binary):
            col = pl.lit("\\x") + col.bin.encode("hex")
        elif isinstance(dtype, pl.Datetime):
            offset = "%:z" if dtype.time_zone else ""
            col = col.dt.to_string(f"%Y-%m-%dT%H:%M:%S%.f{offset}")
        elif isinstance(dtype, pl.Duration):
            col = col.dt.total_microseconds().cast(pl.String) + pl.lit(" microseconds")
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            col = col.cast(pl.String)
        columns.append(col.alias(name))
    return frame.select(columns).write_csv(include_header=False)


def url_secrets(url: str) -> tuple[str, ...]:
    """The connection string and the password inside it, to keep out of every message."""
    secrets = [url]
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.ProgrammingError:
        password = urlsplit(url).password
    if password:
        secrets += [str(password), unquote(str(password))]
    return tuple(secrets)


class PostgresDestination(Destination):
    kind: ClassVar[str] = "postgres"

    def __init__(self, config: PostgresSink) -> None:
        self.url = env_value(config.url, "the connection string")
        self.secrets = url_secrets(self.url)
        schema, _, name = config.table.rpartition(".")
        self.table = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        self.table_name = config.table
        self.key = list(config.key) if config.key else None
        self.max_rows = config.batch
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._table_known = False

    async def deliver(self, delivery: Delivery) -> None:
        frame = delivery.frame
        if self.key:
            missing = [k for k in self.key if k not in frame.columns]
            if missing:
                raise PermanentError(
                    f"the records have no field {', '.join(missing)}, which `key` names"
                )
            # ON CONFLICT cannot update one row twice in a statement: the last record wins.
            frame = frame.unique(subset=self.key, keep="last", maintain_order=True)
        try:
            conn = await self._connection()
            if not self._table_known:
                await self._create_table(conn, frame)
            async with conn.transaction():
                if self.key:
                    await self._upsert(conn, frame, delivery.id)
                else:
                    await self._copy(conn, self.table, frame)
        except psycopg.Error as error:
            raise self._classify(error) from error

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
        return self._conn

    async def _create_table(self, conn: psycopg.AsyncConnection[Any], frame: pl.DataFrame) -> None:
        row = await (
            await conn.execute("SELECT to_regclass(%s)", [self.table.as_string(conn)])
        ).fetchone()
        if row is None or row[0] is None:
            columns = [
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(pg_type(t)))
                for n, t in frame.schema.items()
            ]
            if self.key:
                keys = sql.SQL(", ").join(map(sql.Identifier, self.key))
                columns.append(sql.SQL("PRIMARY KEY ({})").format(keys))
            await conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                    self.table, sql.SQL(", ").join(columns)
                )
            )
        self._table_known = True

    async def _copy(
        self, conn: psycopg.AsyncConnection[Any], table: sql.Identifier, frame: pl.DataFrame
    ) -> None:
        names = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(table, names)
        async with conn.cursor() as cursor, cursor.copy(statement) as copy:
            await copy.write(copy_text(frame))

    async def _upsert(
        self, conn: psycopg.AsyncConnection[Any], frame: pl.DataFrame, delivery_id: str
    ) -> None:
        assert self.key is not None
        stage = sql.Identifier(f"flowc_stage_{delivery_id}")
        await conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                stage, self.table
            )
        )
        await self._copy(conn, stage, frame)
        names = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
        keys = sql.SQL(", ").join(map(sql.Identifier, self.key))
        others = [c for c in frame.columns if c not in self.key]
        action: sql.Composable
        if others:
            sets = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in others
            )
            action = sql.SQL("DO UPDATE SET {}").format(sets)
        else:
            action = sql.SQL("DO NOTHING")
        await conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
                self.table, names, names, stage, keys, action
            )
        )

    def _classify(self, error: psycopg.Error) -> Exception:
        """A connection problem or a transient server state is retried; a statement the
        table refuses (a missing column, a bad value) is not."""
        state = error.sqlstate or ""
        if isinstance(error, psycopg.errors.UndefinedTable):
            self._table_known = False  # dropped while running: create it again
            return RetryableError(describe(error))
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) or (
            state[:2] in _RETRYABLE_CLASSES
        ):
            if self._conn is not None and self._conn.broken:
                self._conn = None
            return RetryableError(describe(error))
        return PermanentError(f"{describe(error)} (table {self.table_name})")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
