"""Numeric functions: rounding, powers, logarithms and bounds.

`num` parameters take `int` or `float`. Where a result can be out of range, both back ends
give the same answer, written out case by case because Polars and the SQL engines differ
(an error in one, NaN or a wrapped value in another):

- `sqrt`, `log` and `log10` give null outside their domain (a negative number, or zero for
  the logarithms); their result type is nullable.
- `pow` and `exp`, whose result type is not nullable, follow IEEE 754 instead: a negative
  base with a fractional exponent is NaN, zero to a negative power and overflow are `inf`,
  underflow is 0.0. PostgreSQL raises on all of these, so its lowering decides them
  first (overflow by ln|base| * exponent, so a result within a rounding error of the
  largest float may come out as `inf` there).
- Results of `pow`, `exp` and the logarithms come from each engine's math library and
  may differ in the last digit (Polars also computes a literal integer power by
  multiplication); `log10` of an exact power of ten is exact in both.
- An `int` result that does not fit 64 bits saturates, as Rust's casts do, because the
  result type is not nullable: `floor` and `ceil` of a float beyond the int range give
  the nearest end of it (NaN gives 0), and `abs` of the smallest int, -2^63, gives
  2^63 - 1 (Polars would wrap it, SQL raise). `int(x)`, a conversion that may fail,
  gives null there instead.
- NaN, which only arrives in data (no function here produces it from numbers), sorts
  above every number as in SQL: `greatest(1.0, nan)` is NaN, `least(1.0, nan)` is 1.0,
  `sign(nan)` is 0; `sqrt`, `log`, `exp` and `abs` of NaN are NaN.
"""

from collections.abc import Callable, Sequence

import sqlglot.expressions as exp

from flowc.dsl.types import FLOAT, Kind
from flowc.stdlib.functions import _values_lowering as v
from flowc.stdlib.lowering import (
    LoweringUnsupported,
    PolarsArg,
    PolarsLowering,
    SqlArg,
    SqlLowering,
    Target,
)
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "numbers",
    "Numbers",
    "Arithmetic beyond the operators. `num` means `int` or `float`; a `num` result is a "
    "`float` when any `num` argument is one. Out-of-domain inputs of `sqrt` and the "
    "logarithms give null, not NaN; an `int` result beyond 64 bits saturates.",
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
        # takes a number of digits. The float goes through its text, which has all its
        # digits (a direct cast keeps 15, so 1234567890123456.8 would round to ...460).
        value = exp.cast(exp.cast(value, exp.DataType.build("TEXT")), exp.DataType.build("NUMERIC"))
    rounded = exp.Round(this=value, decimals=digits)
    return exp.cast(rounded, exp.DataType.build("DOUBLE"))


# ---- Polars ----


def _pl_float(arg: PolarsArg) -> str:
    return v.pl_cast(arg, FLOAT)


@v.pl_propagating
def _abs_pl(a: Sequence[PolarsArg], _: Target) -> str:
    if a[0].type.kind is Kind.FLOAT:
        return f"{v.primary(a[0].code)}.abs()"
    # |-2^63| does not fit: it saturates (Polars would wrap it, SQL raise).
    return v.let(
        a[0].code,
        lambda x: (
            f"pl.when({x} == {v.INT_MIN}).then(pl.lit({v.INT_MAX}, dtype=pl.Int64))"
            f".otherwise({x}.abs())"
        ),
        "x",
    )


def _rounding_pl(method: str) -> PolarsLowering:
    @v.pl_propagating
    def lowered(a: Sequence[PolarsArg], _: Target) -> str:
        if a[0].type.kind is Kind.INT:
            return a[0].code
        return v.let(f"{v.primary(a[0].code)}.{method}()", _pl_saturating_int, "f")

    return lowered


def _pl_saturating_int(f: str) -> str:
    """A whole float as an int: beyond the int range the nearest end, NaN 0 (as Rust)."""
    return (
        f"pl.when({f}.is_nan()).then(pl.lit(0, dtype=pl.Int64))"
        f".when({f} >= {float(2**63)!r}).then(pl.lit({v.INT_MAX}, dtype=pl.Int64))"
        f".when({f} < {float(v.INT_MIN)!r}).then(pl.lit({v.INT_MIN}, dtype=pl.Int64))"
        f".otherwise({f}.cast(pl.Int64, strict=False))"
    )


