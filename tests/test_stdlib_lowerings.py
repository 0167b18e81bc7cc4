"""Every stdlib example runs through both lowerings, and both give the expected value."""

from __future__ import annotations

import pytest

from flowc.stdlib.functions import REGISTRY
from flowc.stdlib.signature import Example, Function
from tests.stdlib_harness import expected_value, run_duckdb, run_polars, same

CASES = [
    pytest.param(fn, example, id=f"{fn.name}:{index}")
    for fn in REGISTRY.values()
    for index, example in enumerate(fn.examples)
]


@pytest.mark.parametrize(("function", "example"), CASES)
def test_polars_lowering(function: Function, example: Example) -> None:
    assert function.polars is not None, f"`{function.name}` has no Polars lowering"
    actual = run_polars(function, example)
    expected = expected_value(example)
    assert same(actual, expected), f"{example.call}: Polars gave {actual!r}, expected {expected!r}"


@pytest.mark.parametrize(("function", "example"), CASES)
def test_sql_lowering(function: Function, example: Example) -> None:
    assert function.sql is not None, f"`{function.name}` has no SQL lowering"
    actual = run_duckdb(function, example)
    expected = expected_value(example)
    assert same(actual, expected), f"{example.call}: DuckDB gave {actual!r}, expected {expected!r}"


def test_every_function_has_both_lowerings() -> None:
    missing = sorted(name for name, fn in REGISTRY.items() if fn.polars is None or fn.sql is None)
    assert missing == []
