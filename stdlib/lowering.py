"""How a stdlib function becomes Polars code and SQL: the types its lowerings work with.

A function's `polars` lowering returns the *source text* of a Polars expression, so the
compiled plan is a readable Python module that reviewers can read in a pull request; its
`sql` lowering returns a sqlglot expression (never SQL text), rendered per dialect.
Both receive the lowered arguments with their Flow types, and the Python value of an
argument that is a literal, for the functions whose Polars API wants a plain value
(a format string, a regular expression, a number of digits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot.expressions as exp

from flowc.dsl.types import Type


class _NoLiteral:
    """The marker for an argument that is not a literal."""

    def __repr__(self) -> str:
        return "NOT_LITERAL"


NOT_LITERAL: Any = _NoLiteral()


@dataclass(frozen=True, slots=True)
class PolarsArg:
    """An argument as Polars source text (`pl.col("x")`), its type, its literal value."""

    code: str
    type: Type
    literal: Any = NOT_LITERAL

    @property
    def is_literal(self) -> bool:
        return self.literal is not NOT_LITERAL


@dataclass(frozen=True, slots=True)
class SqlArg:
    """An argument as a sqlglot expression, its type, its literal value."""

    expr: exp.Expression
    type: Type
    literal: Any = NOT_LITERAL

    @property
    def is_literal(self) -> bool:
        return self.literal is not NOT_LITERAL


@dataclass(frozen=True, slots=True)
class Target:
    """What a lowering is for: the result type, and the SQL dialect when lowering to SQL."""

    result: Type
    dialect: str = "duckdb"


PolarsLowering = Callable[[Sequence[PolarsArg], Target], str]
SqlLowering = Callable[[Sequence[SqlArg], Target], exp.Expression]


class LoweringUnsupported(Exception):
    """A call the lowering cannot express (for example a non-literal format string)."""
