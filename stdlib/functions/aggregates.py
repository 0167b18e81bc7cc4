"""Aggregate functions, allowed only inside `aggregate every ... { }`.

Each one reduces the values of a group (one window and key) to one value. Null values
are skipped, as in SQL; since a tumbling window never has an empty group, an aggregate
of a non-null column is non-null, except `stddev` and `variance`, which are null for a
group with fewer than two values (the sample statistics are undefined there, and Polars,
DuckDB and PostgreSQL all give null). The examples read a column `x` whose values for the
group are given with each example.

The Polars lowerings are aggregate expressions for `group_by(...).agg(...)`; the SQL ones
are aggregates that TimescaleDB (2.7 and later) accepts in a continuous aggregate. Where
the engines differ, the lowerings make them agree:

- `sum` of a group whose values are all null is null (Polars' `sum` would give 0).
- `min`/`max` of strings compare bytes (PostgreSQL compares by the database's collation,
  so it is told `COLLATE "C"`); of booleans they are `bool_and`/`bool_or`, since
  PostgreSQL has no `min(boolean)`. Lists and records have no order here and are refused.
- `percentile` needs its fraction as a literal from 0 to 1 (it is the direct argument of
  `percentile_cont`, and the plan's `quantile`).
- `first`/`last` are the first and last non-null value in arrival order: Polars keeps the
  batch's order within each group; DuckDB's `first`/`last` take the rows in the order the
  query reads them, which is the batch's order as long as the input is scanned in order
  (one thread, or DuckDB's insertion-order preservation) and not guaranteed otherwise.
  PostgreSQL has no such aggregate and TimescaleDB's `first(value, time)` needs the time
  column, which a lowering is not given: on PostgreSQL they are refused.
"""

from collections.abc import Callable, Sequence

import sqlglot.expressions as exp

from flowc.dsl.types import Kind
from flowc.stdlib.lowering import LoweringUnsupported, PolarsArg, SqlArg, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "aggregates",
    "Aggregates",
    "Reductions of a group of records to one value, used in `aggregate` steps. Null "
    "values are skipped; the examples read a column `x` holding the values shown.",
)
_NUM = Param("x", "num", "the values to reduce")
_T = Param("x", "T", "the values to reduce")


def _double(expr: exp.Expression) -> exp.Expression:
    """A float result as DOUBLE: PostgreSQL's `avg` and `stddev` of integers are NUMERIC."""
    return exp.cast(expr, exp.DataType.build("DOUBLE"))


def _sum_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    total = exp.Sum(this=args[0].expr)
    if target.result.kind is Kind.FLOAT:
        return total
    # DuckDB's sum of BIGINT is a HUGEINT, PostgreSQL's a NUMERIC: the int stays an int.
    return exp.cast(total, exp.DataType.build("BIGINT"))


def _fraction(args: Sequence[PolarsArg] | Sequence[SqlArg]) -> float:
    value = args[1].literal
    if not args[1].is_literal or isinstance(value, bool) or not isinstance(value, int | float):
        raise LoweringUnsupported("`percentile` needs its fraction `p` as a number literal")
    if not 0 <= value <= 1:
        raise LoweringUnsupported(f"`percentile` needs `p` from 0 to 1, not {value}")
    return float(value)


def _percentile_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    fraction = exp.Literal.number(repr(_fraction(args)))
    ordered = exp.Order(expressions=[exp.Ordered(this=args[0].expr)])
    # PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY x); DuckDB's spelling is quantile_cont.
    return _double(exp.WithinGroup(this=exp.PercentileCont(this=fraction), expression=ordered))


def _ordered(function: str, arg: PolarsArg | SqlArg) -> None:
    if arg.type.kind in (Kind.LIST, Kind.STRUCT):
        raise LoweringUnsupported(
            f"`{function}` of lists or records is not supported: the back ends order them "
            "differently"
        )


def _extreme_polars(function: str) -> Callable[[Sequence[PolarsArg], Target], str]:
    def lower(args: Sequence[PolarsArg], target: Target) -> str:
        _ordered(function, args[0])
        return f"{args[0].code}.{function}()"

    return lower