def _domain_pl(condition: str, method: Callable[[str], str]) -> PolarsLowering:
    """`method` of the number as a float where `condition` holds of it, else null."""

    @v.pl_propagating
    def lowered(a: Sequence[PolarsArg], _: Target) -> str:
        return v.let(_pl_float(a[0]), lambda f: f"pl.when({f} {condition}).then({method(f)})", "f")

    return lowered


def _log10_pl(f: str) -> str:
    # Polars computes log10 through ln, so log10(1000) is 2.9999999999999996; a result
    # that rounds to a power of ten it came from is made exact, like SQL's LOG10.
    # Only for |k| <= 22, where 10^k is the double nearest to it (a subnormal is not).
    return v.let(
        f"{f}.log10()",
        lambda r: (
            f"pl.when(({r}.round().abs() <= 22) & (pl.lit(10.0).pow({r}.round()) == {f}))"
            f".then({r}.round()).otherwise({r})"
        ),
        "r",
    )


@v.pl_propagating
def _pow_pl(a: Sequence[PolarsArg], _: Target) -> str:
    base, power = _pl_float(a[0]), _pl_float(a[1])
    if a[1].literal != 0.5:
        return f"{v.primary(base)}.pow({power})"
    # Polars computes a literal power 0.5 as sqrt, which differs from pow (and SQL's
    # POWER) for -inf (NaN, not inf) and -0.0 (-0.0, not 0.0).
    return v.let(
        base,
        lambda b: (
            f'(pl.when({b} == float("-inf")).then(pl.lit(float("inf")))'
            f".otherwise({b}.pow({power})) + 0.0)"
        ),
        "b",
    )


@v.pl_propagating
def _sign_pl(a: Sequence[PolarsArg], _: Target) -> str:
    if a[0].type.kind is Kind.INT:
        return f"{v.primary(a[0].code)}.sign()"
    return f"{v.primary(a[0].code)}.sign().fill_nan(0.0).cast(pl.Int64)"


def _pl_least(codes: Sequence[str], floats: bool) -> str:
    # min_horizontal skips nulls and ignores NaN unless all are NaN: as SQL's LEAST,
    # where NaN is the greatest number.
    del floats
    return f"pl.min_horizontal({', '.join(codes)})"


def _pl_greatest(codes: Sequence[str], floats: bool) -> str:
    biggest = f"pl.max_horizontal({', '.join(codes)})"
    if not floats:
        return biggest
    # max_horizontal ignores NaN; SQL's GREATEST gives NaN, the greatest number.
    any_nan = ", ".join(f"{v.primary(c)}.is_nan()" for c in codes)
    return f'pl.when(pl.any_horizontal({any_nan})).then(pl.lit(float("nan"))).otherwise({biggest})'


def _extreme_pl(pick: str) -> PolarsLowering:
    def lowered(a: Sequence[PolarsArg], target: Target) -> str:
        codes = [v.pl_cast(arg, target.result) for arg in a]
        floats = target.result.kind is Kind.FLOAT
        return (_pl_least if pick == "least" else _pl_greatest)(codes, floats)

    return lowered


@v.pl_propagating
def _clamp_pl(a: Sequence[PolarsArg], target: Target) -> str:
    floats = target.result.kind is Kind.FLOAT

    def body(x: str, lo: str, hi: str) -> str:
        present = ", ".join(f"{c}.is_not_null()" for c in (x, lo, hi))
        bounded = _pl_least([_pl_greatest([x, lo], floats), hi], floats)
        return f"pl.when(pl.all_horizontal({present})).then({bounded})"

    x, lo, hi = (v.pl_cast(arg, target.result) for arg in a)
    return v.let(
        x, lambda xv: v.let(lo, lambda lv: v.let(hi, lambda hv: body(xv, lv, hv), "hi"), "lo"), "x"
    )


