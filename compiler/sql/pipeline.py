"""A pipeline's steps as one SQL query (a chain of CTEs), built with sqlglot.

It reads a relation `input` with the pipeline's input columns plus `__row` (each record's
position in the batch), and gives the records the Polars plan gives as "output". The
differential tests run both on the same random records; `continuous_aggregate` uses the
same code for an `aggregate` pipeline's TimescaleDB view.
"""

from __future__ import annotations

import datetime as dt

import sqlglot.expressions as exp

from flowc.compiler import ir
from flowc.compiler.sql.spec import ContinuousAggregateSpec
from flowc.compiler.sql_expr import SqlExprs, SqlLoweringError, sql_literal
from flowc.dsl import types as t
from flowc.stdlib.lowering import LoweringUnsupported

ROW = "__row"
RULE = "__rule"
INPUT = "input"
_STRENGTH = {"fail": 0, "dead_letter": 1, "drop": 2}


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _star_except(names: list[str], drop: set[str]) -> list[exp.Expression]:
    return [_col(n) for n in names if n not in drop]


class PipelineSql:
    """Builds the query; `now` is the batch's time as a SQL expression."""

    def __init__(self, dialect: str = "duckdb", now: exp.Expression | None = None) -> None:
        self.dialect = dialect
        self.exprs = SqlExprs(dialect, now)

    def query(self, pipeline: ir.PipelineIR, source: str = INPUT) -> exp.Select:
        """The pipeline's output records, in the Polars plan's order (by `__row`)."""
        ctes: list[tuple[str, exp.Select]] = []
        previous = source
        names = [ROW, *pipeline.input.names()]
        for index, step in enumerate(pipeline.steps):
            select, names = self._step(step, previous, names)
            if select is None:
                continue
            name = f"step_{index}"
            ctes.append((name, select))
            previous = name
        final = exp.select(*_star_except(names, {ROW})).from_(
            exp.to_identifier(previous, quoted=True)
        )
        final = final.order_by(_col(ROW)) if ROW in names else final
        for name, select in ctes:
            final = final.with_(exp.to_identifier(name, quoted=True), as_=select)
        return final

    def _step(
        self, step: ir.Step, previous: str, names: list[str]
    ) -> tuple[exp.Select | None, list[str]]:
        source = exp.to_identifier(previous, quoted=True)
        lower = self.exprs.lower
        match step:
            case ir.Project(assignments=assignments, keep=keep):
                assigned = [lower(e).as_(n, quoted=True) for n, e in assignments]
                targets = {n for n, _ in assignments}
                if keep:
                    kept = [_col(n) for n in names if n not in targets]
                    new_names = [n for n in names if n not in targets] + [n for n, _ in assignments]
                else:
                    kept = [_col(ROW)] if ROW in names else []
                    new_names = ([ROW] if ROW in names else []) + [n for n, _ in assignments]
                return exp.select(*kept, *assigned).from_(source), new_names
            case ir.Filter(condition=condition):
                return exp.select(*map(_col, names)).from_(source).where(lower(condition)), names
            case ir.Select(names=selected):
                kept_names = ([ROW] if ROW in names else []) + list(selected)
                return exp.select(*map(_col, kept_names)).from_(source), kept_names
            case ir.Drop(names=dropped):
                kept_names = [n for n in names if n not in dropped]
                return exp.select(*map(_col, kept_names)).from_(source), kept_names
            case ir.Rename(pairs=pairs):
                mapping = dict(pairs)
                columns = [
                    _col(n).as_(mapping[n], quoted=True) if n in mapping else _col(n) for n in names
                ]
                return exp.select(*columns).from_(source), [mapping.get(n, n) for n in names]
            case ir.Validate(rules=rules):
                return self._validate(rules, source, names), names
            case ir.Dedupe(keys=keys):
                order = (
                    exp.Order(expressions=[exp.Ordered(this=_col(ROW))]) if ROW in names else None
                )
                window = exp.Window(
                    this=exp.RowNumber(), partition_by=[_col(k) for k in keys], order=order
                )
                inner = exp.select(*map(_col, names), window.as_("__n", quoted=True)).from_(source)
                outer = exp.select(*map(_col, names)).from_(inner.subquery("deduped"))
                return outer.where(
                    exp.EQ(this=_col("__n"), expression=exp.Literal.number(1))
                ), names
            case ir.Aggregate():
                return self._aggregate(step, source)
            case ir.Tap():
                return None, names
        raise AssertionError(f"unhandled step {type(step).__name__}")

    def _validate(
        self, rules: tuple[ir.Rule, ...], source: exp.Identifier, names: list[str]
    ) -> exp.Select:
        rejecting = sorted(
            (r for r in rules if r.action != "warn"), key=lambda r: (_STRENGTH[r.action], r.id)
        )
        if not rejecting:
            return exp.select(*map(_col, names)).from_(source)
        case = exp.Case()
        for rule in rejecting:
            passes = exp.Coalesce(this=self.exprs.lower(rule.passes), expressions=[exp.false()])
            case = case.when(exp.Not(this=exp.paren(passes)), exp.Literal.string(rule.id))
        checked = exp.select(*map(_col, names), case.as_(RULE, quoted=True)).from_(source)
        return (
            exp.select(*map(_col, names))
            .from_(checked.subquery("checked"))
            .where(exp.Is(this=_col(RULE), expression=exp.null()))
        )

    def _aggregate(
        self, step: ir.Aggregate, source: exp.Identifier | exp.Table
    ) -> tuple[exp.Select, list[str]]:
        bucket = time_bucket(step.every, _col(step.time))
        aggregations = [self.exprs.lower(e).as_(n, quoted=True) for n, e in step.aggregations]
        keys = [bucket.as_("bucket", quoted=True), *(_col(k) for k in step.by)]
        group = [exp.Literal.number(i + 1) for i in range(len(keys))]
        select = exp.select(*keys, *aggregations).from_(source).group_by(*group)
        ordered = exp.select(
            exp.Window(
                this=exp.RowNumber(),
                order=exp.Order(
                    expressions=[exp.Ordered(this=_col(k)) for k in ("bucket", *step.by)]
                ),
            ).as_(ROW, quoted=True),
            exp.Star(),
        ).from_(select.subquery("grouped"))
        names = [ROW, "bucket", *step.by, *(n for n, _ in step.aggregations)]
        return ordered, names


