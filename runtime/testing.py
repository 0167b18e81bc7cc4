"""`flowc test`: runs the `test` blocks of .flow files through the compiled Polars plans.

A test gives literal records to sources (or pipelines) and expects records out of
pipelines, downstream ones included. No server, store or network is involved: the same
plan modules that `flowc run` executes are called on in-memory frames. `now()` is fixed at
2026-01-01T00:00:00Z in tests, so expectations are reproducible.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from flowc.compiler.checker import CheckResult, check_path
from flowc.compiler.lower import lower_program
from flowc.compiler.polars_plan import PlanModule, polars_module
from flowc.dsl import ast
from flowc.dsl.span import Span

TEST_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass
class TestOutcome:
    """One test block's result: passed when `failures` is empty."""

    name: str
    span: Span
    failures: list[str] = field(default_factory=list)

    __test__ = False  # not a pytest class

    @property
    def passed(self) -> bool:
        return not self.failures


class Program:
    """A checked unit with its pipelines compiled to executable plans."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.pipelines = lower_program(result)
        self.plans = {
            name: PlanModule(polars_module(p, p.file), f"<plan {name}>")
            for name, p in self.pipelines.items()
        }

    def downstream(self, name: str) -> list[str]:
        return [p.name for p in self.pipelines.values() if p.upstream == name]

    def run(self, target: str, records: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
        """Feed records to a source or pipeline; the output of every pipeline they reach."""
        outputs: dict[str, list[pl.DataFrame]] = {}
        pending: list[tuple[str, pl.DataFrame | list[dict[str, Any]]]] = []
        if target in self.pipelines:
            pending.append((target, records))
        else:
            pending.extend((name, records) for name in self.downstream(target))
        while pending:
            name, batch = pending.pop(0)
            plan = self.plans[name]
            frame = _frame(batch, plan.input_schema)
            output = plan.plan(frame.lazy(), TEST_NOW)["output"].collect()
            outputs.setdefault(name, []).append(output)
            pending.extend((child, output) for child in self.downstream(name))
        return {name: pl.concat(frames, how="vertical_relaxed") for name, frames in outputs.items()}


def run_tests(result: CheckResult) -> Iterator[TestOutcome]:
    """Run every `test` block of the unit's root file."""
    program = Program(result)
    module = result.unit.modules[result.unit.root]
    for decl in module.decls:
        if isinstance(decl, ast.TestDecl):
            yield _run_test(program, decl)


def _run_test(program: Program, decl: ast.TestDecl) -> TestOutcome:
    outcome = TestOutcome(decl.name, decl.span)
    produced: dict[str, list[pl.DataFrame]] = {}
    for item in decl.items:
        if isinstance(item, ast.Given):
            for name, frame in program.run(item.target.name, records(item.records)).items():
                produced.setdefault(name, []).append(frame)
    for item in decl.items:
        if not isinstance(item, ast.Expect):
            continue
        name = item.target.name
        frames = produced.get(name, [])
        actual = pl.concat(frames, how="vertical_relaxed").to_dicts() if frames else []
        outcome.failures.extend(compare(name, records(item.records), actual, item.span))
    return outcome


def records(expr: ast.Expr) -> list[dict[str, Any]]:
    """Literal records (the checker has made sure they are literals of the right shape)."""
    value = literal(expr)
    assert isinstance(value, list)
    return value


def literal(expr: ast.Expr) -> Any:
    match expr:
        case ast.Literal(kind="duration", value=int(micros)):
            return dt.timedelta(microseconds=micros)
        case ast.Literal(value=value):
            return value
        case ast.ListExpr(items=items):
            return [literal(i) for i in items]
        case ast.RecordExpr(fields=fields):
            return {f.name.name: literal(f.value) for f in fields}
        case ast.Unary(op="-", operand=operand):
            return -literal(operand)
    raise ValueError(f"test records must be literals, found {type(expr).__name__}")


def _frame(batch: pl.DataFrame | list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    if isinstance(batch, pl.DataFrame):
        missing = [
            pl.lit(None, dtype=d).alias(n) for n, d in schema.items() if n not in batch.columns
        ]
        return batch.with_columns(missing).select(list(schema)) if schema else batch
    rows = [
        {name: _to_column(row.get(name), dtype) for name, dtype in schema.items()} for row in batch
    ]
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _to_column(value: Any, dtype: Any) -> Any:
    # json fields travel as JSON text (see flowc.compiler.polars_expr).
    if dtype == pl.String and value is not None and not isinstance(value, str):
        return json.dumps(value, default=str)
    return value


def compare(
    name: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]], span: Span
) -> list[str]:
    """A readable list of differences; fields not named in an expected record are ignored."""
    problems: list[str] = []
    where = f"{span}: expect {name}"
    if len(expected) != len(actual):
        problems.append(f"{where}: expected {len(expected)} records, got {len(actual)}")
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        diffs = [
            f"      {key}: expected {_show(value)}, got {_show(got.get(key, '<missing>'))}"
            for key, value in want.items()
            if key not in got or not same(got[key], value)
        ]
        if diffs:
            problems.append(f"{where}: record {index + 1} differs\n" + "\n".join(diffs))
    for index, got in enumerate(actual[len(expected) :], start=len(expected)):
        problems.append(f"{where}: unexpected record {index + 1}: {_show(got)}")
    for index, want in enumerate(expected[len(actual) :], start=len(actual)):
        problems.append(f"{where}: missing record {index + 1}: {_show(want)}")
    return problems


def same(actual: Any, expected: Any) -> bool:
    """Equal; floats to 1e-9 relative, timestamps as instants, ints equal to floats."""
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(actual, int | float) and isinstance(expected, int | float):
            return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
        return False
    if isinstance(expected, dt.datetime) and isinstance(actual, dt.datetime):
        return actual.astimezone(dt.UTC) == expected.astimezone(dt.UTC)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(map(same, actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and same(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return "@" + value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def run_file(path: Path) -> tuple[CheckResult, list[TestOutcome]]:
    """Check `path`; when it has no errors, run its tests."""
    result = check_path(path)
    if not result.ok:
        return result, []
    return result, list(run_tests(result))
