"""Aggregate functions, allowed only inside `aggregate every ... { }`.

Each one reduces the values of a group (one window and key) to one value. Null values
are skipped, as in SQL; since a tumbling window never has an empty group, an aggregate
of a non-null column is non-null. The examples read a column `x` whose values for the
group are given with each example.
"""

import sqlglot.expressions as exp

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "aggregates",
    "Aggregates",
    "Reductions of a group of records to one value, used in `aggregate` steps. Null "
    "values are skipped; the examples read a column `x` holding the values shown.",
)
_NUM = Param("x", "num", "the values to reduce")
_T = Param("x", "T", "the values to reduce")


def _agg(
    name: str, params: tuple[Param, ...], returns: str, doc: str, *examples: Example
) -> Function:
    """An aggregate that skips nulls (`Nulls.PROPAGATE` from the column's type)."""
    return Function(
        name=name,
        category="aggregates",
        params=params,
        returns=returns,
        nulls=Nulls.PROPAGATE,
        doc=doc,
        examples=examples,
        aggregate=True,
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
        examples=(Example("count_distinct(x)", "2", column="[1, 1, 2, null]"),),
    ),
    _agg(
        "sum",
        (_NUM,),
        "num",
        "The total of the values, keeping their type (int stays int).",
        Example("sum(x)", "6", column="[1, 2, 3]"),
        Example("sum(x)", "4.0", column="[1.5, 2.5, null]"),
    ),
    _agg(
        "mean",
        (_NUM,),
        "float",
        "The arithmetic mean of the values.",
        Example("mean(x)", "2.5", column="[1, 2, 3, 4]"),
    ),
    _agg(
        "median",
        (_NUM,),
        "float",
        "The middle value (the mean of the two middle ones for an even count), robust to outliers.",
        Example("median(x)", "2.0", column="[1, 2, 100]"),
        Example("median(x)", "2.5", column="[1, 2, 3, 4]"),
    ),
    _agg(
        "percentile",
        (_NUM, Param("p", "float", "the fraction of values below the result, from 0 to 1")),
        "float",
        "The value below which a fraction `p` of the values lie, interpolating linearly "
        "between neighbours; for latency targets such as p95.",
        Example("percentile(x, 0.25)", "2.0", column="[1, 2, 3, 4, 5]"),
        Example("percentile(x, 0.25)", "2.5", column="[0, 10]"),
    ),
    _agg(
        "stddev",
        (_NUM,),
        "float",
        "The sample standard deviation (divided by n - 1), to spot noisy signals.",
        Example("stddev(x)", "2.0", column="[2, 4, 6]"),
    ),
    _agg(
        "variance",
        (_NUM,),
        "float",
        "The sample variance (divided by n - 1), the square of `stddev`.",
        Example("variance(x)", "4.0", column="[2, 4, 6]"),
    ),
    _agg(
        "min",
        (_T,),
        "T",
        "The smallest value (earliest timestamp, first string in byte order).",
        Example("min(x)", "1", column="[3, 1, 2]"),
        Example("min(x)", '"a"', column='["b", "a"]'),
    ),
    _agg(
        "max",
        (_T,),
        "T",
        "The largest value (latest timestamp, last string in byte order).",
        Example("max(x)", "3", column="[3, 1, 2]"),
    ),
    _agg(
        "first",
        (_T,),
        "T",
        "The first non-null value in arrival order, such as the opening price of a window.",
        Example("first(x)", "3", column="[null, 3, 1, 2]"),
    ),
    _agg(
        "last",
        (_T,),
        "T",
        "The last non-null value in arrival order, such as the closing price of a window.",
        Example("last(x)", "1", column="[3, 1, null]"),
    ),
)
