"""Connector configuration: the models, `validate_config`'s issues, and the generated docs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from flowc.dsl import ast
from flowc.dsl.parser import parse
from flowc.stdlib.connectors import (
    SINKS,
    SOURCES,
    ConfigIssue,
    Connector,
    EnvRef,
    GenerateSource,
    HttpSource,
    generated_schema,
    validate_config,
)
from flowc.stdlib.connectors.base import annotation_members, declare_sink, declare_source
from flowc.stdlib.connectors.docgen import example_flow, render_connectors_markdown
from flowc.stdlib.connectors.stdout import StdoutSink

DOCS = Path(__file__).resolve().parent.parent / "docs" / "connectors.md"
ALL = [*SOURCES.values(), *SINKS.values()]
EXAMPLES = [(c, e) for c in ALL for e in c.examples]
MIN = dt.timedelta(minutes=1)


def connector(ref: str) -> Connector:
    role, kind = ref.split(":")
    return (SOURCES if role == "source" else SINKS)[kind]


def check(ref: str, values: dict[str, Any]) -> tuple[BaseModel | None, list[ConfigIssue]]:
    return validate_config(connector(ref), values)


def test_the_registry_holds_every_kind() -> None:
    assert sorted(SOURCES) == ["file", "generate", "http", "webhook"]
    assert sorted(SINKS) == ["file", "http", "postgres", "s3", "stdout"]
    assert [c.kind for c in SOURCES.values() if not c.accepts_schema] == ["generate"]


def test_declaring_a_kind_twice_raises() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        declare_sink("stdout", StdoutSink)
    with pytest.raises(ValueError, match="declared twice"):
        declare_source("http", HttpSource, accepts_schema=True)


# ---- valid configurations ---------------------------------------------------------------

VALID: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # (connector, values, attributes expected on the model)
    ("source:file", {"path": "a.jsonl"}, {"format": "jsonl", "every": None}),
    ("source:file", {"path": "d/*.CSV", "header": False}, {"format": "csv", "header": False}),
    ("source:file", {"path": "x", "format": "parquet", "every": MIN}, {"every": MIN}),
    ("source:http", {"url": "https://a.io", "every": MIN}, {"effective_method": "GET"}),
    (
        "source:http",
        {"url": "https://a.io", "cron": "0 * * * *", "body": {"q": [1, None]}},
        {"effective_method": "POST"},
    ),
    (
        "source:http",
        {"url": "http://a.io", "every": MIN, "method": "post", "retry": 7},
        {"method": "POST", "retry.attempts": 7, "retry.backoff": dt.timedelta(seconds=1)},
    ),
    (
        "source:http",
        {
            "url": "https://a.io/graphql",
            "every": MIN,
            "graphql": {"query": "{ a }", "variables": {"first": 100}},
            "auth": {"basic": {"user": EnvRef("U"), "password": EnvRef("P")}},
            "pagination": {"kind": "offset", "param": "o", "limit_param": "l", "limit": 50},
            "cursor": {
                "field": "ts",
                "param": "since",
                "initial": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            },
            "headers": {"X-Api-Key": EnvRef("K"), "Accept": "text/csv"},
            "params": {"page_size": 10, "api_key": EnvRef("K"), "pageToken": "x"},
        },
        {
            "effective_method": "POST",
            "pagination.limit": 50,
            "cursor.initial": "2026-01-01T00:00:00Z",
        },
    ),
    ("source:http", {"url": "https://a.io", "every": MIN, "pagination": {"kind": "link"}}, {}),
    ("source:webhook", {"path": "/h"}, {"is_authenticated": False, "max_body": 1_048_576}),
    (
        "source:webhook",
        {"path": "/h", "secret": EnvRef("S"), "signature_header": "X-Sig", "signature_prefix": ""},
        {"is_authenticated": True, "signature_header": "X-Sig"},
    ),
    ("source:generate", {"rate": 2.5, "fields": {"a": {"now": True}}}, {"batch_size": 3}),
    ("source:generate", {"count": 5, "fields": {"a": {"sequence": 0}}}, {"batch_size": 1000}),
    (
        "source:generate",
        {"every": MIN, "fields": {"a": {"constant": 1}}},
        {"batch_size": 1, "interval": MIN},
    ),
    ("sink:stdout", {}, {"format": "jsonl"}),
    ("sink:file", {"path": "out.csv"}, {"format": "csv", "rotate": None}),
    ("sink:file", {"path": "o-{time}.pq", "rotate": MIN}, {"format": "parquet"}),
    ("sink:http", {"url": "https://h.io/x"}, {"batch": 100, "retry.attempts": 5}),
    ("sink:http", {"url": EnvRef("HOOK"), "retry": {"backoff": MIN}}, {"retry.attempts": 5}),
    ("sink:postgres", {"url": EnvRef("DSN"), "table": "t"}, {"key": None, "batch": 1000}),
    ("sink:s3", {"bucket": "my-bucket"}, {"prefix": "", "flush_rows": 100_000}),
]


@pytest.mark.parametrize(("ref", "values", "expected"), VALID)
def test_valid_configs(ref: str, values: dict[str, Any], expected: dict[str, Any]) -> None:
    model, issues = check(ref, values)
    assert issues == []
    assert model is not None
    for dotted, value in expected.items():
        target: Any = model
        for part in dotted.split("."):
            target = getattr(target, part)
        assert (target() if callable(target) else target) == value, dotted


@pytest.mark.parametrize(("c", "example"), EXAMPLES, ids=lambda x: getattr(x, "name", None))
def test_examples_are_valid_and_survive_a_json_round_trip(c: Connector, example: Any) -> None:
    model, issues = validate_config(c, example.values)
    assert issues == []
    assert model is not None
    # The compiler writes configs to the manifest as JSON; the runtime reads them back.
    assert type(model).model_validate_json(model.model_dump_json()) == model


def _python_value(expr: ast.Expr) -> Any:
    """The front end's conversion of a config value, reduced to what the examples use."""
    if isinstance(expr, ast.Literal):
        if expr.kind == "duration":
            assert isinstance(expr.value, int)
            return dt.timedelta(microseconds=expr.value)
        return expr.value
    if isinstance(expr, ast.Call) and expr.func.name == "env":
        (arg,) = expr.args
        return EnvRef(_python_value(arg))
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.ListExpr):
        return [_python_value(item) for item in expr.items]
    if isinstance(expr, ast.RecordExpr):
        return {f.name.name: _python_value(f.value) for f in expr.fields}
    raise AssertionError(f"unexpected expression {expr!r}")


