"""`parse` never raises: any text gives a ParseResult whose diagnostics point into the text.

The inputs are random text, token soup, and valid programs broken by small edits (the
kind of text an editor holds while the user types), since those reach the recovery paths
that fully random text rarely gets past the first token of.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc.dsl import ast
from flowc.dsl.fmt import format_module
from flowc.dsl.parser import ParseResult, parse
from tests.strategies import FILE, KEYWORDS, modules

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PROGRAM = """\
// a sample with most constructs, to break in small ways
import "other.flow"

const CITY = "Berlin"
const LIMIT: int? = 5

fn c_to_f(c: float) -> float = c * 9.0 / 5.0 + 32.0

type Reading {
  city: str
  tags: list<str>
  where_: { lat: float, lon: float }?
}

source api: http {
  url: "https://example.com/v1?q=1"
  params: { latitude: "52.52", longitude: "13.41" }
  every: 5m
  schema {
    time: str
    temperature: float
  }
}

sink alerts: http {
  url: env("HOOK")
  retry: 5
}

pipeline weather from api -> Reading {
  map {
    ts   = parse_timestamp(time, "%Y") ?? now()
    city = CITY
    t    = if temperature > 30.0 then "hot" else "ok"
    kind = match city { "Berlin" => 1, -2 => 2, _ => 0 }
  }
  where not (city == "x" or t in ["a", "b"]) and ts > @2026-01-01T12:00:00Z
  validate {
    temperature between -90.0 and 60.0 else drop
    required city
    unique ts else warn
    city matches "^[A-Z]" else dead_letter
  }
  rename { t -> label }
  select ts, city
  drop label
  dedupe by (city, ts) within 1h
  aggregate every 1h by city {
    n = count()
  }
  persist timescale readings { time: ts, key: (city, ts) }
  cache 100
  sink alerts
}

pipeline quiet from weather {
  derive { x = [1, 2][0] + {a: 1}.a }
  persist off
}

dashboard board {
  title: "Weather"
  chart line { from: weather, x: ts, y: n }
  table { from: weather, last: 20 }
}