# ---- SQL ----


def _sql_float(arg: SqlArg, target: Target) -> exp.Expression:
    return v.sql_cast(arg, FLOAT, target.dialect)


@v.sql_propagating
def _abs_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    if a[0].type.kind is Kind.FLOAT:
        return exp.Abs(this=a[0].expr)
    # ABS(-2^63) is an error in DuckDB and PostgreSQL: it saturates instead.
    smallest = v.eq(a[0].expr, v.number(v.INT_MIN))
    return v.case([(smallest, v.number(v.INT_MAX))], exp.Abs(this=a[0].expr.copy()))


def _rounding_sql(node: type[exp.Floor] | type[exp.Ceil]) -> SqlLowering:
    @v.sql_propagating
    def lowered(a: Sequence[SqlArg], target: Target) -> exp.Expression:
        if a[0].type.kind is Kind.INT:
            return a[0].expr
        return _sql_saturating_int(node(this=a[0].expr), target.dialect)

    return lowered


def _sql_saturating_int(f: exp.Expression, dialect: str) -> exp.Expression:
    """See `_pl_saturating_int`; NaN is tested first, as it sorts above every number."""
    nan = v.double_literal("NaN", dialect)
    top = exp.cast(v.number(2**63), v.double(dialect))
    bottom = exp.cast(v.number(v.INT_MIN), v.double(dialect))
    return v.case(
        [
            (v.eq(f, nan), v.number(0)),
            (exp.GTE(this=f.copy(), expression=top), v.number(v.INT_MAX)),
            (exp.LT(this=f.copy(), expression=bottom), v.number(v.INT_MIN)),
        ],
        exp.cast(f.copy(), v.BIGINT),
    )


def _domain_sql(condition: type[exp.GTE] | type[exp.GT], function: str) -> SqlLowering:
    @v.sql_propagating
    def lowered(a: Sequence[SqlArg], target: Target) -> exp.Expression:
        value = _sql_float(a[0], target)
        inside = condition(this=value, expression=v.number(0))
        return v.case([(inside, v.fn(function, value.copy()))])

    return lowered


@v.sql_propagating
def _pow_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    base, power = _sql_float(a[0], target), _sql_float(a[1], target)
    if target.dialect == "duckdb":
        return exp.Pow(this=base, expression=power)
    # PostgreSQL raises where IEEE 754 (Polars, DuckDB) gives NaN, inf or 0.0, so each
    # case is decided first; ln|base| * power estimates the size of a finite result.
    dialect = target.dialect

    def d(value: str) -> exp.Expression:
        return v.double_literal(value, dialect)

    def b() -> exp.Expression:
        return base.copy()

    def e() -> exp.Expression:
        return power.copy()

    def finite() -> exp.Expression:
        return v.and_(
            exp.LT(this=exp.Abs(this=b()), expression=d("Infinity")),
            exp.LT(this=exp.Abs(this=e()), expression=d("Infinity")),
        )

    def size() -> exp.Expression:
        magnitude = exp.Nullif(this=exp.Abs(this=b()), expression=v.number(0))
        return exp.Mul(this=e(), expression=exp.Ln(this=magnitude))

    whole = v.eq(e(), v.fn("TRUNC", e()))
    odd = v.and_(
        whole,
        v.eq(
            exp.Mod(this=exp.cast(exp.Abs(this=e()), v.NUMERIC), expression=v.number(2)),
            v.number(1),
        ),
    )
    below_zero = exp.LT(this=b(), expression=v.number(0))
    negative_zero = exp.Like(this=exp.cast(b(), v.TEXT), expression=v.text("-%"))
    return v.case(
        [
            (v.or_(v.eq(b(), d("NaN")), v.eq(e(), d("NaN"))), exp.Pow(this=b(), expression=e())),
            (v.and_(below_zero, finite(), exp.Not(this=whole.copy())), d("NaN")),
            (
                v.and_(v.eq(b(), d("-Infinity")), exp.Not(this=whole.copy())),
                v.case([(exp.GT(this=e(), expression=v.number(0)), d("Infinity"))], d("0")),
            ),
            (
                v.and_(v.eq(b(), v.number(0)), exp.LT(this=e(), expression=v.number(0))),
                v.case([(v.and_(odd.copy(), negative_zero), d("-Infinity"))], d("Infinity")),
            ),
            (
                v.and_(finite(), exp.GT(this=size(), expression=v.number("709.782712893384"))),
                v.case([(v.and_(below_zero.copy(), odd), d("-Infinity"))], d("Infinity")),
            ),
            (
                v.and_(finite(), exp.LT(this=size(), expression=v.number("-745.1332191019412"))),
                d("0"),
            ),
        ],
        exp.Pow(this=b(), expression=e()),
    )