# `table` is a keyword of the grammar (dashboards), so `table: "t"` does not parse yet.
FLOW_EXAMPLES = [pytest.param(c, e, id=e.name) for c, e in EXAMPLES]


@pytest.mark.parametrize(("c", "example"), FLOW_EXAMPLES)
def test_examples_are_flow_that_means_their_values(c: Connector, example: Any) -> None:
    result = parse(example_flow(c, example))
    assert result.diagnostics == ()
    (decl,) = result.module.decls
    assert isinstance(decl, ast.Source | ast.Sink)
    values = {e.key.name: _python_value(e.value) for e in decl.config.entries}
    assert values == example.values
    assert (decl.config.schema is not None) == (example.schema is not None)


# ---- issues -----------------------------------------------------------------------------

HTTP = {"url": "https://a.io", "every": MIN}
Q = 'use env("NAME") and set NAME in the environment'


@dataclass(frozen=True)
class Case:
    """`values` given to `ref` must give an issue `code` at `path` whose message contains
    `message` and whose help contains `help` (None: no help beyond the code's generic one)."""

    ref: str
    values: dict[str, Any]
    code: str
    path: tuple[str | int, ...]
    message: str
    help: str | None = None


# fmt: off
ISSUES = [
    # E302: unknown keys, with a suggestion among the keys at that level
    Case("source:http", {**HTTP, "heders": {}}, "E302", ("heders",),
         "unknown key `heders`", "did you mean `headers`?"),
    Case("source:http", {**HTTP, "interval": MIN}, "E302", ("interval",),
         "unknown key `interval`", "did you mean `every`?"),
    Case("source:http", {**HTTP, "retry": {"atempts": 2}}, "E302", ("retry", "atempts"),
         "unknown key `atempts` in `retry`", "did you mean `attempts`?"),
    Case("source:http",
         {**HTTP, "pagination": {"kind": "cursor", "param": "a", "next": "$.n", "has_mor": "$"}},
         "E302", ("pagination", "has_mor"), "unknown key `has_mor` in `pagination`",
         "did you mean `has_more`?"),
    Case("source:http", {**HTTP, "auth": {"token": EnvRef("T")}}, "E302", ("auth", "token"),
         "unknown key `token` in `auth`", "did you mean `bearer`?"),
    Case("source:generate", {"count": 1, "fields": {"a": {"normal": {"mean": 1.0, "sd": 1.0}}}},
         "E302", ("fields", "a", "normal", "sd"), "unknown key `sd` in `fields.a.normal`",
         "did you mean `std`?"),
    Case("sink:stdout", {"zzz": 1}, "E302", ("zzz",), "unknown key `zzz`",
         "the keys here are `format`"),
    # E303: wrong values, said in Flow's terms
    Case("source:http", {**HTTP, "every": "5m"}, "E303", ("every",),
         'invalid value for `every`: expected a duration such as 5m, found a string "5m"',
         "write durations without quotes: `5m`"),
    Case("source:http", {**HTTP, "timeout": 30}, "E303", ("timeout",),
         "expected a duration such as 5m, found the number 30"),
    Case("source:http", {**HTTP, "timeout": dt.timedelta(0)}, "E303", ("timeout",),
         "expected a duration longer than zero, found the duration 0s"),
    Case("source:http", {**HTTP, "method": "PUT"}, "E303", ("method",),
         'expected one of `GET`, `POST`, found a string "PUT"'),
    Case("source:http", {**HTTP, "method": "gte"}, "E303", ("method",),
         'found a string "GTE"', "did you mean `GET`?"),
    Case("source:http", {**HTTP, "url": "example.com"}, "E303", ("url",),
         "expected a URL starting with http:// or https://"),
    Case("source:http", {**HTTP, "url": EnvRef("URL")}, "E303", ("url",),
         'expected a string, found `env("URL")`', "is not read from the environment"),
    Case("source:http", {**HTTP, "headers": {"Accept": 3}}, "E303", ("headers", "Accept"),
         'expected a string or env("NAME"), found the number 3'),
    Case("source:http", {**HTTP, "headers": {"Accept": {"name": "X"}}}, "E303",
         ("headers", "Accept"), "found a record"),
    Case("source:http", {**HTTP, "params": {"q": None}}, "E303", ("params", "q"),
         'expected a string, a number, `true`/`false` or env("NAME"), found `null`'),
    Case("source:http", {**HTTP, "retry": {"attempts": "3"}}, "E303", ("retry", "attempts"),
         'expected an integer, found a string "3"', "write numbers without quotes: `3`"),
    Case("source:http", {**HTTP, "retry": True}, "E303", ("retry",),
         "expected a number of attempts such as 3, or a block"),
    Case("source:http", {**HTTP, "retry": {"attempts": 0}}, "E303", ("retry", "attempts"),
         "expected a number of at least 1, found the number 0"),
    Case("source:http",
         {**HTTP, "retry": {"backoff": MIN, "max_backoff": dt.timedelta(seconds=1)}},
         "E303", ("retry", "max_backoff"), "is shorter than `backoff`"),
    Case("source:http", {**HTTP, "retry": {"backoff": "x"}}, "E303", ("retry", "backoff"),
         "expected a duration"),
    Case("source:http", {**HTTP, "records": "data.items"}, "E303", ("records",),
         "expected a JSONPath starting with `$`"),
    Case("source:http", {"url": "https://a.io", "cron": "* * * *"}, "E303", ("cron",),
         "expected a cron schedule with 5 fields"),
    Case("source:http", {**HTTP, "cron": "* * * * *"}, "E303", ("cron",),
         "`every` and `cron` cannot both be set"),
    Case("source:http", {**HTTP, "method": "GET", "body": {}}, "E303", ("method",),
         "a GET request cannot carry a `body`"),
    Case("source:http", {**HTTP, "body": {"a": MIN}}, "E303", ("body", "a"),
         "expected a JSON value"),
    Case("source:http", {**HTTP, "max_pages": 3}, "E303", ("max_pages",),
         "`max_pages` only applies with `pagination`"),
    Case("source:http", {**HTTP, "pagination": {"kind": "pages", "param": "p"}}, "E303",
         ("pagination", "kind"),
         'expected one of `page`, `offset`, `cursor`, `link`, found a string "pages"',
         "did you mean `page`?"),
    Case("source:http",
         {**HTTP, "auth": {"bearer": EnvRef("T"), "basic": {"user": "u", "password": EnvRef("P")}}},
         "E303", ("auth", "basic"), "choose one way"),
    Case("source:http", {**HTTP, "auth": {"bearer": EnvRef("my token")}}, "E303",
         ("auth", "bearer"), 'found `env("my token")`'),
    Case("source:http", {**HTTP, "auth": {"bearer": 5}}, "E303", ("auth", "bearer"),
         'expected env("NAME"), found the number 5'),
    Case("source:http", {**HTTP, "auth": {"bearer": {"name": "T"}}}, "E303", ("auth", "bearer"),
         'expected env("NAME"), found a record'),
    Case("source:file", {"path": "a.csv", "records": "$.x"}, "E303", ("records",),
         "`records` only applies to json and jsonl"),
    Case("source:file", {"path": "a.csv", "delimiter": ";;"}, "E303", ("delimiter",),
         "expected a single character"),
    Case("source:file", {"path": "a.csv", "header": "no"}, "E303", ("header",),
         'expected `true` or `false`, found a string "no"',
         "write `true` or `false` without quotes"),
    Case("source:file", {"path": ""}, "E303", ("path",), "expected a non-empty string"),
    Case("source:webhook", {"path": "hooks"}, "E303", ("path",),
         'expected a path starting with "/"'),
    Case("source:webhook", {"path": "/h", "secret": EnvRef("S"), "token": EnvRef("T")}, "E303",
         ("token",), "`secret` and `token` cannot both be set"),
    Case("source:webhook", {"path": "/h", "signature_header": "X"}, "E303",
         ("signature_header",), "only applies with `secret`"),
    Case("source:generate", {"count": 1, "fields": {}}, "E303", ("fields",),
         "expected a record with at least 1 entry, found a record"),
    Case("source:generate",
         {"count": 1, "rate": 1.0, "every": MIN, "fields": {"a": {"now": True}}},
         "E303", ("every",), "`rate` and `every` cannot both be set"),
    Case("source:generate", {"count": 1, "fields": {"a": {"now": True, "sequence": 1}}},
         "E303", ("fields", "a", "now"), "a field has one generator, found `sequence` and `now`"),
    Case("source:generate", {"count": 1, "fields": {"a": {"now": False}}}, "E303",
         ("fields", "a", "now"), "expected `true`, found `false`"),
    Case("source:generate", {"count": 1, "fields": {"a": {"constant": None}}}, "E303",
         ("fields", "a", "constant"), "a constant cannot be null", "use `null_rate: 1.0`"),
    Case("source:generate", {"count": 1, "fields": {"a": {"choice": ["x", 1]}}}, "E303",
         ("fields", "a", "choice"), "must all have one type, found int and str"),
    Case("source:generate", {"count": 1, "fields": {"a": {"choice": ["x", []]}}}, "E303",
         ("fields", "a", "choice", 1), "found a list"),
    Case("source:generate", {"count": 1, "fields": {"a": {"choice": [1], "weights": [1, 2]}}},
         "E303", ("fields", "a", "weights"), "`weights` has 2 values for 1 choices"),
    Case("source:generate",
         {"count": 1, "fields": {"a": {"uniform": {"min": 2.0, "max": 1.0}}}},
         "E303", ("fields", "a", "uniform", "max"), "`max` must be greater than `min`"),
    Case("source:generate", {"count": 1, "fields": {"a": {"sequence": 1, "null_rate": 2}}},
         "E303", ("fields", "a", "null_rate"), "expected a number of at most 1"),
    Case("source:generate", {"count": 1, "fields": {"a b": {"sequence": 1}}}, "E303",
         ("fields", "a b"), "cannot be a field name"),
    Case("sink:file", {"path": "o.jsonl", "rotate": MIN}, "E303", ("path",),
         "the path needs `{time}`"),
    Case("sink:http", {"url": 5}, "E303", ("url",), 'expected a string or env("NAME")'),
    Case("sink:postgres", {"url": EnvRef("D"), "table": "a b"}, "E303", ("table",),
         "expected a table name"),
    Case("sink:postgres", {"url": EnvRef("D"), "table": "t", "key": ["a", "a"]}, "E303",
         ("key", 1), "column `a` is listed twice"),
    Case("sink:postgres", {"url": EnvRef("D"), "table": "t", "key": []}, "E303", ("key",),
         "expected a list with at least 1 item, found a list"),
    Case("sink:s3", {"bucket": "B"}, "E303", ("bucket",), "expected a bucket name"),
    Case("sink:s3", {"bucket": "bkt", "prefix": "/raw"}, "E303", ("prefix",),
         'without a leading "/"'),
    Case("sink:stdout", {"format": "json"}, "E303", ("format",),
         'expected one of `jsonl`, `table`, found a string "json"', "did you mean `jsonl`?"),
    # E304: missing keys; the path ends with the key to add to the block
    Case("source:http", {"every": MIN}, "E304", ("url",), "missing key `url`",
         "`url`: the endpoint"),
    Case("source:http", {"url": "https://a.io"}, "E304", ("every",), "missing `every` or `cron`",
         'add `every: 5m` or `cron: "0 * * * *"`'),
    Case("source:http", {**HTTP, "pagination": {"param": "p"}}, "E304", ("pagination", "kind"),
         "missing key `kind` in `pagination`",
         "`kind`: one of `page`, `offset`, `cursor`, `link`"),
    Case("source:http", {**HTTP, "pagination": {"kind": "cursor", "param": "a"}}, "E304",
         ("pagination", "next"), "missing key `next` in `pagination`",
         "`next`: where the next cursor"),
    Case("source:http", {**HTTP, "auth": {}}, "E304", ("auth", "bearer"),
         "missing `bearer`, `basic` or `api_key`"),
    Case("source:http", {**HTTP, "auth": {"api_key": {"value": EnvRef("K")}}}, "E304",
         ("auth", "api_key", "header"), "missing `header` or `query`",
         'for example `header: "X-Api-Key"`'),
    Case("source:file", {"path": "data/*"}, "E304", ("format",), "missing key `format`",
         "`format`: `jsonl`"),
    Case("source:generate", {"fields": {"a": {"now": True}}}, "E304", ("count",), "missing `count`",
         "add `every: 1s`"),
    Case("source:generate", {"count": 1, "fields": {"a": {"null_rate": 0.5}}}, "E304",
         ("fields", "a", "sequence"), "missing a generator", "for example"),
    Case("sink:file", {"path": "o-{time}.parquet"}, "E304", ("rotate",), "missing `rotate`",
         "for example `rotate: 1h`"),
    Case("sink:s3", {"bucket": "bkt", "access_key_id": EnvRef("K")}, "E304", ("secret_access_key",),
         "missing `secret_access_key`"),
    # E306: secrets written in the file
    Case("source:http", {**HTTP, "auth": {"bearer": "abc"}}, "E306", ("auth", "bearer"),
         "`auth.bearer` is a secret, written in the file", Q),
    Case("source:http", {**HTTP, "headers": {"Authorization": "Bearer abc"}}, "E306",
         ("headers", "Authorization"), "`Authorization` holds a credential", Q),
    Case("source:http", {**HTTP, "params": {"api_key": "abc"}}, "E306", ("params", "api_key"),
         "`api_key` holds a credential", Q),
    Case("source:http", {**HTTP, "url": "https://u:pw@a.io"}, "E306", ("url",),
         "a password is written in the URL", 'write the URL as env("NAME")'),
    Case("sink:postgres", {"url": "postgresql://u:pw@db/x", "table": "t"}, "E306", ("url",),
         "`url` is a secret, written in the file", Q),
]
# fmt: on


