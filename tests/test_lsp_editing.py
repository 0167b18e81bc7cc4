"""Outline, signature help, formatting and semantic tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowc.dsl.fmt import format_source
from tests.test_lsp_client import MAIN, LspClient, lsp_session, position_of, write_project


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LspClient]:
    folder = write_project(tmp_path_factory.mktemp("editing"))
    with lsp_session(folder, {"debounce_ms": 0}) as session:
        session.open("main.flow", MAIN)
        yield session


def _document(client: LspClient) -> dict[str, Any]:
    return {"textDocument": {"uri": client.uri("main.flow")}}


def _set(client: LspClient, text: str) -> None:
    client.change(client.uri("main.flow"), text)


# ---- outline ----


def test_outline_lists_declarations_with_their_steps(client: LspClient) -> None:
    _set(client, MAIN)
    symbols = client.request("textDocument/documentSymbol", _document(client))
    names = [s["name"] for s in symbols]
    assert names == ["common.flow", "HOT", "sensors", "alerts", "readings", "hot", "hourly"]
    readings = symbols[names.index("readings")]
    assert readings["detail"] == "from sensors"
    steps = [s["name"] for s in readings["children"]]
    assert steps == ["map", "rename", "validate", "persist timescale readings"]
    assert [f["name"] for f in readings["children"][0]["children"]] == [
        "sensor", "temp_c", "temp_f", "ts",
    ]  # fmt: skip
    sensors = symbols[names.index("sensors")]
    assert [f["name"] for f in sensors["children"]] == ["sensor", "temperature", "ts"]


def test_outline_keeps_a_declaration_that_does_not_parse(client: LspClient) -> None:
    _set(client, MAIN.replace("where temp_c > HOT", "where temp_c >"))
    symbols = client.request("textDocument/documentSymbol", _document(client))
    hot = next(s for s in symbols if s["name"] == "hot")
    assert hot["detail"] == "pipeline (does not parse)"
    assert [s["name"] for s in symbols][-1] == "hourly"


# ---- signature help ----


def _signature(client: LspClient, text: str) -> dict[str, Any]:
    line, character = position_of(text, "|")
    _set(client, text.replace("|", "", 1))
    uri = client.uri("main.flow")
    result = client.request("textDocument/signatureHelp", client.at(uri, line, character))
    assert result is not None
    return dict(result)


def test_signature_help_for_a_stdlib_call(client: LspClient) -> None:
    text = MAIN.replace("sensor = lower(sensor)", "sensor = parse_timestamp(sensor, |")
    result = _signature(client, text)
    [signature] = result["signatures"]
    assert signature["label"].startswith("parse_timestamp(s: str")
    assert result["activeParameter"] == 1
    assert signature["parameters"][1]["documentation"]


def test_signature_help_for_a_user_function(client: LspClient) -> None:
    text = MAIN.replace("c_to_f(temperature ?? 0.0)", "c_to_f(|")
    result = _signature(client, text)
    assert result["signatures"][0]["label"] == "fn c_to_f(c: float) -> float"
    assert result["activeParameter"] == 0


def test_no_signature_help_outside_a_call(client: LspClient) -> None:
    line, character = position_of(MAIN, "HOT = 30.0")
    _set(client, MAIN)
    uri = client.uri("main.flow")
    assert client.request("textDocument/signatureHelp", client.at(uri, line, character)) is None


# ---- formatting ----


def _format(client: LspClient, text: str) -> list[dict[str, Any]]:
    _set(client, text)
    options = {"tabSize": 2, "insertSpaces": True}
    return list(
        client.request("textDocument/formatting", {**_document(client), "options": options})
    )


def test_formatting_gives_what_flowc_fmt_writes(client: LspClient) -> None:
    [edit] = _format(client, MAIN)
    assert edit["newText"] == format_source(MAIN)
    assert edit["range"]["start"] == {"line": 0, "character": 0}
    assert edit["range"]["end"] == {"line": MAIN.count("\n"), "character": 0}


def test_formatting_a_formatted_file_changes_nothing(client: LspClient) -> None:
    formatted = format_source(MAIN)
    assert formatted is not None
    assert _format(client, formatted) == []


def test_formatting_a_file_with_syntax_errors_changes_nothing(client: LspClient) -> None:
    assert _format(client, MAIN.replace("where temp_c > HOT", "where temp_c >")) == []


# ---- semantic tokens ----


def _tokens(client: LspClient, text: str) -> dict[tuple[int, int], tuple[str, str, list[str]]]:
    """(line, character) to (text, type, modifiers), decoded with the published legend."""
    _set(client, text)
    legend = client.initialize_result["capabilities"]["semanticTokensProvider"]["legend"]
    data = client.request("textDocument/semanticTokens/full", _document(client))["data"]
    lines = text.split("\n")
    out: dict[tuple[int, int], tuple[str, str, list[str]]] = {}
    line = character = 0
    for index in range(0, len(data), 5):
        delta_line, delta_start, length, kind, modifiers = data[index : index + 5]
        line += delta_line
        character = character + delta_start if delta_line == 0 else delta_start
        names = [m for bit, m in enumerate(legend["tokenModifiers"]) if modifiers >> bit & 1]
        token = lines[line][character : character + length]
        out[(line, character)] = (token, legend["tokenTypes"][kind], names)
    return out


def _token(tokens: dict[tuple[int, int], tuple[str, str, list[str]]], at: tuple[int, int]) -> str:
    return tokens[at][1]


def test_semantic_tokens_classify_every_kind_of_token(client: LspClient) -> None:
    text = "// readings\n" + MAIN
    tokens = _tokens(client, text)
    expected = {
        "// readings": "comment",
        "pipeline readings": "keyword",
        "sensors: http": "namespace",
        "http {": "type",
        "records:": "property",
        '"$.items"': "string",
        "5m": "number",
        "temperature: float?": "variable",
        "float?": "type",
        "lower(sensor)": "function",
        "c_to_f(temp": "function",
        "HOT\n  select": "variable",
        "> HOT": "operator",
        "?? 0.0": "operator",
        "drop\n": "enumMember",
    }
    for needle, kind in expected.items():
        assert _token(tokens, position_of(text, needle)) == kind, needle
    assert "defaultLibrary" in tokens[position_of(text, "lower(sensor)")][2]
    assert "declaration" in tokens[position_of(text, "temp_c = temperature")][2]


def test_a_keyword_used_as_a_field_name_is_a_variable(client: LspClient) -> None:
    text = MAIN.replace("    ts: timestamp\n", "    ts: timestamp\n    type: str\n")
    tokens = _tokens(client, text)
    assert _token(tokens, position_of(text, "type: str")) == "variable"
    assert _token(tokens, position_of(text, "map {")) == "keyword"


def test_broken_text_is_still_highlighted(client: LspClient) -> None:
    text = MAIN.replace("where temp_c > HOT", 'where temp_c > "unclosed')
    tokens = _tokens(client, text)
    assert _token(tokens, position_of(text, "where temp_c")) == "keyword"
    assert _token(tokens, position_of(text, '"unclosed')) == "string"
    assert _token(tokens, position_of(text, "hourly from")) == "namespace"