@v.sql_propagating
def _exp_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    value = _sql_float(a[0], target)
    if target.dialect == "duckdb":
        return exp.Exp(this=value)
    # PostgreSQL raises on overflow and on a result that underflows to zero.
    nan = v.double_literal("NaN", target.dialect)
    return v.case(
        [
            (v.eq(value.copy(), nan), value.copy()),
            (
                exp.GT(this=value.copy(), expression=v.number("709.782712893384")),
                v.double_literal("Infinity", target.dialect),
            ),
            (
                exp.LT(this=value.copy(), expression=v.number(-745.1332191019412)),
                v.double_literal("0", target.dialect),
            ),
        ],
        exp.Exp(this=value.copy()),
    )


@v.sql_propagating
def _sign_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    # SIGN gives 0 for NaN in DuckDB and PostgreSQL; PostgreSQL's is a float.
    return exp.cast(exp.Sign(this=a[0].expr), v.BIGINT)


def _extreme_sql(name: str) -> SqlLowering:
    def lowered(a: Sequence[SqlArg], target: Target) -> exp.Expression:
        # DuckDB's and PostgreSQL's LEAST and GREATEST skip nulls (sqlglot's nodes would
        # add a null check for DuckDB, so the functions are named directly).
        return v.fn(name, *(v.sql_cast(arg, target.result, target.dialect) for arg in a))

    return lowered


