"""The `file` source: every format, globs, rescans that read only new or changed files,
and bad files reported by name without stopping the others."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

from flowc.compiler.artifacts import compile_unit
from flowc.compiler.checker import check_path
from flowc.dsl import types as t
from flowc.runtime.sources.base import RunResult
from flowc.runtime.sources.files import FilePollSource, FileSourceError
from flowc.stdlib.connectors.file import FileSource
from tests.mock_api import Collector, MemoryState

EXAMPLES = Path(__file__).parent.parent / "examples"
SCHEMA = {"id": t.parse_spec("int"), "name": t.parse_spec("str"), "temp": t.parse_spec("float?")}


def file_source(base: Path, schema: Any = SCHEMA, **config: Any) -> FilePollSource:
    return FilePollSource("files", FileSource.model_validate(config), schema, base)


def run(source: FilePollSource, state: MemoryState | None = None) -> tuple[RunResult, Collector]:
    emit = Collector()

    async def go() -> RunResult:
        return await asyncio.wait_for(source.run_once(emit, state or MemoryState()), timeout=20)

    return asyncio.run(go()), emit


def rows(emit: Collector) -> list[dict[str, Any]]:
    return [row for batch in emit.batches for row in batch.frame.to_dicts()]


# ---- formats ----


def test_jsonl_keeps_each_line_as_the_raw_record(tmp_path: Path) -> None:
    lines = ['{"id": 1, "name": "a", "temp": 20.5, "extra": true}', "", '{"id": 2, "name": "b"}']
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    result, emit = run(file_source(tmp_path, path="r.jsonl"))
    assert (result.records, result.batches) == (2, 1)
    assert rows(emit) == [
        {"id": 1, "name": "a", "temp": 20.5},
        {"id": 2, "name": "b", "temp": None},
    ]
    raw = emit.batches[0].raw
    assert raw is not None
    assert raw.to_list() == [lines[0], lines[2]]


def test_jsonl_with_records_inside_each_line(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text(
        '{"readings": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}\n'
        '{"readings": [{"id": 3, "name": "c"}]}\n'
    )
    _, emit = run(file_source(tmp_path, path="r.jsonl", records="$.readings"))
    assert [r["id"] for r in rows(emit)] == [1, 2, 3]


def test_json_document_with_a_records_path(tmp_path: Path) -> None:
    document = {"orders": [{"id": 7, "name": "x", "temp": 1}, {"id": 8, "name": "y"}]}
    (tmp_path / "o.json").write_bytes(orjson.dumps(document))
    _, emit = run(file_source(tmp_path, path="o.json", records="$.orders"))
    assert rows(emit) == [{"id": 7, "name": "x", "temp": 1.0}, {"id": 8, "name": "y", "temp": None}]
    assert emit.batches[0].raw is not None


def test_csv_with_delimiter_header_and_types(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("name;id;temp;ignored\na;1;2.5;x\nb;2;;y\n")
    schema = {**SCHEMA, "at": t.parse_spec("timestamp?")}
    _, emit = run(file_source(tmp_path, schema, path="r.csv", delimiter=";"))
    assert rows(emit) == [
        {"id": 1, "name": "a", "temp": 2.5, "at": None},
        {"id": 2, "name": "b", "temp": None, "at": None},
    ]
    assert emit.batches[0].frame.schema["at"] == pl.Datetime("us", "UTC")


def test_csv_without_header_in_latin_1(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_bytes("1,café,3.0\n2,thé,\n".encode("latin-1"))
    source = file_source(tmp_path, path="r.csv", header=False, encoding="latin-1")
    _, emit = run(source)
    assert [r["name"] for r in rows(emit)] == ["café", "thé"]


def test_csv_cells_holding_json_for_nested_fields(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text('id,tags\n1,"[""a"", ""b""]"\n')
    schema = {"id": t.parse_spec("int"), "tags": t.parse_spec("list<str>")}
    _, emit = run(file_source(tmp_path, schema, path="r.csv"))
    assert rows(emit) == [{"id": 1, "tags": ["a", "b"]}]


def test_parquet_with_the_declared_schema(tmp_path: Path) -> None:
    pl.DataFrame({"name": ["a", "b"], "id": [1, 2], "other": [0, 0]}).write_parquet(
        tmp_path / "r.parquet"
    )
    _, emit = run(file_source(tmp_path, path="r.parquet"))
    assert rows(emit) == [
        {"id": 1, "name": "a", "temp": None},
        {"id": 2, "name": "b", "temp": None},
    ]
    assert emit.batches[0].raw is None


def test_no_schema_keeps_what_the_file_holds(tmp_path: Path) -> None:
    (tmp_path / "r.jsonl").write_text('{"a": 1, "b": {"c": "x"}}\n')
    _, emit = run(file_source(tmp_path, None, path="r.jsonl"))
    assert rows(emit) == [{"a": 1, "b": {"c": "x"}}]


# ---- globs and rescans ----


def write(path: Path, *ids: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f'{{"id": {i}, "name": "n{i}"}}\n' for i in ids))


def test_a_glob_reads_each_matching_file_in_name_order(tmp_path: Path) -> None:
    write(tmp_path / "in" / "b.jsonl", 3)
    write(tmp_path / "in" / "a.jsonl", 1, 2)
    write(tmp_path / "in" / ".c.jsonl.tmp", 9)  # being written: skipped
    write(tmp_path / "in" / "notes.txt", 8)
    result, emit = run(file_source(tmp_path, path="in/*.jsonl", format="jsonl"))
    assert (result.batches, [r["id"] for r in rows(emit)]) == (2, [1, 2, 3])


def test_a_rescan_reads_only_new_or_changed_files(tmp_path: Path) -> None:
    state = MemoryState()
    write(tmp_path / "in" / "a.jsonl", 1)
    write(tmp_path / "in" / "b.jsonl", 2)
    source = file_source(tmp_path, path="in/*.jsonl", every=dt.timedelta(seconds=1))
    assert [r["id"] for r in rows(run(source, state)[1])] == [1, 2]
    assert [e["path"] for e in orjson.loads(state.cursors["files"])] == ["in/a.jsonl", "in/b.jsonl"]

    write(tmp_path / "in" / "c.jsonl", 3)
    assert [r["id"] for r in rows(run(source, state)[1])] == [3]
    saves = len(state.saves)
    assert rows(run(source, state)[1]) == []  # nothing new, and nothing to save
    assert len(state.saves) == saves

    write(tmp_path / "in" / "a.jsonl", 1, 10)  # changed: read again whole
    restarted = file_source(tmp_path, path="in/*.jsonl", every=dt.timedelta(seconds=1))
    assert [r["id"] for r in rows(run(restarted, state)[1])] == [1, 10]

    (tmp_path / "in" / "b.jsonl").unlink()  # gone: forgotten
    run(restarted, state)
    saved = [e["path"] for e in orjson.loads(state.cursors["files"])]
    assert saved == ["in/a.jsonl", "in/c.jsonl"]


def test_a_same_size_rewrite_is_seen_through_its_mtime(tmp_path: Path) -> None:
    state = MemoryState()
    write(tmp_path / "a.jsonl", 1)
    source = file_source(tmp_path, path="a.jsonl")
    run(source, state)
    write(tmp_path / "a.jsonl", 2)
    stat = (tmp_path / "a.jsonl").stat()
    os.utime(tmp_path / "a.jsonl", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert [r["id"] for r in rows(run(source, state)[1])] == [2]


# ---- errors ----


def test_a_bad_file_is_named_and_does_not_stop_the_others(tmp_path: Path) -> None:
    state = MemoryState()
    write(tmp_path / "in" / "a.jsonl", 1)
    (tmp_path / "in" / "b.jsonl").write_text('{"id": 2, "name": "x"}\n{"id": 3,\n')
    write(tmp_path / "in" / "c.jsonl", 4)
    source = file_source(tmp_path, path="in/*.jsonl")
    emit = Collector()
    with pytest.raises(FileSourceError) as error:
        asyncio.run(source.run_once(emit, state))
    assert str(error.value).startswith(
        "source `files`: 1 of 3 files could not be read: in/b.jsonl: malformed JSON at line 2"
    )
    assert [r["id"] for r in rows(emit)] == [1, 4]
    assert "in/b.jsonl" not in state.cursors["files"]  # read again once fixed

    write(tmp_path / "in" / "b.jsonl", 2, 3)
    assert [r["id"] for r in rows(run(source, state)[1])] == [2, 3]


@pytest.mark.parametrize(
    ("name", "content", "config", "message"),
    [
        ("r.jsonl", '{"id": "one", "name": "a"}\n', {},
         "r.jsonl: record 0 does not fit the schema: `id` should be int"),
        ("r.jsonl", "[1, 2]\n", {}, "r.jsonl: record 0 is a list, expected an object"),
        ("r.json", "{not json", {}, "r.json: malformed JSON at line 1, column 2"),
        ("r.csv", "id,name\nx,a\n", {}, "r.csv: not readable as csv: could not parse `x`"),
        ("r.csv", "id,name\n1,\n", {}, "r.csv: row 1 has no value for `name`"),
        ("r.csv", "name\na\n", {}, "r.csv: no column `id`, which the schema declares"),
        ("r.parquet", "not parquet", {}, "r.parquet: not readable as parquet"),
    ],
)  # fmt: skip
def test_bad_files_give_clear_errors(
    tmp_path: Path, name: str, content: str, config: dict[str, Any], message: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(FileSourceError) as error:
        run(file_source(tmp_path, path=name, **config))
    assert message in str(error.value)


def test_a_missing_file_is_an_error_but_an_empty_glob_is_not(tmp_path: Path) -> None:
    with pytest.raises(FileSourceError, match=r"no file data/x.jsonl \(paths are relative to"):
        run(file_source(tmp_path, path="data/x.jsonl"))
    result, _ = run(file_source(tmp_path, path="data/*.jsonl"))
    assert result.records == 0


def test_the_example_project_reads_its_data_through_the_manifest() -> None:
    compiled = compile_unit(check_path(EXAMPLES / "iot_sensors.flow"))
    entry = next(s for s in compiled.manifest.sources if s.kind == "file")
    source = FilePollSource.from_manifest(entry, EXAMPLES)
    result, emit = run(source)
    lines = (EXAMPLES / "data" / "sensors.jsonl").read_text().splitlines()
    assert result.records == len([line for line in lines if line.strip()])
    assert emit.batches[0].frame.schema["tags"] == pl.List(pl.String)
