"""The runtime's own tables, declared like a pipeline's so every store gets the same DDL.

They are time series too: dead letters by the time they were rejected, runs by their
start, cursors by the time they were saved (the newest row of a source is its cursor, so
saving one is an insert, never an update that could be lost half-way).
"""

from __future__ import annotations

from flowc.compiler.sql.spec import ColumnSpec, TableSpec
from flowc.dsl import types as t
from flowc.runtime.store.base import CURSORS, DEAD_LETTERS, RUNS

DEAD_LETTER_TABLE = TableSpec(
    name=DEAD_LETTERS,
    columns=(
        ColumnSpec("id", t.STR),
        ColumnSpec("pipeline", t.STR),
        ColumnSpec("rule", t.STR),
        ColumnSpec("action", t.STR),
        ColumnSpec("reason", t.STR.nullable_()),
        ColumnSpec("record", t.STR),
        ColumnSpec("at", t.TIMESTAMP),
    ),
    time="at",
    key=("id",),
    indexes=(("pipeline", "at"),),
)

RUN_TABLE = TableSpec(
    name=RUNS,
    columns=(
        ColumnSpec("pipeline", t.STR),
        ColumnSpec("started_at", t.TIMESTAMP),
        ColumnSpec("finished_at", t.TIMESTAMP),
        ColumnSpec("records_in", t.INT),
        ColumnSpec("records_out", t.INT),
        ColumnSpec("rejected", t.INT),
        ColumnSpec("stored", t.INT),
        ColumnSpec("error", t.STR.nullable_()),
    ),
    time="started_at",
    indexes=(("pipeline", "started_at"),),
)

CURSOR_TABLE = TableSpec(
    name=CURSORS,
    columns=(
        ColumnSpec("source", t.STR),
        ColumnSpec("value", t.STR),
        ColumnSpec("saved_at", t.TIMESTAMP),
    ),
    time="saved_at",
    indexes=(("source", "saved_at"),),
)

STATE_TABLES = (DEAD_LETTER_TABLE, RUN_TABLE, CURSOR_TABLE)
