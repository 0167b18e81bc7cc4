"""`flowc plan` against real stores: a new store, an applied one, an evolved program."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
import pytest

from flowc.runtime.cli import main
from tests.store_cases import V1, V2, V3


def _plan(program: Path, store: str, *extra: str) -> int:
    return main(["plan", str(program), "--store", store, *extra])


def _apply(store: str, statements: str) -> None:
    if store.startswith("postgresql://"):
        with psycopg.connect(store, autocommit=True) as conn:
            for statement in statements.split(";\n\n"):
                if statement.strip():
                    conn.execute(statement.strip().rstrip(";"))  # type: ignore[call-overload]
    else:
        with duckdb.connect(store) as conn:
            conn.execute(statements)


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_plan_lifecycle(
    kind: str, tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store.duckdb") if kind == "duckdb" else pg_url
    program = tmp_path / "p.flow"
    program.write_text(V1)

    assert _plan(program, store, "--sql") == 0
    out = capsys.readouterr().out
    assert "+ create table readings (pipeline readings)" in out
    statements = out.split("\n\n", 1)[1]
    _apply(store, statements)

    assert _plan(program, store) == 0
    assert "unchanged: readings" in capsys.readouterr().out

    program.write_text(V2)
    assert _plan(program, store, "--sql") == 0
    out = capsys.readouterr().out
    assert "~ readings:" in out
    assert '"temp_f"' in out

    program.write_text(V3)
    assert _plan(program, store) == 1
    out = capsys.readouterr().out
    assert "[breaking]" in out
    assert "refuses to start" in out
    assert _plan(program, store, "--allow-breaking") == 0


def test_plan_never_prints_the_password(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    program = tmp_path / "p.flow"
    program.write_text(V1)
    url = "postgresql://flowc:hunter2-secret@127.0.0.1:1/nowhere"
    assert _plan(program, url) == 1
    err = capsys.readouterr().err
    assert "hunter2-secret" not in err
    assert "flowc:***@127.0.0.1" in err
