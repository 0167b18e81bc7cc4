"""Choose a store from a URL: PostgreSQL (with or without TimescaleDB) or a DuckDB file."""

from __future__ import annotations

from pathlib import Path

from flowc.runtime.store.base import Store
from flowc.runtime.store.duckdb_store import DuckDBStore
from flowc.runtime.store_plan import StoreError


async def open_store(url: str) -> Store:
    if url.startswith(("postgresql://", "postgres://")):
        raise StoreError("the PostgreSQL store is not built yet; use a DuckDB file")
    return DuckDBStore(Path(url.removeprefix("duckdb://").removeprefix("duckdb:")))
