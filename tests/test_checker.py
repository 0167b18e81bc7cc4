"""The checker: types and nulls of fields after each step, and the errors it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.compiler.checker import CheckResult, check_path, check_text

SOURCE = """\
source api: http {
  url: "https://example.com"
  every: 5m
  schema {
    time: str
    temp: float?
    city: str
    count: int
    raw: json
    tags: list<str>
    place: { name: str, zip: str? }
  }
}
"""


def check(body: str) -> CheckResult:
    return check_text(SOURCE + body, "t.flow")


def codes(result: CheckResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def field_types(result: CheckResult, pipeline: str) -> dict[str, str]:
    return {n: str(f.type) for n, f in result.pipelines[pipeline].output.fields.items()}


@pytest.mark.parametrize(
    ("expr", "type_"),
    [
        ("count + 1", "int"),
        ("count / 2", "float"),
        ("temp * 2", "float?"),
        ("temp ?? 0.0", "float"),
        ("temp ?? count", "float"),
        ("float(raw)", "float?"),
        ('str(raw) ?? ""', "str"),
        ('parse_timestamp(time, "%Y")', "timestamp?"),
        ('parse_timestamp(time, "%Y") ?? now()', "timestamp"),
        ('city ++ "!"', "str"),
        ("temp > 1.0", "bool?"),
        ("temp == null", "bool"),
        ("if count > 1 then 1 else 2.5", "float"),
        ('match city { "a" => 1, _ => 2 }', "int"),
        ('match city { "a" => 1 }', "int?"),
        ("tags[0]", "str?"),
        ("place.name", "str"),
        ("place.zip", "str?"),
        ("raw.a.b", "json"),
        ("[1, 2.0]", "list<float>"),
        ("{ a: 1, b: city }", "{ a: int, b: str }"),
        ("now() - @2026-01-01T00:00:00Z", "duration"),
        ("now() + 5m", "timestamp"),
        ("count between 1 and 5", "bool"),
        ('city in ["a", "b"]', "bool"),
        ("lower(city)", "str"),
        ("coalesce(temp, 1.0)", "float"),
    ],
)
def test_expression_types(expr: str, type_: str) -> None:
    result = check(f"pipeline p from api {{\n  map {{ x = {expr} }}\n}}\n")
    assert field_types(result, "p")["x"] == type_
    assert "E2" not in "".join(codes(result))


def test_steps_shape_the_record() -> None:
    result = check(
        """
pipeline p from api {
  derive { temp_f = temp * 1.8 + 32.0 }
  drop raw, tags
  rename { city -> town }
  select town, temp_f, count, time
}
"""
    )
    assert field_types(result, "p") == {
        "town": "str",
        "temp_f": "float?",
        "count": "int",
        "time": "str",
    }


def test_map_sees_earlier_assignments() -> None:
    result = check("pipeline p from api {\n  map { a = count\n b = a * 2 }\n}\n")
    assert field_types(result, "p") == {"a": "int", "b": "int"}


@pytest.mark.parametrize(
    "step",
    [
        "validate { required temp }",
        "validate { temp between 0.0 and 1.0 else drop }",
        "where temp != null",
        "where temp > 0.0 and count > 1",
        "where is_not_null(temp)",
    ],
)
def test_rules_and_filters_remove_null(step: str) -> None:
    result = check(f"pipeline p from api {{\n  {step}\n}}\n")
    assert field_types(result, "p")["temp"] == "float"


def test_warn_rule_keeps_null() -> None:
    result = check("pipeline p from api {\n  validate { required temp else warn }\n}\n")
    assert field_types(result, "p")["temp"] == "float?"


def test_null_key_says_where_the_null_comes_from() -> None:
    result = check(
        """
pipeline p from api {
  map {
    ts = parse_timestamp(time, "%Y")
    city = city
  }
  persist timescale t { time: ts, key: (city, ts) }
}
"""
    )
    nulls = [d for d in result.diagnostics if d.code == "E202"]
    assert len(nulls) == 2
    first = nulls[0]
    assert first.message == "the time column `ts` may be null"
    assert first.secondary[0].span.line == 17
    assert "parse_timestamp" in first.secondary[0].message
    assert "??" in (first.help or "")
    assert "required ts" in (first.help or "")


def test_persist_time_must_be_a_timestamp() -> None:
    result = check("pipeline p from api {\n  persist timescale t { time: city }\n}\n")
    assert codes(result) == ["E305"]


def test_persist_settings_are_checked() -> None:
    result = check(
        "pipeline p from api {\n  map { ts = now() }\n"
        "  persist timescale t { time: ts, retension: 7d, chunk: 5 }\n}\n"
    )
    assert codes(result) == ["E302", "E303"]
    assert result.diagnostics[0].help == "did you mean `retention`?"


def test_persist_records_its_settings() -> None:
    result = check(
        "pipeline p from api {\n  map { ts = now(), city = city }\n"
        "  persist timescale t { time: ts, key: (city, ts), chunk: 7d, batch: 500 }\n}\n"
    )
    persist = result.pipelines["p"].persist
    assert persist is not None
    assert (persist.table, persist.time, persist.key, persist.batch) == (
        "t",
        "ts",
        ("city", "ts"),
        500,
    )
    assert persist.chunk.days == 7


def test_aggregate_output_and_rules() -> None:
    result = check(
        """
