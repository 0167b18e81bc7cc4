"""Choose a store from a URL: PostgreSQL (with or without TimescaleDB) or a DuckDB file."""

from __future__ import annotations

from pathlib import Path

from flowc.runtime.store.base import Store
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store.postgres_store import PostgresStore


async def open_store(url: str) -> Store:
    """A PostgreSQL store for `postgresql://` and `postgres://` URLs, else a DuckDB file
    (the path, with an optional `duckdb:` or `duckdb://` prefix)."""
    if url.startswith(("postgresql://", "postgres://")):
        return await PostgresStore.connect(url)
    return DuckDBStore(Path(url.removeprefix("duckdb://").removeprefix("duckdb:")))
