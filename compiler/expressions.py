"""Check and lower one expression on its own, over a record of given fields.

Used to run the stdlib's examples through both lowerings, and by tools that evaluate a
snippet. It builds a one-pipeline program around the expression, so the expression is
checked and lowered by exactly the code that handles real programs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flowc.compiler import ir
from flowc.compiler.checker import check_text
from flowc.compiler.lower import lower_program
from flowc.dsl import types as t
from flowc.dsl.diagnostics import Diagnostic

RESULT = "__result"
FILE = "<expression>"


@dataclass(frozen=True)
class CheckedExpression:
    expr: ir.Expr | None
    diagnostics: tuple[Diagnostic, ...]


def check_expression(
    text: str, fields: Mapping[str, t.Type] | None = None, *, aggregate: bool = False
) -> CheckedExpression:
    """Type-check and lower `text` over a record with `fields` (plus `ts` for aggregates)."""
    fields = dict(fields or {})
    if aggregate:
        fields.setdefault("ts", t.TIMESTAMP)
    if not fields:
        fields["__unused"] = t.INT
    schema = "\n".join(f"    {name}: {type_}" for name, type_ in fields.items())
    if aggregate:
        step = f"aggregate every 1h {{\n    {RESULT} = {text}\n  }}"
    else:
        step = f"map {{\n    {RESULT} = {text}\n  }}"
    program = (
        'source __s: file {\n  path: "in.jsonl"\n  schema {\n'
        f"{schema}\n  }}\n}}\n"
        f"pipeline __p from __s {{\n  {step}\n}}\n"
    )
    result = check_text(program, FILE)
    errors = tuple(d for d in result.diagnostics if d.severity.value == "error")
    if errors:
        return CheckedExpression(None, errors)
    pipeline = lower_program(result)["__p"]
    step_ir = pipeline.steps[0]
    if isinstance(step_ir, ir.Aggregate):
        return CheckedExpression(dict(step_ir.aggregations)[RESULT], ())
    assert isinstance(step_ir, ir.Project)
    return CheckedExpression(dict(step_ir.assignments)[RESULT], ())