@pytest.mark.parametrize("case", ISSUES, ids=lambda c: f"{c.code}-{c.ref}-{c.path}")
def test_issues(case: Case) -> None:
    model, issues = check(case.ref, case.values)
    assert model is None
    matching = [i for i in issues if (i.code, i.path) == (case.code, case.path)]
    assert len(matching) == 1, issues
    (issue,) = matching
    assert case.message in issue.message
    if case.help is None:
        assert issue.help is None
    else:
        assert issue.help is not None
        assert case.help in issue.help


SECRET_FIELDS = [
    (
        "source:http",
        {**HTTP, "auth": {"basic": {"user": "u", "password": "pw"}}},
        ("auth", "basic", "password"),
    ),
    (
        "source:http",
        {**HTTP, "auth": {"api_key": {"query": "k", "value": "pw"}}},
        ("auth", "api_key", "value"),
    ),
    ("source:webhook", {"path": "/h", "secret": "s3cr3t"}, ("secret",)),
    ("source:webhook", {"path": "/h", "token": "t0k3n"}, ("token",)),
    (
        "sink:s3",
        {"bucket": "bkt", "access_key_id": "A", "secret_access_key": EnvRef("S")},
        ("access_key_id",),
    ),
    (
        "sink:s3",
        {"bucket": "bkt", "access_key_id": EnvRef("A"), "secret_access_key": "S"},
        ("secret_access_key",),
    ),
    (
        "sink:http",
        {"url": "https://h.io", "headers": {"X-Auth-Token": "t"}},
        ("headers", "X-Auth-Token"),
    ),
]