test "mapped" {
  given api [{ time: "2026", temperature: 21.5 }]
  expect weather []
}
"""

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|@[0-9T:.Z+-]+|\w+|\s+|.', re.S)

SOUP = [
    *sorted(KEYWORDS),
    "{", "}", "(", ")", "[", "]", ",", ":", "=", "->", "=>", "??", "++", "==", "!=",
    "<", "<=", ">", ">=", "+", "-", "*", "/", "%", ".", "?", "\n", "\n\n", " ", "_",
    "x", "city", "list", "int", "1", "2.5", "1e3", "5m", "90d", '"s"', '"\\n"', '"bad',
    "@2026-01-01", "@2026-01-01T12:00:00Z", "@2026-13-45", "// c", "\t", "'", "&&", "#",
]  # fmt: skip


# The AST builder reports a name used as a match pattern (`y => 1`) as E212 (invalid
# pattern), which the error index files with the types.
NOT_SYNTAX_CODES_FROM_THE_PARSER = frozenset({"E212"})


def check(text: str) -> ParseResult:
    """Parse `text`: no exception, and every diagnostic is a syntax one inside the text."""
    result = parse(text, FILE)
    assert isinstance(result, ParseResult)
    assert isinstance(result.module, ast.Module)
    last_line = text.count("\n") + 1
    for diagnostic in result.diagnostics:
        span = diagnostic.span
        assert (
            diagnostic.code.startswith("E0") or diagnostic.code in NOT_SYNTAX_CODES_FROM_THE_PARSER
        ), diagnostic
        assert span.file == FILE
        assert 1 <= span.line <= last_line + 1, (diagnostic, last_line)
        assert span.line <= span.end_line <= last_line + 1, diagnostic
        assert span.column >= 1, diagnostic
    return result


def test_the_sample_parses_cleanly() -> None:
    assert check(PROGRAM).diagnostics == ()


# ---- random text -------------------------------------------------------------------


@FAST
@given(st.text())
def test_any_text(text: str) -> None:
    check(text)


@FAST
@given(st.text(alphabet=st.sampled_from(list("{}()[]<>,:;=?+-*/%.@\"'\\ \t\n_ax1"))))
def test_punctuation_soup(text: str) -> None:
    check(text)


@FAST
@given(st.lists(st.sampled_from(SOUP), max_size=40))
def test_token_soup(tokens: list[str]) -> None:
    check(" ".join(tokens))
    check("".join(tokens))


# ---- valid programs, broken by small edits -----------------------------------------


@st.composite
def _edited(draw: st.DrawFn, text: str) -> str:
    """`text` after a few random character or token edits."""
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        edit = draw(st.sampled_from(["delete", "insert", "swap", "token"]))
        if edit == "token":
            text = _edit_tokens(draw, text)
            continue
        at = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
        if edit == "delete":
            text = text[:at] + text[at + 1 :]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(SOUP)) + text[at:]
        else:
            text = text[:at] + text[at + 1 : at + 2] + text[at : at + 1] + text[at + 2 :]
    return text


def _edit_tokens(draw: st.DrawFn, text: str) -> str:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return text
    at = draw(st.integers(min_value=0, max_value=len(tokens) - 1))
    edit = draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]))
    if edit == "delete":
        del tokens[at]
    elif edit == "duplicate":
        tokens.insert(at, tokens[at])
    elif edit == "swap":
        other = draw(st.integers(min_value=0, max_value=len(tokens) - 1))
        tokens[at], tokens[other] = tokens[other], tokens[at]
    else:
        tokens[at] = draw(st.sampled_from(SOUP))
    return "".join(tokens)


@FAST
@given(_edited(PROGRAM))
def test_edited_sample(text: str) -> None:
    check(text)


@FAST
@given(modules.map(format_module).flatmap(_edited))
def test_edited_generated_programs(text: str) -> None:
    check(text)


@FAST
@given(st.sampled_from(range(len(PROGRAM) + 1)))
def test_every_prefix_of_the_sample(end: int) -> None:
    # A file as it is being typed: cut anywhere, including inside strings and comments.
    check(PROGRAM[:end])


# ---- once parser bugs, now regression tests ----------------------------------------


@pytest.mark.parametrize("literal", ["@0001-01-01T00:00:00+01:00", "@9999-12-31T23:59:59-01:00"])
def test_timestamp_out_of_range_after_utc_conversion(literal: str) -> None:
    (diagnostic,) = check(f"const T = {literal}\n").diagnostics
    assert diagnostic.code == "E004"


@pytest.mark.parametrize("expr", ["[" * 600 + "]" * 600, "-" * 1500 + "a", "1" + " + 1" * 1500])
def test_deep_nesting(expr: str) -> None:
    (diagnostic,) = check(f"const X = {expr}\nconst Y = 1\n").diagnostics
    assert diagnostic.code == "E005"
    assert diagnostic.span.line == 1


def test_a_bad_pattern_is_reported() -> None:
    (diagnostic,) = parse("const X = match y { z => 1 }\n", FILE).diagnostics
    assert diagnostic.code == "E212"


@pytest.mark.parametrize("type_", ["foo<int>", "list<foo<int>>", "list<list<int>>"])
def test_a_field_with_type_arguments_ends_its_line(type_: str) -> None:
    assert check(f"type T {{\n  a: {type_}\n  b: int\n}}\n").diagnostics == ()


@pytest.mark.parametrize("condition", ["list < 5", "(list < 5)"])
def test_a_name_list_compared_with_less_than_ends_its_line(condition: str) -> None:
    text = f"pipeline p from s {{\n  where {condition}\n  cache 1\n}}\n"
    assert check(text).diagnostics == ()


def test_a_surrogate_escape_is_invalid() -> None:
    (diagnostic,) = check('const S = "\\u{D800}"\n').diagnostics
    assert diagnostic.code == "E004"
