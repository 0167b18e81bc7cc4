"""The TimescaleDB-only statements: hypertable, compression, retention, continuous aggregates.

sqlglot has no nodes for TimescaleDB's functions and options, so these statements live in
jinja2 templates (`templates/*.sql.j2`). Every value a template prints goes through a
filter that quotes it with sqlglot, so a table called `order` or `Readings` is as safe
here as in the sqlglot-built statements.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import jinja2
import sqlglot.expressions as exp

from flowc.compiler.sql.spec import ContinuousAggregateSpec, TableSpec

_PG = "postgres"

# Largest first: an interval is written in the largest unit that divides it exactly.
_UNITS: tuple[tuple[str, int], ...] = (
    ("day", 86_400_000_000),
    ("hour", 3_600_000_000),
    ("minute", 60_000_000),
    ("second", 1_000_000),
    ("millisecond", 1_000),
    ("microsecond", 1),
)


def interval_text(delta: dt.timedelta) -> str:
    """The canonical text of a duration: '1 day', '90 days', '30 minutes', '500 milliseconds'.

    One unit, the largest that divides the duration exactly, so that equal durations
    always render alike (golden files, and TimescaleDB's `if_not_exists` comparisons).
    """
    micros = delta // dt.timedelta(microseconds=1)
    if micros <= 0:
        raise ValueError(f"an interval must be positive, not {delta}")
    for unit, size in _UNITS:
        if micros % size == 0:
            count = micros // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable: the microsecond divides everything")


def interval_sql(delta: dt.timedelta | None) -> str:
    """`INTERVAL '1 day'`, or `NULL` for an open end (a refresh window's start)."""
    if delta is None:
        return exp.null().sql(_PG)
    return exp.Interval(this=exp.Literal.string(interval_text(delta))).sql(_PG)


def quote_ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(_PG)


def quote_literal(text: str) -> str:
    return exp.Literal.string(text).sql(_PG)


def regclass(name: str) -> str:
    """A relation passed to a REGCLASS parameter: text holding the quoted identifier.

    PostgreSQL parses the text as an identifier, so without the inner quotes a table
    called `Readings` would be looked up as `readings`.
    """
    return quote_literal(quote_ident(name))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("flowc.compiler.sql", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # SQL, not HTML: quoting is the filters' job
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ident=quote_ident,
        literal=quote_literal,
        regclass=regclass,
        # A NAME parameter takes the column's exact name; no identifier quoting inside.
        name=quote_literal,
        interval=interval_sql,
    )
    return env


def _render(template: str, macro: str, *args: object) -> str:
    """Call one macro of a template: each macro renders one statement."""
    return str(getattr(_environment().get_template(template).module, macro)(*args))


def hypertable_statements(spec: TableSpec) -> list[str]:
    """create_hypertable, then compression and retention when the spec asks for them.

    Compression is only switched on with a policy (`compress_after`): enabling it without
    one compresses nothing and still forbids changing a column's type later. Segment by the
    key's non-time columns (rows of one series compress together, and TimescaleDB wants a
    unique index's columns to be segment-by or order-by columns); order by time, newest
    first, as queries read it.
    """
    tpl = "timescale.sql.j2"
    statements = [_render(tpl, "create_hypertable", spec.name, spec.time, spec.chunk)]
    if spec.compress_after is not None:
        segmentby = ", ".join(
            exp.column(c, quoted=True).sql(_PG) for c in spec.key if c != spec.time
        )
        orderby = exp.Ordered(this=exp.column(spec.time, quoted=True), desc=True, nulls_first=True)
        statements.append(
            _render(tpl, "enable_compression", spec.name, segmentby, orderby.sql(_PG))
        )
        statements.append(_render(tpl, "add_compression_policy", spec.name, spec.compress_after))
    if spec.retention is not None:
        statements.append(_render(tpl, "add_retention_policy", spec.name, spec.retention))
    return statements


def continuous_aggregate_statements(spec: ContinuousAggregateSpec) -> list[str]:
    """The view (its query rendered by sqlglot) and its refresh policy."""
    select = spec.select.sql(dialect=_PG, identify=True, pretty=True, normalize_functions="lower")
    tpl = "continuous_aggregate.sql.j2"
    policy = (spec.start_offset, spec.end_offset, spec.schedule_interval)
    return [
        _render(tpl, "create_view", spec.name, select),
        _render(tpl, "add_policy", spec.name, *policy),
    ]


def render_continuous_aggregate(spec: ContinuousAggregateSpec) -> str:
    """The whole script for a continuous aggregate, statements ending with `;`."""
    return ";\n\n".join(continuous_aggregate_statements(spec)) + ";\n"