def time_bucket(every: dt.timedelta, column: exp.Expression) -> exp.Expression:
    """`time_bucket(INTERVAL, ts)` of TimescaleDB and DuckDB, aligned like Polars' truncate.

    Their default origin, 2000-01-03 00:00 UTC, is a whole number of days after the Unix
    epoch, so for widths that divide a day the buckets are the epoch-aligned ones Polars
    makes; other widths (7h, a week) get the epoch as an explicit origin, which
    continuous aggregates accept from TimescaleDB 2.15.
    """
    interval = sql_literal(every, t.DURATION)
    arguments: list[exp.Expression] = [interval, column]
    if dt.timedelta(days=1) % every:
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        arguments.append(sql_literal(epoch, t.TIMESTAMP))
    return exp.Anonymous(this="time_bucket", expressions=arguments)


def continuous_aggregate(
    pipeline: ir.PipelineIR, source_table: str
) -> ContinuousAggregateSpec | None:
    """The TimescaleDB continuous aggregate of an `aggregate` pipeline over a stored one.

    Only when the aggregation is the pipeline's first step (filters before it are folded
    into the view's WHERE); otherwise the runtime computes it from batches.
    """
    filters: list[exp.Expression] = []
    exprs = SqlExprs("postgres")
    for step in pipeline.steps:
        if isinstance(step, ir.Filter):
            try:
                filters.append(exprs.lower(step.condition))
            except (LoweringUnsupported, SqlLoweringError):
                return None
            continue
        if not isinstance(step, ir.Aggregate):
            return None
        if pipeline.persist is None:
            return None
        bucket = time_bucket(step.every, _col(step.time))
        keys = [bucket.as_("bucket", quoted=True), *(_col(k) for k in step.by)]
        try:
            aggregations = [exprs.lower(e).as_(n, quoted=True) for n, e in step.aggregations]
        except (LoweringUnsupported, SqlLoweringError):
            return None  # not expressible in a continuous aggregate: computed by the runtime
        select = exp.select(*keys, *aggregations).from_(
            exp.to_identifier(source_table, quoted=True)
        )
        for condition in filters:
            select = select.where(condition)
        select = select.group_by(*(exp.Literal.number(i + 1) for i in range(len(keys))))
        return ContinuousAggregateSpec(
            name=pipeline.persist.table,
            source_table=source_table,
            bucket=step.every,
            select=select,
            start_offset=None,
            end_offset=step.every,
            schedule_interval=step.every,
        )
    return None
