"""Shared fixtures and the `--update-golden` switch for golden-file tests."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files with the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# PostgreSQL: `postgres_dsn` (session), `pg_url` and `pg_conn` (one fresh database per test).
# How the server is found or started: tests/postgres.py.
from tests.postgres import pg_conn, pg_url, postgres_dsn  # noqa: E402, F401