def _extreme_sql(function: str) -> Callable[[Sequence[SqlArg], Target], exp.Expression]:
    def lower(args: Sequence[SqlArg], target: Target) -> exp.Expression:
        _ordered(function, args[0])
        x = args[0].expr
        if args[0].type.kind is Kind.BOOL:
            return exp.LogicalAnd(this=x) if function == "min" else exp.LogicalOr(this=x)
        if args[0].type.kind is Kind.STR and target.dialect != "duckdb":
            x = exp.Collate(this=x, expression=exp.to_identifier("C", quoted=True))
        return exp.Min(this=x) if function == "min" else exp.Max(this=x)

    return lower


def _end_sql(function: str) -> Callable[[Sequence[SqlArg], Target], exp.Expression]:
    def lower(args: Sequence[SqlArg], target: Target) -> exp.Expression:
        if target.dialect != "duckdb":
            raise LoweringUnsupported(
                f"`{function}` has no PostgreSQL lowering yet: TimescaleDB's "
                f"`{function}(value, time)` needs the time column, which the lowering is "
                "not given"
            )
        # FIRST(x) FILTER (WHERE x IS NOT NULL): in the order DuckDB reads the rows.
        x = args[0].expr
        value = (exp.First if function == "first" else exp.Last)(this=x)
        present = exp.Not(this=exp.Is(this=x.copy(), expression=exp.null()))
        return exp.Filter(this=value, expression=exp.Where(this=present))

    return lower


