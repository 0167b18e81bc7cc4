"""Hover: types with nullability, field lineage, functions, keys, on intact and broken files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_lsp_client import MAIN, LspClient, lsp_session, position_of, write_project

BROKEN = MAIN.replace("where temp_c > HOT", "where temp_c > ")  # `hot` does not parse


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LspClient]:
    folder = write_project(tmp_path_factory.mktemp("hover"))
    (folder / "broken.flow").write_text(BROKEN)
    with lsp_session(folder) as session:
        session.open("main.flow", MAIN)
        session.open("broken.flow", BROKEN)
        yield session


def _hover(
    client: LspClient, text: str, needle: str, offset: int = 0, name: str = "main.flow"
) -> str:
    line, character = position_of(text, needle, offset)
    result = client.request("textDocument/hover", client.at(client.uri(name), line, character))
    assert result is not None, needle
    return str(result["contents"]["value"])


def test_a_field_shows_its_type_with_nullability(client: LspClient) -> None:
    assert "temp_c: float?" in _hover(client, MAIN, "temp_c = temperature")


def test_a_field_read_after_validate_is_narrowed(client: LspClient) -> None:
    assert "temp_c: float\n" in _hover(client, MAIN, "temp_c > HOT")


def test_a_field_shows_where_it_comes_from(client: LspClient) -> None:
    text = _hover(client, MAIN, "temp_c > HOT")
    assert "field of `hot`" in text
    assert "made by `map` in `readings`" in text
    assert "`temp_c = temperature`" in text
    assert "`temperature: float?` from the schema of source `sensors`" in text


def test_a_renamed_field_shows_the_rename_and_its_source(client: LspClient) -> None:
    text = _hover(client, MAIN, "select device", 7)
    assert "device: str" in text
    assert "renamed by `rename` in `readings`" in text
    assert "made by `map` in `readings`" in text  # sensor = lower(sensor)
    assert "from the schema of source `sensors`" in text


def test_an_aggregate_field_shows_its_expression(client: LspClient) -> None:
    text = _hover(client, MAIN, "mean_c = ")
    assert "mean_c: float" in text
    assert "made by `aggregate` in `hourly`" in text
    assert "mean(temp_c)" in text


def test_a_stdlib_function_shows_its_signature_and_doc(client: LspClient) -> None:
    text = _hover(client, MAIN, "lower(sensor)")
    assert "lower(s: str) -> str" in text
    assert "*Null:*" in text


def test_a_user_function_shows_its_signature_and_comment(client: LspClient) -> None:
    text = _hover(client, MAIN, "c_to_f(temperature")
    assert "fn c_to_f(c: float) -> float" in text
    assert "Celsius to Fahrenheit" in text


def test_a_constant_shows_its_type_and_value(client: LspClient) -> None:
    assert "const HOT: float = 30.0" in _hover(client, MAIN, "HOT\n  select")


def test_a_config_key_shows_its_description(client: LspClient) -> None:
    text = _hover(client, MAIN, 'records: "$.items"')
    assert "**records**" in text
    assert "JSONPath" in text
    assert "persist setting" in _hover(client, MAIN, "time: ts")


def test_a_connector_kind_shows_its_doc(client: LspClient) -> None:
    assert "Polls an HTTP API" in _hover(client, MAIN, "http {")


def test_a_pipeline_shows_its_output(client: LspClient) -> None:
    text = _hover(client, MAIN, "readings {\n  aggregate", 0)
    assert "pipeline readings from sensors" in text
    assert "device: str" in text
    assert "persisted in `readings`" in text


def test_an_expression_shows_its_type(client: LspClient) -> None:
    assert "temperature ?? 0.0: float" in _hover(client, MAIN, "?? 0.0", 0)


def test_a_file_with_a_syntax_error_still_hovers_in_intact_declarations(
    client: LspClient,
) -> None:
    text = _hover(client, BROKEN, "temp_c = temperature", name="broken.flow")
    assert "temp_c: float?" in text
    line, character = position_of(BROKEN, "where temp_c", 7)
    uri = client.uri("broken.flow")
    assert client.request("textDocument/hover", client.at(uri, line, character)) is None


def test_nothing_under_the_cursor_gives_no_hover(client: LspClient) -> None:
    line, _ = position_of(MAIN, "const HOT")
    assert (
        client.request("textDocument/hover", client.at(client.uri("main.flow"), line + 1, 0))
        is None
    )


def test_hover_on_a_non_ascii_line_uses_utf16_positions(tmp_path: Path) -> None:
    text = 'const NAME = "Zürich 🌍"\nconst HOT = 30.0\nconst LABEL = "🌍" ++ str(HOT)\n'
    with lsp_session(tmp_path) as client:
        uri = client.open("u.flow", text)
        line, _ = position_of(text, "str(HOT)")
        # "🌍" is two UTF-16 code units: `str` starts at character 22, not 21.
        result = client.request("textDocument/hover", client.at(uri, line, 22))
        assert "str(x: any) -> str" in result["contents"]["value"]
        start = result["range"]["start"]["character"]
        assert start == 22