@v.sql_propagating
def _clamp_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    x, lo, hi = (v.sql_cast(arg, target.result, target.dialect) for arg in a)
    missing = v.or_(v.is_null(x), v.is_null(lo), v.is_null(hi))
    bounded = v.fn("LEAST", v.fn("GREATEST", x.copy(), lo.copy()), hi.copy())
    return v.case([(missing, exp.null())], bounded)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="abs",
        category="numbers",
        params=(_X,),
        returns="num",
        nulls=Nulls.PROPAGATE,
        doc="The absolute value, keeping the argument's type; for distances and deltas (the "
        "smallest int, -2^63, gives the largest, 2^63 - 1).",
        examples=(
            Example("abs(-3)", "3"),
            Example("abs(-2.5)", "2.5"),
            Example("abs(null)", "null"),
        ),
        polars=_abs_pl,
        sql=_abs_sql,
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
        doc="The greatest integer not above the number, as an `int`, for bucketing values; "
        "the nearest end of the `int` range beyond it.",
        examples=(
            Example("floor(2.7)", "2"),
            Example("floor(-2.5)", "-3"),
            Example("floor(7)", "7"),
            Example("floor(1e300)", "9223372036854775807"),
        ),
        polars=_rounding_pl("floor"),
        sql=_rounding_sql(exp.Floor),
    ),
    Function(
        name="ceil",
        category="numbers",
        params=(_X,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="The least integer not below the number, as an `int`, for counts of pages or slots; "
        "the nearest end of the `int` range beyond it.",
        examples=(
            Example("ceil(2.1)", "3"),
            Example("ceil(-2.5)", "-2"),
            Example("ceil(-0.5)", "0"),
        ),
        polars=_rounding_pl("ceil"),
        sql=_rounding_sql(exp.Ceil),
    ),
    Function(
        name="sqrt",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="The square root; null for a negative number.",
        examples=(
            Example("sqrt(16)", "4.0"),
            Example("sqrt(2.25)", "1.5"),
            Example("sqrt(-1.0)", "null"),
            Example("sqrt(0)", "0.0"),
        ),
        polars=_domain_pl(">= 0", lambda f: f"{f}.sqrt()"),
        sql=_domain_sql(exp.GTE, "SQRT"),
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
        doc="Raises a number to a power, always as a `float` (also for growth rates and roots); "
        "IEEE 754 rules: NaN for a negative base with a fractional exponent.",
        examples=(
            Example("pow(2, 10)", "1024.0"),
            Example("pow(9, 0.5)", "3.0"),
            Example("pow(2, -1)", "0.5"),
            Example("pow(-2, 3)", "-8.0"),
        ),
        polars=_pow_pl,
        sql=_pow_sql,
    ),
    Function(
        name="exp",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.PROPAGATE,
        doc="Euler's number raised to a power, the inverse of `log`; `inf` on overflow.",
        examples=(
            Example("exp(0)", "1.0"),
            Example("exp(-1000)", "0.0"),
        ),
        polars=v.pl_propagating(lambda a, _: f"{v.primary(_pl_float(a[0]))}.exp()"),
        sql=_exp_sql,
    ),
    Function(
        name="log",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="The natural logarithm; null for zero or a negative number.",
        examples=(
            Example("log(1)", "0.0"),
            Example("log(0)", "null"),
            Example("log(-2.5)", "null"),
        ),
        polars=_domain_pl("> 0", lambda f: f"{f}.log()"),
        sql=_domain_sql(exp.GT, "LN"),
    ),
    Function(
        name="log10",
        category="numbers",
        params=(_X,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="The base-10 logarithm, for orders of magnitude; null for zero or a negative number.",
        examples=(
            Example("log10(1000)", "3.0"),
            Example("floor(log10(1000))", "3"),
            Example("log10(0.01)", "-2.0"),
            Example("log10(-10)", "null"),
        ),
        polars=_domain_pl("> 0", _log10_pl),
        sql=_domain_sql(exp.GT, "LOG10"),
    ),
    Function(
        name="sign",
        category="numbers",
        params=(_X,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="-1, 0 or 1 by the sign of the number, to classify a change as down, flat or up.",
        examples=(
            Example("sign(-3.5)", "-1"),
            Example("sign(0)", "0"),
            Example("sign(7)", "1"),
            Example("sign(-0.0)", "0"),
        ),
        polars=_sign_pl,
        sql=_sign_sql,
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
        doc="Limits a number to a range, to cap outliers instead of dropping them (`hi` when "
        "`lo` > `hi`).",
        examples=(
            Example("clamp(15, 0, 10)", "10"),
            Example("clamp(-2, 0, 10)", "0"),
            Example("clamp(2.5, 0, 10)", "2.5"),
            Example("clamp(12, 0, 9.5)", "9.5"),
            Example("clamp(5, null, 10)", "null"),
        ),
        polars=_clamp_pl,
        sql=_clamp_sql,
    ),
    Function(
        name="least",
        category="numbers",
        params=(Param("x", "num", "the first number"), Param("more", "num", "further numbers")),
        returns="num",
        nulls=Nulls.SKIP,
        variadic=True,
        doc="The smallest of its arguments, skipping nulls like SQL's LEAST.",
        examples=(
            Example("least(3, 1, 2)", "1"),
            Example("least(2, null)", "2"),
            Example("least(null, null)", "null"),
            Example("least(-1, 0.5)", "-1.0"),
        ),
        polars=_extreme_pl("least"),
        sql=_extreme_sql("LEAST"),
    ),
    Function(
        name="greatest",
        category="numbers",
        params=(Param("x", "num", "the first number"), Param("more", "num", "further numbers")),
        returns="num",
        nulls=Nulls.SKIP,
        variadic=True,
        doc="The largest of its arguments, skipping nulls like SQL's GREATEST.",
        examples=(
            Example("greatest(3, 1, 2)", "3"),
            Example("greatest(1, 2.5)", "2.5"),
            Example("greatest(null, 4, null)", "4"),
        ),
        polars=_extreme_pl("greatest"),
        sql=_extreme_sql("GREATEST"),
    ),
)
