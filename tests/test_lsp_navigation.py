"""Go to definition, find references and rename, across the files of a unit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_lsp_client import (
    COMMON,
    MAIN,
    LspClient,
    LspError,
    lsp_session,
    position_of,
    write_project,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LspClient]:
    folder = write_project(tmp_path_factory.mktemp("navigation"))
    with lsp_session(folder) as session:
        session.open("main.flow", MAIN)
        yield session


def _at(client: LspClient, needle: str, offset: int = 0) -> dict[str, Any]:
    line, character = position_of(MAIN, needle, offset)
    return client.at(client.uri("main.flow"), line, character)


def _definition(client: LspClient, needle: str, offset: int = 0) -> tuple[str, int, int]:
    [location] = client.request("textDocument/definition", _at(client, needle, offset))
    start = location["range"]["start"]
    return Path(location["uri"]).name, start["line"], start["character"]


def _lines(client: LspClient, locations: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(Path(loc["uri"]).name, loc["range"]["start"]["line"]) for loc in locations]


@pytest.mark.parametrize(
    ("reference", "offset", "file", "declaration", "declaration_offset"),
    [
        ("sensors {", 0, "main.flow", "sensors: http", 0),  # a source
        ("alerts\n}", 0, "main.flow", "alerts: stdout", 0),  # a sink
        ("readings {\n  where", 0, "main.flow", "readings from", 0),  # a pipeline
        ("HOT\n  select", 0, "main.flow", "HOT = 30.0", 0),  # a constant
        ("c_to_f(temperature", 0, "common.flow", "c_to_f(c", 0),  # a function, imported
        ("temperature ?? 0.0", 0, "main.flow", "temperature: float?", 0),  # a schema field
        ("temp_c > HOT", 0, "main.flow", "temp_c = temperature", 0),  # made by `map`
        ("device, temp_c", 0, "main.flow", "-> device", 3),  # a rename target
        ("device, ts)", 0, "main.flow", "-> device", 3),  # read by `persist`
    ],
)
def test_definition(
    client: LspClient,
    reference: str,
    offset: int,
    file: str,
    declaration: str,
    declaration_offset: int,
) -> None:
    text = COMMON if file == "common.flow" else MAIN
    line, character = position_of(text, declaration, declaration_offset)
    assert _definition(client, reference, offset) == (file, line, character)


def test_definition_of_a_type(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = MAIN.replace("pipeline hot from readings {", "pipeline hot from readings -> Reading {")
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", text)
        line, character = position_of(text, "Reading {")
        [location] = client.request("textDocument/definition", client.at(uri, line, character))
    assert location["uri"].endswith("common.flow")
    assert location["range"]["start"]["line"] == position_of(COMMON, "Reading")[0]


def test_a_field_in_a_downstream_pipeline_is_defined_upstream(client: LspClient) -> None:
    # `temp_c` in `hourly` reads `readings`' output: made by its `map`.
    line, character = position_of(MAIN, "temp_c = temperature")
    assert _definition(client, "mean(temp_c)", 5) == ("main.flow", line, character)


def test_references_of_a_field_follow_the_chain(client: LspClient) -> None:
    params = {**_at(client, "temp_c = temperature"), "context": {"includeDeclaration": True}}
    found = _lines(client, client.request("textDocument/references", params))
    line = position_of(MAIN, "temp_c = temperature")[0]
    assert found == [
        ("main.flow", line),
        ("main.flow", position_of(MAIN, "required temp_c")[0]),
        ("main.flow", position_of(MAIN, "where temp_c")[0]),
        ("main.flow", position_of(MAIN, "device, temp_c")[0]),
        ("main.flow", position_of(MAIN, "mean(temp_c)")[0]),
    ]


def test_references_without_the_declaration(client: LspClient) -> None:
    params = {**_at(client, "HOT = 30.0"), "context": {"includeDeclaration": False}}
    found = _lines(client, client.request("textDocument/references", params))
    assert found == [("main.flow", position_of(MAIN, "> HOT")[0])]


def test_references_of_a_function_across_files(client: LspClient) -> None:
    params = {**_at(client, "c_to_f(temperature"), "context": {"includeDeclaration": True}}
    found = _lines(client, client.request("textDocument/references", params))
    assert ("common.flow", position_of(COMMON, "fn c_to_f")[0]) in found
    assert ("main.flow", position_of(MAIN, "c_to_f(temperature")[0]) in found


def test_prepare_rename_offers_the_name(client: LspClient) -> None:
    result = client.request("textDocument/prepareRename", _at(client, "HOT\n  select"))
    assert result["placeholder"] == "HOT"
    assert client.request("textDocument/prepareRename", _at(client, "lower(")) is None


def _apply(text: str, edits: list[dict[str, Any]]) -> str:
    lines = text.split("\n")

    def position(edit: dict[str, Any]) -> tuple[int, int]:
        return edit["range"]["start"]["line"], edit["range"]["start"]["character"]

    for edit in sorted(edits, key=position, reverse=True):
        start, end = edit["range"]["start"], edit["range"]["end"]
        assert start["line"] == end["line"]
        line = lines[start["line"]]
        lines[start["line"]] = (
            line[: start["character"]] + edit["newText"] + line[end["character"] :]
        )
    return "\n".join(lines)


def test_rename_a_constant(client: LspClient) -> None:
    result = client.request(
        "textDocument/rename", {**_at(client, "HOT = 30.0"), "newName": "HOT_C"}
    )
    [(_, edits)] = result["changes"].items()
    renamed = _apply(MAIN, edits)
    assert "const HOT_C = 30.0" in renamed
    assert "where temp_c > HOT_C" in renamed
    assert "HOT " not in renamed.replace("HOT_C", "")


def test_rename_a_function_edits_both_files(client: LspClient) -> None:
    result = client.request(
        "textDocument/rename", {**_at(client, "c_to_f(temp"), "newName": "to_f"}
    )
    changes = {Path(uri).name: edits for uri, edits in result["changes"].items()}
    assert "fn to_f(c: float)" in _apply(COMMON, changes["common.flow"])
    assert "to_f(temperature ?? 0.0)" in _apply(MAIN, changes["main.flow"])


@pytest.mark.parametrize(
    ("needle", "new_name", "expected"),
    [
        ("sensors: http", "probes", ("source probes: http", "readings from probes")),
        ("alerts: stdout", "pager", ("sink pager: stdout", "  sink pager\n")),
        ("readings from", "clean", ("pipeline clean from", "hot from clean", "hourly from clean")),
    ],
)
def test_rename_a_source_a_sink_and_a_pipeline(
    client: LspClient, needle: str, new_name: str, expected: tuple[str, ...]
) -> None:
    params = {**_at(client, needle), "newName": new_name}
    [(_, edits)] = client.request("textDocument/rename", params)["changes"].items()
    renamed = _apply(MAIN, edits)
    for text in expected:
        assert text in renamed


def test_rename_a_type_declared_in_an_imported_file(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = MAIN.replace("pipeline hot from readings {", "pipeline hot from readings -> Reading {")
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", text)
        line, character = position_of(text, "Reading {")
        params = {**client.at(uri, line, character), "newName": "Sample"}
        changes = client.request("textDocument/rename", params)["changes"]
    by_file = {Path(u).name: edits for u, edits in changes.items()}
    assert "type Sample {" in _apply(COMMON, by_file["common.flow"])
    assert "from readings -> Sample {" in _apply(text, by_file["main.flow"])


def test_rename_a_field_along_the_pipeline_chain(client: LspClient) -> None:
    result = client.request(
        "textDocument/rename", {**_at(client, "temp_c > HOT"), "newName": "celsius"}
    )
    [(_, edits)] = result["changes"].items()
    renamed = _apply(MAIN, edits)
    for expected in ("celsius = temperature", "required celsius", "where celsius > HOT",
                     "select device, celsius", "mean(celsius)"):  # fmt: skip
        assert expected in renamed
    assert "temp_c" not in renamed


def test_rename_a_schema_field_through_an_aggregate_key(tmp_path: Path) -> None:
    text = (
        'source s: file {\n  path: "x.jsonl"\n  schema {\n    city: str\n    ts: timestamp\n'
        "    v: float\n  }\n}\n\npipeline hourly from s {\n  aggregate every 1h by city {\n"
        '    n = count()\n  }\n}\n\npipeline daily from hourly {\n  where city != ""\n}\n'
    )
    with lsp_session(tmp_path) as client:
        uri = client.open("agg.flow", text)
        line, character = position_of(text, "city: str")
        params = {**client.at(uri, line, character), "newName": "town"}
        [(_, edits)] = client.request("textDocument/rename", params)["changes"].items()
    renamed = _apply(text, edits)
    for expected in ("town: str", "by town", 'where town != ""'):
        assert expected in renamed


def test_rename_is_refused_while_the_file_has_syntax_errors(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = MAIN.replace("where temp_c > HOT", "where temp_c >")
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", text)
        line, character = position_of(text, "HOT = 30.0")
        with pytest.raises(LspError, match="syntax errors"):
            client.request(
                "textDocument/rename", {**client.at(uri, line, character), "newName": "X"}
            )


def test_rename_refuses_a_taken_or_invalid_name(client: LspClient) -> None:
    with pytest.raises(LspError, match="already declared"):
        client.request("textDocument/rename", {**_at(client, "HOT = 30.0"), "newName": "VAT"})
    with pytest.raises(LspError, match="not a valid name"):
        client.request("textDocument/rename", {**_at(client, "HOT = 30.0"), "newName": "2x"})
