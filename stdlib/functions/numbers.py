"""Numeric functions: rounding, powers, logarithms and bounds.

`num` parameters take `int` or `float`. Functions outside their mathematical domain
(`sqrt(-1)`, `log(0)`) return null rather than NaN or an error, because the Polars and
SQL back ends disagree on NaN versus an error, and null is what the checker can track.
"""

from collections.abc import Sequence

import sqlglot.expressions as exp

from flowc.stdlib.lowering import LoweringUnsupported, PolarsArg, SqlArg, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "numbers",
    "Numbers",
    "Arithmetic beyond the operators. `num` means `int` or `float`; a `num` result is a "
    "`float` when any `num` argument is one. Out-of-domain inputs give null, not NaN.",
)
_X = Param("x", "num", "the number")


def _digits(args: Sequence[PolarsArg]) -> int:
    if len(args) < 2:
        return 0
    if not isinstance(args[1].literal, int):
        raise LoweringUnsupported("`round` needs its number of digits as a literal")
    return args[1].literal


def _round_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    digits = args[1].expr if len(args) > 1 else exp.Literal.number(0)
    value = args[0].expr
    if target.dialect != "duckdb":
        # PostgreSQL rounds halves away from zero only on NUMERIC, and only NUMERIC
        # takes a number of digits.
        value = exp.cast(value, exp.DataType.build("NUMERIC"))
    rounded = exp.Round(this=value, decimals=digits)
    return exp.cast(rounded, exp.DataType.build("DOUBLE"))


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="abs",
        category="numbers",
        params=(_X,),
        returns="num",
        nulls=Nulls.PROPAGATE,
        doc="The absolute value, keeping the argument's type; for distances and deltas.",
        examples=(Example("abs(-3)", "3"), Example("abs(-2.5)", "2.5")),
    ),
    Function(
        name="round",
        category="numbers",
        params=(_X, Param("digits", "int", "decimal places to keep; 0 if left out", True)),
        returns="float",
        nulls=Nulls.PROPAGATE,
        doc="Rounds to a number of decimal places (halves away from zero), for display and money.",
        examples=(
            Example("round(2.567, 2)", "2.57"),
            Example("round(2.4)", "2.0"),
            Example("round(-1.5)", "-2.0"),
        ),
        polars=lambda a, _: (
            f"{a[0].code}.cast(pl.Float64).round({_digits(a)}, mode='half_away_from_zero')"
        ),
        sql=_round_sql,
    ),
    Function(
        name="floor",
        category="numbers",
        params=(_X,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="The greatest integer not above the number, as an `int`, for bucketing values.",
        examples=(Example("floor(2.7)", "2"), Example("floor(-2.5)", "-3")),
    ),
    Function(
        name="ceil",
        category="numbers",
        params=(_X,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="The least integer not below the number, as an `int`, for counts of pages or slots.",
        examples=(Example("ceil(2.1)", "3"), Example("ceil(-2.5)", "-2")),
    ),
    Function(
        name="sqrt",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="The square root; null for a negative number.",
        examples=(Example("sqrt(16)", "4.0"), Example("sqrt(-1.0)", "null")),
    ),
    Function(
        name="pow",
        category="numbers",
        params=(
            Param("base", "num", "the number to raise"),
            Param("exponent", "num", "the power to raise it to"),
        ),
        returns="float",
        nulls=Nulls.PROPAGATE,
        doc="Raises a number to a power, always as a `float` (also for growth rates and roots).",
        examples=(Example("pow(2, 10)", "1024.0"), Example("pow(9, 0.5)", "3.0")),
    ),
    Function(
        name="exp",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.PROPAGATE,
        doc="Euler's number raised to a power, the inverse of `log`.",
        examples=(Example("exp(0)", "1.0"),),
    ),
    Function(
        name="log",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="The natural logarithm; null for zero or a negative number.",
        examples=(Example("log(1)", "0.0"), Example("log(0)", "null")),
    ),
    Function(
        name="log10",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="The base-10 logarithm, for orders of magnitude; null for zero or a negative number.",
        examples=(Example("log10(1000)", "3.0"),),
    ),
    Function(
        name="sign",
        category="numbers",
        params=(_X,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="-1, 0 or 1 by the sign of the number, to classify a change as down, flat or up.",
        examples=(Example("sign(-3.5)", "-1"), Example("sign(0)", "0"), Example("sign(7)", "1")),
    ),
    Function(
        name="clamp",
        category="numbers",
        params=(
            _X,
            Param("lo", "num", "the lowest value to let through"),
            Param("hi", "num", "the highest value to let through"),
        ),
        returns="num",
        nulls=Nulls.PROPAGATE,
        doc="Limits a number to a range, to cap outliers instead of dropping them.",
        examples=(
            Example("clamp(15, 0, 10)", "10"),
            Example("clamp(-2, 0, 10)", "0"),
            Example("clamp(2.5, 0, 10)", "2.5"),
        ),
    ),
    Function(
        name="least",
        category="numbers",
        params=(Param("x", "num", "the first number"), Param("more", "num", "further numbers")),
        returns="num",
        nulls=Nulls.SKIP,
        variadic=True,
        doc="The smallest of its arguments, skipping nulls like SQL's LEAST.",
        examples=(Example("least(3, 1, 2)", "1"), Example("least(2, null)", "2")),
    ),
    Function(
        name="greatest",
        category="numbers",
        params=(Param("x", "num", "the first number"), Param("more", "num", "further numbers")),
        returns="num",
        nulls=Nulls.SKIP,
        variadic=True,
        doc="The largest of its arguments, skipping nulls like SQL's GREATEST.",
        examples=(Example("greatest(3, 1, 2)", "3"), Example("greatest(1, 2.5)", "2.5")),
    ),
)
