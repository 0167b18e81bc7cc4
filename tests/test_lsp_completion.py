"""Completion: keywords, steps, fields in scope, functions, kinds, keys, names, types.

Most cases are typed into a copy of the project's program, so the text around the cursor
does not parse: completion must work from the text and the last checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_lsp_client import MAIN, LspClient, lsp_session, position_of, write_project


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LspClient]:
    folder = write_project(tmp_path_factory.mktemp("completion"))
    with lsp_session(folder, {"debounce_ms": 0}) as session:
        session.open("main.flow", MAIN)
        yield session


def _complete(client: LspClient, text: str, marker: str = "|") -> dict[str, dict[str, Any]]:
    """Completion items by label, with the cursor where `marker` is in `text`."""
    line, character = position_of(text, marker)
    uri = client.uri("main.flow")
    client.change(uri, text.replace(marker, "", 1))
    result = client.request("textDocument/completion", client.at(uri, line, character))
    items = result["items"] if isinstance(result, dict) else result
    return {item["label"]: item for item in items}


def _in_hot(step: str) -> str:
    """The program with `step` typed as a new line after `where temp_c > HOT`."""
    return MAIN.replace("  where temp_c > HOT\n", f"  where temp_c > HOT\n  {step}\n")


def test_declaration_keywords_at_the_top_level(client: LspClient) -> None:
    labels = _complete(client, MAIN + "\n|")
    assert {"source", "sink", "pipeline", "const", "fn", "type", "import", "test"} <= set(labels)
    assert "map" not in labels


def test_step_keywords_inside_a_pipeline(client: LspClient) -> None:
    items = _complete(client, _in_hot("|"))
    assert {"map", "derive", "where", "select", "validate", "aggregate", "persist"} <= set(items)
    assert items["map"]["insertTextFormat"] == 2  # a snippet
    assert "source" not in items


def test_fields_in_scope_are_those_after_the_previous_step(client: LspClient) -> None:
    items = _complete(client, MAIN.replace("select device, temp_c", "select device, |"))
    assert {"device", "temp_c", "temp_f", "ts"} <= set(items)
    assert "sensor" not in items  # renamed to `device` upstream
    assert items["temp_c"]["detail"] == "float"  # after `required temp_c`: not null


def test_fields_dropped_by_a_half_typed_step_are_gone(client: LspClient) -> None:
    items = _complete(client, _in_hot("drop temp_f\n  where |"))
    assert "temp_c" in items
    assert "temp_f" not in items


def test_assignments_above_in_the_same_map_are_in_scope(client: LspClient) -> None:
    text = MAIN.replace("    ts     = ts\n", "    ts     = ts\n    label  = |\n")
    items = _complete(client, text)
    assert {"temp_c", "temp_f", "sensor", "temperature"} <= set(items)
    assert items["temp_c"]["detail"] == "float?"


def test_functions_come_with_their_signatures(client: LspClient) -> None:
    items = _complete(client, _in_hot("where |"))
    assert items["lower"]["detail"] == "lower(s: str) -> str"
    assert "str" in items["lower"]["documentation"]["value"]
    assert items["c_to_f"]["detail"] == "fn c_to_f(c: float) -> float"
    assert {"HOT", "VAT"} <= set(items)
    assert "mean" not in items  # an aggregate, outside `aggregate`


def test_aggregate_functions_inside_aggregate(client: LspClient) -> None:
    text = MAIN.replace("mean_c = mean(temp_c)", "mean_c = mean(temp_c)\n    top = |")
    items = _complete(client, text)
    assert {"mean", "max", "count", "percentile"} <= set(items)
    assert "temp_c" in items


def test_rule_forms_and_actions_inside_validate(client: LspClient) -> None:
    rules = _complete(client, MAIN.replace("required temp_c else drop", "|"))
    assert {"required", "unique", "temp_c", "device"} <= set(rules)
    actions = _complete(client, MAIN.replace("required temp_c else drop", "temp_c > 0.0 else |"))
    assert set(actions) == {"dead_letter", "drop", "fail", "warn"}


def test_source_and_sink_kinds_after_the_colon(client: LspClient) -> None:
    sources = _complete(client, MAIN + "\nsource more: |")
    assert {"http", "webhook", "file", "generate"} <= set(sources)
    sinks = _complete(client, MAIN + "\nsink out: |")
    assert {"stdout", "file", "http", "postgres", "s3"} <= set(sinks)


def test_config_keys_of_the_kind_with_descriptions(client: LspClient) -> None:
    items = _complete(client, MAIN.replace("  every: 5m\n", "  every: 5m\n  |\n"))
    assert {"headers", "auth", "pagination", "schema", "timeout"} <= set(items)
    assert "url" not in items  # already set
    assert "**timeout**" in items["timeout"]["documentation"]["value"]


def test_keys_of_a_nested_config_block(client: LspClient) -> None:
    items = _complete(client, MAIN.replace("  every: 5m\n", "  every: 5m\n  auth {\n    |\n  }\n"))
    assert {"bearer", "basic", "api_key"} <= set(items)


def test_names_after_from_and_sink(client: LspClient) -> None:
    sources = _complete(client, MAIN + "\npipeline more from |")
    assert {"sensors", "readings", "hot", "hourly"} <= set(sources)
    assert "alerts" not in sources
    sinks = _complete(client, _in_hot("sink |"))
    assert set(sinks) == {"alerts"}


def test_types_in_type_positions(client: LspClient) -> None:
    in_schema = _complete(
        client, MAIN.replace("    ts: timestamp\n", "    ts: timestamp\n    at: |\n")
    )
    assert {"int", "float", "str", "timestamp", "list", "Reading"} <= set(in_schema)
    in_fn = _complete(client, MAIN + "\nfn half(x: |")
    assert {"int", "float", "Reading"} <= set(in_fn)
    after_arrow = _complete(client, MAIN + "\npipeline typed from readings -> |")
    assert set(after_arrow) == {"Reading"}


def test_persist_settings_and_their_fields(client: LspClient) -> None:
    keys = _complete(client, MAIN.replace("{ time: ts, key: (device, ts) }", "{ time: ts, | }"))
    assert {"key", "retention", "chunk", "indexes"} <= set(keys)
    fields = _complete(client, MAIN.replace("{ time: ts, key: (device, ts) }", "{ time: | }"))
    assert {"ts", "device", "temp_c"} <= set(fields)


def test_struct_fields_after_a_dot(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("members")
    text = (
        'source s: webhook {\n  path: "/x"\n  token: env("T")\n  schema {\n'
        "    author: { login: str, id: int }\n  }\n}\n\n"
        "pipeline p from s {\n  map {\n    who = author.|\n  }\n}\n"
    )
    line, character = position_of(text, "|")
    with lsp_session(folder) as session:
        uri = session.open("m.flow", text.replace("|", ""))
        result = session.request("textDocument/completion", session.at(uri, line, character))
    assert {item["label"] for item in result["items"]} == {"login", "id"}


def test_nothing_inside_strings_and_comments(client: LspClient) -> None:
    assert _complete(client, MAIN.replace('"$.items"', '"$.it|ems"')) == {}
    assert _complete(client, MAIN + "\n// a comment |") == {}


def test_parameters_in_a_function_body(client: LspClient) -> None:
    items = _complete(client, MAIN + "\nfn half(x: float, label: str) -> float = |")
    assert items["x"]["detail"] == "float"
    assert "label" in items
    assert "round" in items


def test_targets_of_given_and_expect_in_a_test(client: LspClient) -> None:
    given = _complete(client, MAIN + '\ntest "t" {\n  given |\n}\n')
    assert {"sensors", "readings"} <= set(given)
    expect = _complete(client, MAIN + '\ntest "t" {\n  expect |\n}\n')
    assert "readings" in expect
    assert "sensors" not in expect


def test_dashboard_options_pipelines_and_fields(client: LspClient) -> None:
    board = MAIN + "\ndashboard board {\n  chart line { from: readings, y: | }\n}\n"
    assert {"temp_c", "device", "ts"} <= set(_complete(client, board))
    options = _complete(client, MAIN + "\ndashboard board {\n  table { | }\n}\n")
    assert {"from", "last", "fields"} <= set(options)
    pipelines = _complete(client, MAIN + "\ndashboard board {\n  table { from: | }\n}\n")
    assert {"readings", "hot"} <= set(pipelines)