pipeline p from api {
  map { ts = now(), city = city, temp = temp ?? 0.0 }
}
pipeline hourly from p {
  aggregate every 1h by city {
    avg = mean(temp)
    n = count()
    bad = temp
  }
}
pipeline q from api {
  map { m = max(count) }
}
"""
    )
    assert field_types(result, "hourly") == {
        "bucket": "timestamp",
        "city": "str",
        "avg": "float",
        "n": "int",
        "bad": "float",
    }
    assert codes(result) == ["E207", "E206"]


def test_output_type_must_match() -> None:
    result = check(
        """
type Out { city: str, n: int }
pipeline p from api -> Out {
  map { city = city, n = temp }
}
"""
    )
    assert codes(result) == ["E208"]
    assert "`n` is float?" in result.diagnostics[0].primary.message


def test_user_functions_are_checked_and_inlined() -> None:
    result = check(
        """
fn f_to_c(f: float) -> float = (f - 32.0) * 5.0 / 9.0
fn loop(x: int) -> int = loop(x)
pipeline p from api {
  map { c = f_to_c(temp), d = f_to_c(city) }
}
"""
    )
    assert field_types(result, "p")["c"] == "float?"
    assert codes(result) == ["W501", "E114", "E204"]  # `loop` is also unused


def test_constants() -> None:
    result = check(
        "const A = 2\nconst B = A * 3\nconst C = D\nconst D = C\nconst E = now()\n"
        "pipeline p from api {\n  map { x = B }\n}\n"
    )
    assert field_types(result, "p") == {"x": "int"}
    assert codes(result) == ["E114", "W501", "E209"]  # `E` is also unused


def test_open_records_read_json() -> None:
    result = check_text(
        'source hook: webhook { path: "/h", token: env("T") }\n'
        "pipeline p from hook {\n  map { id = int(payload.id) ?? 0 }\n}\n"
    )
    assert result.ok
    assert field_types(result, "p") == {"id": "int"}


def test_json_needs_conversion() -> None:
    result = check("pipeline p from api {\n  map { x = raw + 1 }\n}\n")
    assert codes(result) == ["E210"]
    assert "float(x)" in (result.diagnostics[0].help or "")


def test_one_mistake_gives_one_error() -> None:
    result = check(
        "pipeline p from api {\n  map { ts = parse_timestamp(tme) ?? now(), k = cty }\n"
        "  persist timescale t { time: ts, key: k }\n}\n"
    )
    assert codes(result) == ["E104", "E104"]


def test_pipeline_cycle() -> None:
    result = check("pipeline a from b {}\npipeline b from a {}\n")
    assert codes(result) == ["W501", "E108"]  # the source is unused, and the cycle


def test_unknown_kinds_and_sinks() -> None:
    result = check('sink s: kafka { topic: "x" }\npipeline p from api {\n  sink s, nope\n}\n')
    assert codes(result) == ["E301", "E106"]


def test_generate_source_schema_comes_from_its_fields() -> None:
    result = check_text(
        "source g: generate {\n  rate: 10\n  fields {\n"
        "    n: { sequence: 1 }\n    ts: { now: true }\n  }\n}\n"
        "pipeline p from g {\n  where n > 0\n}\n"
    )
    assert result.ok, [d.message for d in result.diagnostics]
    assert field_types(result, "p") == {"n": "int", "ts": "timestamp"}


def test_dashboards_refer_to_pipelines_and_fields() -> None:
    result = check(
        """