@pytest.mark.parametrize(("ref", "values", "path"), SECRET_FIELDS)
def test_every_secret_must_come_from_the_environment(
    ref: str, values: dict[str, Any], path: tuple[str, ...]
) -> None:
    _, issues = check(ref, values)
    assert [(i.code, i.path) for i in issues] == [("E306", path)]
    assert issues[0].help == 'use env("NAME") and set NAME in the environment'


def test_several_issues_are_reported_together() -> None:
    _, issues = check("source:http", {"url": 1, "evry": MIN, "timeout": "1s"})
    assert [(i.code, i.path) for i in issues] == [
        ("E303", ("url",)),
        ("E303", ("timeout",)),
        ("E302", ("evry",)),
    ]


# Values of every kind the front end can hand over, for the sweep below.
ODD_VALUES: list[Any] = [
    "text", "", 0, -1, 2.5, True, None, [], [1, "a"], {}, {"x": 1}, {"kind": "page"},
    MIN, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), EnvRef("X"), EnvRef("1"),
]  # fmt: skip
JARGON = ("Input should", "valid dictionary", "instance of", "Field required", "Extra inputs",
          "pydantic", "function-", "[type=")  # fmt: skip


def _paths(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for key, value in values.items():
        found.append((*prefix, key))
        if isinstance(value, dict):
            found += _paths(value, (*prefix, key))
    return found


def _replace(values: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    head, *rest = path
    copy = dict(values)
    copy[head] = _replace(copy[head], tuple(rest), new) if rest else new
    return copy


@pytest.mark.parametrize(("c", "example"), EXAMPLES, ids=lambda x: getattr(x, "name", None))
def test_any_value_anywhere_gives_issues_in_flow_terms(c: Connector, example: Any) -> None:
    for path in _paths(example.values):
        for odd in ODD_VALUES:
            model, issues = validate_config(c, _replace(example.values, path, odd))
            assert (model is None) == bool(issues)
            for issue in issues:
                assert issue.code in ("E302", "E303", "E304", "E306")
                assert not any(word in issue.message for word in JARGON), issue
                assert issue.message


def test_a_block_that_is_not_a_record_is_an_issue() -> None:
    _, issues = validate_config(connector("sink:stdout"), "jsonl")  # type: ignore[arg-type]
    assert [(i.code, i.path) for i in issues] == [("E303", ())]


# ---- generate: the schema follows from the field specs ------------------------------------

SCHEMAS: list[tuple[dict[str, Any], str]] = [
    ({"sequence": 1}, "int"),
    ({"int_range": {"min": 0, "max": 9}}, "int"),
    ({"uniform": {"min": 0, "max": 1}}, "float"),
    ({"normal": {"mean": 0.0, "std": 1.0}}, "float"),
    ({"now": True}, "timestamp"),
    ({"choice": ["a", "b"]}, "str"),
    ({"choice": [1, 2]}, "int"),
    ({"choice": [1, 2.5]}, "float"),
    ({"choice": [True, False]}, "bool"),
    ({"constant": "EUR"}, "str"),
    ({"constant": 1.5}, "float"),
    ({"constant": False}, "bool"),
    ({"sequence": 1, "null_rate": 0.1}, "int?"),
    ({"now": True, "null_rate": 0.0}, "timestamp"),
    ({"choice": ["a"], "weights": [1.0], "null_rate": 1.0}, "str?"),
]


@pytest.mark.parametrize(("spec", "flow_type"), SCHEMAS)
def test_generated_schema(spec: dict[str, Any], flow_type: str) -> None:
    model, issues = check("source:generate", {"count": 1, "fields": {"f": spec}})
    assert issues == []
    assert isinstance(model, GenerateSource)
    assert generated_schema(model) == {"f": flow_type}


# ---- secrets and docs -----------------------------------------------------------------------


def test_env_ref() -> None:
    ref = EnvRef("TOKEN")
    assert ref == EnvRef.model_validate({"name": "TOKEN"})
    assert str(ref) == 'env("TOKEN")'
    assert hash(ref) == hash(EnvRef("TOKEN"))
    assert {ref: 1}[EnvRef("TOKEN")] == 1


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for info in model.model_fields.values():
        for member in annotation_members(info.annotation):
            for inner in [member, *getattr(member, "__args__", ())]:
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not EnvRef:
                    found += _models(inner)
    return found


@pytest.mark.parametrize("c", ALL, ids=lambda c: f"{c.role}:{c.kind}")
def test_every_key_is_described(c: Connector) -> None:
    assert c.doc
    assert c.examples, "each kind shows at least one example"
    for model in _models(c.model):
        assert model.model_config.get("extra") == "forbid", model
        assert model.model_config.get("frozen"), model
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_docs_are_up_to_date() -> None:
    expected = render_connectors_markdown()
    assert DOCS.read_text(encoding="utf-8") == expected, (
        "docs/connectors.md is stale: run "
        "`python -m flowc.stdlib.connectors.docgen docs/connectors.md`"
    )


def test_docs_mention_every_key() -> None:
    text = render_connectors_markdown()
    for c in ALL:
        for model in _models(c.model):
            for name in model.model_fields:
                assert f"| `{name}` |" in text