def _agg(
    name: str,
    params: tuple[Param, ...],
    returns: str,
    doc: str,
    *examples: Example,
    polars: Callable[[Sequence[PolarsArg], Target], str],
    sql: Callable[[Sequence[SqlArg], Target], exp.Expression],
    nulls: Nulls = Nulls.PROPAGATE,
) -> Function:
    """An aggregate that skips nulls (by default `Nulls.PROPAGATE` from the column's type)."""
    return Function(
        name=name,
        category="aggregates",
        params=params,
        returns=returns,
        nulls=nulls,
        doc=doc,
        examples=examples,
        aggregate=True,
        polars=polars,
        sql=sql,
    )


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="count",
        category="aggregates",
        params=(Param("x", "any", "count only the records where this is not null", True),),
        returns="int",
        nulls=Nulls.NEVER,
        aggregate=True,
        doc="The number of records in the group, or with `x` the number where `x` is not null.",
        examples=(
            Example("count()", "3", column="[1, null, 3]"),
            Example("count(x)", "2", column="[1, null, 3]"),
        ),
        polars=lambda a, _: f"{a[0].code}.count()" if a else "pl.len()",
        sql=lambda a, _: exp.Count(this=a[0].expr if a else exp.Star()),
    ),
    Function(
        name="count_distinct",
        category="aggregates",
        params=(Param("x", "any", "the values whose distinct non-null values are counted"),),
        returns="int",
        nulls=Nulls.NEVER,
        aggregate=True,
        doc="The number of distinct non-null values, such as unique visitors.",
        examples=(
            Example("count_distinct(x)", "2", column="[1, 1, 2, null]"),
            Example("count_distinct(x)", "0", column="[null, null]"),
        ),
        polars=lambda a, _: f"{a[0].code}.drop_nulls().n_unique().cast(pl.Int64)",
        sql=lambda a, _: exp.Count(this=exp.Distinct(expressions=[a[0].expr])),
    ),
    _agg(
        "sum",
        (_NUM,),
        "num",
        "The total of the values, keeping their type (int stays int); null when every value "
        "is null.",
        Example("sum(x)", "6", column="[1, 2, 3]"),
        Example("sum(x)", "4.0", column="[1.5, 2.5, null]"),
        Example("sum(x)", "null", column="[null, null]"),
        polars=lambda a, _: f"pl.when({a[0].code}.count() > 0).then({a[0].code}.sum())",
        sql=_sum_sql,
    ),
    _agg(
        "mean",
        (_NUM,),
        "float",
        "The arithmetic mean of the values.",
        Example("mean(x)", "2.5", column="[1, 2, 3, 4]"),
        Example("mean(x)", "2.0", column="[1, null, 3]"),
        polars=lambda a, _: f"{a[0].code}.mean()",
        sql=lambda a, _: _double(exp.Avg(this=a[0].expr)),
    ),
    _agg(
        "median",
        (_NUM,),
        "float",
        "The middle value (the mean of the two middle ones for an even count), robust to outliers.",
        Example("median(x)", "2.0", column="[1, 2, 100]"),
        Example("median(x)", "2.5", column="[1, 2, 3, 4]"),
        Example("median(x)", "2.0", column="[null, 3, 1, null]"),
        polars=lambda a, _: f"{a[0].code}.median()",
        # MEDIAN on DuckDB, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x) on PostgreSQL.
        sql=lambda a, _: _double(exp.Median(this=a[0].expr)),
    ),
    _agg(
        "percentile",
        (_NUM, Param("p", "float", "the fraction of values below the result, from 0 to 1")),
        "float",
        "The value below which a fraction `p` of the values lie, interpolating linearly "
        "between neighbours; for latency targets such as p95. `p` must be a literal.",
        Example("percentile(x, 0.25)", "2.0", column="[1, 2, 3, 4, 5]"),
        Example("percentile(x, 0.25)", "2.5", column="[0, 10]"),
        Example(
            "percentile(x, 0.95)",
            "95.5",
            column="[100, 1, 51, null, 31, 71, 11, 91, 41, 81, 21, 61]",
        ),
        Example("percentile(x, 1)", "3.5", column="[3.5, 1.0]"),
        polars=lambda a, _: f"{a[0].code}.quantile({_fraction(a)!r}, interpolation='linear')",
        sql=_percentile_sql,
    ),
    _agg(
        "stddev",
        (_NUM,),
        "float",
        "The sample standard deviation (divided by n - 1), to spot noisy signals; null for "
        "fewer than two values.",
        Example("stddev(x)", "2.0", column="[2, 4, 6]"),
        Example("stddev(x)", "null", column="[5, null]"),
        polars=lambda a, _: f"{a[0].code}.std()",
        sql=lambda a, _: _double(exp.StddevSamp(this=a[0].expr)),
        nulls=Nulls.FALLIBLE,
    ),
    _agg(
        "variance",
        (_NUM,),
        "float",
        "The sample variance (divided by n - 1), the square of `stddev`; null for fewer than "
        "two values.",
        Example("variance(x)", "4.0", column="[2, 4, 6]"),
        Example("variance(x)", "0.125", column="[1.5, null, 2.0]"),
        Example("variance(x)", "null", column="[7]"),
        polars=lambda a, _: f"{a[0].code}.var()",
        # VARIANCE on DuckDB, VAR_SAMP on PostgreSQL: both the sample variance.
        sql=lambda a, _: _double(exp.Variance(this=a[0].expr)),
        nulls=Nulls.FALLIBLE,
    ),
    _agg(
        "min",
        (_T,),
        "T",
        "The smallest value (earliest timestamp, first string in byte order, false before true).",
        Example("min(x)", "1", column="[3, 1, 2]"),
        Example("min(x)", '"B"', column='["b", "a", "B", null]'),
        Example("min(x)", "@2026-01-01", column="[@2026-03-01, null, @2026-01-01]"),
        Example("min(x)", "false", column="[true, null, false]"),
        polars=_extreme_polars("min"),
        sql=_extreme_sql("min"),
    ),
    _agg(
        "max",
        (_T,),
        "T",
        "The largest value (latest timestamp, last string in byte order, true after false).",
        Example("max(x)", "3", column="[3, 1, 2]"),
        Example("max(x)", '"é"', column='["b", "é", "z", null]'),
        Example("max(x)", "90s", column="[90s, null, 30s]"),
        polars=_extreme_polars("max"),
        sql=_extreme_sql("max"),
    ),
    _agg(
        "first",
        (_T,),
        "T",
        "The first non-null value in arrival order, such as the opening price of a window.",
        Example("first(x)", "3", column="[null, 3, 1, 2]"),
        Example("first(x)", '"b"', column='["b", "a", null]'),
        polars=lambda a, _: f"{a[0].code}.first(ignore_nulls=True)",
        sql=_end_sql("first"),
    ),
    _agg(
        "last",
        (_T,),
        "T",
        "The last non-null value in arrival order, such as the closing price of a window.",
        Example("last(x)", "1", column="[3, 1, null]"),
        Example("last(x)", "null", column="[null, null]"),
        polars=lambda a, _: f"{a[0].code}.last(ignore_nulls=True)",
        sql=_end_sql("last"),
    ),
)