pipeline p from api {
  map { ts = now(), temp = temp ?? 0.0 }
}
dashboard d {
  title: "T"
  colour: "red"
  chart line { from: p, x: ts, y: tmp }
  table { from: q, last: 5 }
}
"""
    )
    assert codes(result) == ["E112", "E104", "E105"]


def test_tests_refer_to_sources_and_pipelines() -> None:
    result = check(
        "pipeline p from api {\n  select city\n}\n"
        'test "t" {\n  given api [{ city: "a", cty: "b" }]\n  expect nope [{ city: "a" }]\n}\n'
    )
    assert codes(result) == ["E104", "E113"]


def test_imports_make_declarations_visible(tmp_path: Path) -> None:
    (tmp_path / "common.flow").write_text("const K = 3\nfn twice(x: int) -> int = x * 2\n")
    generate = "source g: generate {\n  rate: 1\n  fields { n: { sequence: 1 } }\n}\n"
    (tmp_path / "main.flow").write_text(
        f'import "common.flow"\n{generate}pipeline p from g {{\n  map {{ m = twice(n) + K }}\n}}\n'
    )
    (tmp_path / "other.flow").write_text(
        f'import "nowhere.flow"\n{generate}pipeline p from g {{\n  map {{ m = n + K }}\n}}\n'
    )
    good = check_path(tmp_path / "main.flow")
    assert good.ok, [d.message for d in good.diagnostics]
    bad = check_path(tmp_path / "other.flow")
    assert codes(bad) == ["E111", "E104"]


def test_webhook_without_authentication_warns() -> None:
    result = check_text('source h: webhook { path: "/h" }\npipeline p from h {}\n')
    assert codes(result) == ["W503"]
    assert result.ok


def test_broken_syntax_and_type_errors_in_one_run() -> None:
    result = check(
        "pipeline p from api {\n  map { a = }\n}\npipeline q from api {\n  map { b = nope }\n}\n"
    )
    assert codes(result) == ["E001", "E104"]


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        # A declaration that does not parse is not reported again where it is used,
        # and nothing is called unused while part of the file is unreadable.
        (
            "source s: generate {\n  rate: 1\n  fields { n: { sequence: 1 } }\n"
            "pipeline a from s {\n  where n > 0\n}\n",
            ["E001"],
        ),
        (
            "source s: generate {\n  rate: 1\n  fields { n: { sequence: 1 } }\n}\n"
            'pipeline a from s {\n  where n = "x"\n}\n',
            ["E001"],
        ),
        # An unknown name inside a function or a typed constant is one error.
        ("fn f(c: float) -> float = celsius * 2.0\n", ["W501", "E101"]),  # a library file
        ("const X: int = Y\npipeline p from api {\n  map { x = X }\n}\n", ["E101"]),
        # Fields of an unknown upstream, or of a pipeline in a cycle, are not errors again.
        (
            "pipeline p from nope {\n  aggregate every 1h by s {\n    m = mean(t)\n  }\n}\n",
            ["W501", "E105"],
        ),
        (
            "pipeline a from b {\n  where t > 1.0\n}\npipeline b from a {\n  where t > 1.0\n}\n",
            ["W501", "E108"],
        ),
        # A misspelt sink makes the sink it meant count as used.
        (
            "sink alerts: stdout {}\npipeline p from api {\n  sink alert\n}\n",
            ["E106"],
        ),
        # `!= null` is a null test, allowed on raw json.
        (
            'source h: webhook { path: "/h", token: env("T") }\n'
            "pipeline p from h {\n  where payload != null\n}\n"
            "pipeline q from api {\n  select city\n}\n",
            [],
        ),
        # Two persist steps contradict each other.
        (
            "pipeline p from api {\n  map { ts = now() }\n  persist off\n"
            "  persist timescale t { time: ts }\n}\n",
            ["E303"],
        ),
    ],
)
def test_one_mistake_one_diagnostic(program: str, expected: list[str]) -> None:
    assert codes(check(program)) == expected


def test_missing_import_explains_unknown_names(tmp_path: Path) -> None:
    (tmp_path / "a.flow").write_text(
        'import "gone.flow"\nsource g: generate {\n  rate: 1\n  fields { n: { sequence: 1 } }\n}\n'
        "pipeline p from g {\n  where n > LIMIT\n}\n"
    )
    result = check_path(tmp_path / "a.flow")
    assert codes(result) == ["E111", "E104"]
    assert "import of this file was not found" in result.diagnostics[1].notes[0]


def test_rename_conflicts_point_at_the_target() -> None:
    result = check("pipeline p from api {\n  rename { temp -> city }\n}\n")
    [duplicate] = result.diagnostics
    assert duplicate.code == "E109"
    assert (duplicate.span.line, duplicate.span.column) == (15, 20)
    assert duplicate.secondary[0].span.line == 7  # the existing `city` in the schema


def test_mutual_recursion_is_reported_once() -> None:
    result = check(
        "fn g(x: int) -> int = h(x)\nfn h(x: int) -> int = g(x)\n"
        "pipeline p from api {\n  map { a = g(count) }\n}\n"
    )
    assert codes(result) == ["E114"]
    assert result.diagnostics[0].message == "functions call each other: g -> h -> g"
