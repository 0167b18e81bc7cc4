"""Time functions: parsing, formatting, truncating and taking apart timestamps and dates.

A Flow timestamp is an instant in UTC with microsecond precision. Formats are strftime
patterns over a fixed set of codes (`%Y %m %d %H %M %S %f %j %b %B %a %A %y %I %p %z %Z`,
see `_time_lowering.FORMAT_CODES`); a call with another code is refused when it is
compiled, and so is a format that is not a string literal, because Polars needs the
pattern when the plan is built. How each function is lowered:

- Parsing is exact, so that Polars (chrono), DuckDB and PostgreSQL accept the same texts:
  without a format, ISO 8601 as `_time_lowering.ISO_TIMESTAMP` spells it out (years 1000
  to 9999, a `T` or a blank, seconds and a fraction optional, `Z`/`+HH`/`+HHMM`/`+HH:MM`
  or no offset for UTC; digits past the microsecond are cut off); with a format, each
  code matches exactly what it writes (`%d` two digits, `%b` `Jan`). Anything else, and
  dates that do not exist, give null. PostgreSQL parses only ISO 8601, and its pattern
  (`ISO_TIMESTAMP_VALID`) checks the day too, leap years included, since its cast raises
  an error for `2026-02-30`; its `to_timestamp` raises where Flow gives null, so a format
  there is refused.
- Formatting writes UTC; `%z` writes `+0000` and `%Z` `UTC` in every engine (DuckDB would
  write `+00` and nothing). A date's format cannot use time-of-day codes.
- Calendar and clock fields are taken in UTC (`t AT TIME ZONE 'UTC'` in SQL, whatever the
  session's time zone); `weekday` is ISO (Monday 1, Sunday 7).
- `truncate_timestamp` needs a literal, positive width; buckets are aligned to the Unix
  epoch in UTC for every width, also those that do not divide a day (7h, 7d): Polars
  `dt.truncate`, DuckDB `time_bucket` and PostgreSQL `date_bin` with the epoch as origin.
- Epoch conversions round down (`floor`, also before 1970); a fractional count of seconds
  is rounded to the nearest microsecond, halves to even, as DuckDB's and PostgreSQL's
  `to_timestamp` do.
- `to_timezone` needs a literal IANA zone name, checked when compiling.
- `now()` is lowered by the compiler (the batch's time); its lowerings here only refuse.
"""

from collections.abc import Callable, Sequence

import sqlglot.expressions as exp

from flowc.dsl.types import Kind
from flowc.stdlib.functions import _time_lowering as tl
from flowc.stdlib.lowering import LoweringUnsupported, PolarsArg, SqlArg, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "time",
    "Time",
    "Timestamps are UTC instants with microsecond precision. Formats are strftime patterns "
    "such as `%Y-%m-%d %H:%M`, written as string literals, with the codes `%Y` (year), `%m` "
    "and `%d` (month and day, two digits), `%j` (day of the year), `%b`/`%B` (`Mar`/`March`), "
    "`%H`, `%I`, `%p` (`AM`/`PM`), `%M`, `%S`, `%f` (microseconds, six digits), `%z` "
    "(offset; written `+0000`), and for writing only `%a`/`%A` (`Sun`/`Sunday`), `%y` and "
    "`%Z` (`UTC`); `%%` is a `%`. Parsing is exact: each code reads just what it writes "
    "(`%d` two digits), and text that does not match, or names a day that does not exist, "
    "gives null. Without a format, parsing expects ISO 8601.",
)
_T = Param("t", "timestamp", "the instant")


# ---- lowering helpers ----

_TS = 'pl.Datetime("us", "UTC")'
_POLARS_NULL_CASTS = {
    "timestamp": _TS,
    "date": "pl.Date",
    "str": "pl.String",
    "duration": 'pl.Duration("us")',
    "num": "pl.Float64",
    "int": "pl.Int64",
}
_SQL_NULL_CASTS = {
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "str": "TEXT",
    "duration": "INTERVAL",
    "num": "DOUBLE",
    "int": "BIGINT",
}
_UTC = exp.Literal.string("UTC")
_EPOCH = exp.cast(exp.Literal.string("1970-01-01 00:00:00+00"), exp.DataType.build("TIMESTAMPTZ"))


def _p(arg: PolarsArg, kind: str) -> str:
    """An argument's Polars source; a bare `null` is given the parameter's dtype first."""
    return (
        f"{arg.code}.cast({_POLARS_NULL_CASTS[kind]})" if arg.type.kind is Kind.NULL else arg.code
    )


def _s(arg: SqlArg, kind: str) -> exp.Expression:
    """An argument's SQL; a bare `NULL` is given the parameter's type first."""
    if arg.type.kind is Kind.NULL:
        return exp.cast(arg.expr, exp.DataType.build(_SQL_NULL_CASTS[kind]))
    return _wrap(arg.expr)


def _wrap(expr: exp.Expression) -> exp.Expression:
    """`expr` in parentheses unless it is atomic, so that `AT TIME ZONE` binds to all of it."""
    if isinstance(expr, exp.Column | exp.Literal | exp.Func | exp.Paren | exp.Interval):
        return expr
    return exp.paren(expr, copy=False)


def _utc(expr: exp.Expression) -> exp.Expression:
    """A TIMESTAMPTZ as the UTC wall-clock TIMESTAMP: fields and formats are read in UTC."""
    return exp.AtTimeZone(this=expr, zone=_UTC.copy())


def _as_utc(expr: exp.Expression) -> exp.Expression:
    """A TIMESTAMP (UTC wall-clock time) as the TIMESTAMPTZ instant it stands for."""
    return exp.AtTimeZone(this=_wrap(expr), zone=_UTC.copy())


def _bigint(expr: exp.Expression) -> exp.Expression:
    return exp.cast(expr, exp.DataType.build("BIGINT"))


def _now_polars(args: Sequence[PolarsArg], target: Target) -> str:
    """Never called: the compiler lowers `now()` to the batch's time itself."""
    raise LoweringUnsupported("now() is lowered by the compiler, as the batch's time")


def _now_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    raise LoweringUnsupported("now() is lowered by the compiler, as the batch's time")


def _parse_timestamp_polars(args: Sequence[PolarsArg], target: Target) -> str:
    s = _p(args[0], "str")
    if len(args) == 1:
        normal = (
            f"{s}.str.replace(' ', 'T', literal=True)"
            f".str.replace({tl.ISO_NO_SECONDS!r}, '${{1}}:00${{2}}')"
            f".str.replace({tl.ISO_NO_OFFSET!r}, '${{1}}Z')"
        )
        parsed = f"{normal}.str.strptime({_TS}, '%Y-%m-%dT%H:%M:%S%.f%#z', strict=False)"
        return f"pl.when({s}.str.contains({tl.ISO_TIMESTAMP!r})).then({parsed})"
    fmt = tl.input_format(args[1], "parse_timestamp", date=False)
    parsed = f"{s}.str.strptime({_TS}, {fmt.chrono(parsing=True)!r}, strict=False)"
    return f"pl.when({s}.str.contains({fmt.regex!r})).then({parsed})"


def _parse_timestamp_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    s = _s(args[0], "str")
    if len(args) == 1:
        # Cut digits past the microsecond (PostgreSQL would round them), and give a text
        # without offset `+00:00`, so that no engine reads it in the session's time zone.
        text = exp.RegexpReplace(
            this=s.copy(),
            expression=exp.Literal.string(tl.ISO_SUBMICROS),
            replacement=exp.Literal.string("\\1"),
        )
        text = exp.RegexpReplace(
            this=text,
            expression=exp.Literal.string(tl.ISO_NO_OFFSET),
            replacement=exp.Literal.string("\\1+00:00"),
        )
        value = exp.TryCast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
        iso = tl.ISO_TIMESTAMP if target.dialect == "duckdb" else tl.ISO_TIMESTAMP_VALID
        matches = exp.RegexpLike(this=s, expression=exp.Literal.string(iso))
        return exp.Case().when(matches, value)
    if target.dialect != "duckdb":
        raise LoweringUnsupported(
            "`parse_timestamp` with a format has no PostgreSQL lowering: its to_timestamp "
            "raises an error where Flow gives null; parse ISO 8601 text (no format) instead"
        )
    fmt = tl.input_format(args[1], "parse_timestamp", date=False)
    parsed: exp.Expression = exp.Anonymous(
        this="TRY_STRPTIME", expressions=[s.copy(), exp.Literal.string(fmt.duckdb(parsing=True))]
    )
    if "z" not in fmt.codes:
        parsed = _as_utc(parsed)  # without %z, DuckDB gives a TIMESTAMP: it is UTC
    matches = exp.RegexpLike(this=s, expression=exp.Literal.string(fmt.regex))
    return exp.Case().when(matches, parsed)


def _parse_date_polars(args: Sequence[PolarsArg], target: Target) -> str:
    s = _p(args[0], "str")
    if len(args) == 1:
        regex, chrono = tl.ISO_DATE, "%Y-%m-%d"
    else:
        fmt = tl.input_format(args[1], "parse_date", date=True)
        regex, chrono = fmt.regex, fmt.chrono(parsing=True)
    parsed = f"{s}.str.strptime(pl.Date, {chrono!r}, strict=False)"
    return f"pl.when({s}.str.contains({regex!r})).then({parsed})"


def _parse_date_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    s = _s(args[0], "str")
    date = exp.DataType.build("DATE")
    if len(args) == 1:
        iso = tl.ISO_DATE if target.dialect == "duckdb" else tl.ISO_DATE_VALID
        matches = exp.RegexpLike(this=s.copy(), expression=exp.Literal.string(iso))
        return exp.Case().when(matches, exp.TryCast(this=s, to=date))
    if target.dialect != "duckdb":
        raise LoweringUnsupported(
            "`parse_date` with a format has no PostgreSQL lowering: its to_date raises an "
            "error where Flow gives null; parse ISO 8601 text (no format) instead"
        )
    fmt = tl.input_format(args[1], "parse_date", date=True)
    parsed = exp.Anonymous(
        this="TRY_STRPTIME", expressions=[s.copy(), exp.Literal.string(fmt.duckdb(parsing=True))]
    )
    matches = exp.RegexpLike(this=s, expression=exp.Literal.string(fmt.regex))
    return exp.Case().when(matches, exp.cast(parsed, date))


def _format_polars(kind: str, function: str) -> Callable[[Sequence[PolarsArg], Target], str]:
    def lower(args: Sequence[PolarsArg], target: Target) -> str:
        fmt = tl.output_format(args[1], function, date=kind == "date")
        return f"{_p(args[0], kind)}.dt.strftime({fmt.chrono(parsing=False)!r})"

    return lower


def _format_sql(kind: str, function: str) -> Callable[[Sequence[SqlArg], Target], exp.Expression]:
    def lower(args: Sequence[SqlArg], target: Target) -> exp.Expression:
        fmt = tl.output_format(args[1], function, date=kind == "date")
        value = _s(args[0], kind)
        if kind == "timestamp":
            value = _utc(value)
        if target.dialect == "duckdb":
            return exp.TimeToStr(this=value, format=exp.Literal.string(fmt.duckdb(parsing=False)))
        if kind == "date":
            value = exp.cast(value, exp.DataType.build("TIMESTAMP"))
        return exp.ToChar(this=value, format=exp.Literal.string(fmt.postgres))

    return lower


def _truncate_polars(args: Sequence[PolarsArg], target: Target) -> str:
    every = tl.polars_every(tl.positive_micros(args, "truncate_timestamp"))
    return f"{_p(args[0], 'timestamp')}.dt.truncate({every!r})"


def _truncate_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    tl.positive_micros(args, "truncate_timestamp")
    # DuckDB's time_bucket and PostgreSQL's date_bin, both from the epoch.
    return exp.DateBin(this=args[1].expr, expression=_s(args[0], "timestamp"), origin=_EPOCH.copy())


def _part_polars(method: str) -> Callable[[Sequence[PolarsArg], Target], str]:
    return lambda a, _: f"{_p(a[0], 'timestamp')}.dt.{method}().cast(pl.Int64)"


def _part_sql(field: str) -> Callable[[Sequence[SqlArg], Target], exp.Expression]:
    def lower(args: Sequence[SqlArg], target: Target) -> exp.Expression:
        value: exp.Expression = exp.Extract(
            this=exp.var(field), expression=_utc(_s(args[0], "timestamp"))
        )
        # PostgreSQL's second has a fraction, and its cast to an integer would round it.
        if field == "SECOND":
            value = exp.Floor(this=value)
        return _bigint(value)

    return lower


def _epoch_millis_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    t = _s(args[0], "timestamp")
    if target.dialect == "duckdb":
        # epoch_ms rounds to the nearest millisecond; microseconds divided exactly do not.
        micros = exp.Div(this=exp.UnixMicros(this=t), expression=exp.Literal.number(1000))
        return _bigint(exp.Floor(this=micros))
    # PostgreSQL's epoch is an exact NUMERIC (DuckDB's a DOUBLE, too coarse to scale).
    millis = exp.Mul(
        this=exp.Extract(this=exp.var("EPOCH"), expression=_utc(t)),
        expression=exp.Literal.number(1000),
    )
    return _bigint(exp.Floor(this=millis))


def _from_epoch_seconds_polars(args: Sequence[PolarsArg], target: Target) -> str:
    n = args[0]
    if n.type.kind is Kind.INT:
        return f"pl.from_epoch({n.code}, time_unit='s').dt.replace_time_zone('UTC')"
    micros = f"({_p(n, 'num')} * 1_000_000).round().cast(pl.Int64)"  # halves to even
    return f"pl.from_epoch({micros}, time_unit='us').dt.replace_time_zone('UTC')"


def _from_epoch_millis_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    n = _s(args[0], "int")
    if target.dialect == "duckdb":
        return _as_utc(exp.Anonymous(this="EPOCH_MS", expressions=[n]))  # a TIMESTAMP
    seconds = exp.Div(this=n, expression=exp.Literal.number("1000.0"))
    return exp.UnixToTime(this=seconds)


def _to_timezone_polars(args: Sequence[PolarsArg], target: Target) -> str:
    zone = tl.time_zone(args[1], "to_timezone")
    t = _p(args[0], "timestamp")
    return f"{t}.dt.convert_time_zone({zone!r}).dt.replace_time_zone('UTC')"


def _to_timezone_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    zone = tl.time_zone(args[1], "to_timezone")
    wall = exp.AtTimeZone(this=_s(args[0], "timestamp"), zone=exp.Literal.string(zone))
    return _as_utc(exp.paren(wall, copy=False))


def _duration_seconds_polars(args: Sequence[PolarsArg], target: Target) -> str:
    n = args[0]
    if n.type.kind is Kind.INT:
        return f"({n.code} * 1_000_000).cast(pl.Duration('us'))"
    micros = f"({_p(n, 'num')} * 1_000_000).round().cast(pl.Int64)"  # halves to even
    return f"{micros}.cast(pl.Duration('us'))"


def _duration_seconds_sql(args: Sequence[SqlArg], target: Target) -> exp.Expression:
    second = exp.Interval(this=exp.Literal.string("1"), unit=exp.var("SECOND"))
    return exp.Mul(this=_s(args[0], "num"), expression=second)


_NOON = "@2026-03-15T12:34:56Z"  # a Sunday, the 74th day of 2026


def _part(
    name: str, what: str, result: str, why: str, method: str, field: str, *more: Example
) -> Function:
    """A calendar or clock field of a timestamp in UTC: Polars `dt.<method>`, SQL EXTRACT."""
    return Function(
        name=name,
        category="time",
        params=(_T,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc=f"The {what} of a timestamp in UTC, {why}.",
        examples=(Example(f"{name}({_NOON})", result), *more),
        polars=_part_polars(method),
        sql=_part_sql(field),
    )


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="now",
        category="time",
        params=(),
        returns="timestamp",
        nulls=Nulls.NEVER,
        doc="The current instant, taken once per batch so that all its records agree.",
        examples=(Example("now() > @2026-01-01T00:00:00Z", "true"),),
        # The compiler lowers `now()` itself (to the batch's time); these only refuse.
        polars=_now_polars,
        sql=_now_sql,
    ),
    Function(
        name="parse_timestamp",
        category="time",
        params=(
            Param("s", "str", "the text to parse"),
            Param("format", "str", "a strftime pattern; ISO 8601 if left out", True),
        ),
        returns="timestamp",
        nulls=Nulls.FALLIBLE,
        doc="Parses text into a timestamp, taking a time without offset as UTC and converting "
        "one with an offset to UTC; null when the text does not match exactly. ISO 8601 is "
        "`2026-01-31T12:00` with `T` or a blank, optional seconds and fraction, and `Z`, "
        "`+02`, `+0200`, `+02:00` or no offset.",
        examples=(
            Example('parse_timestamp("2026-01-01T12:00:00Z")', "@2026-01-01T12:00:00Z"),
            Example('parse_timestamp("2026-01-01T14:00:00+02:00")', "@2026-01-01T12:00:00Z"),
            Example('parse_timestamp("2026-01-01 07:00-05")', "@2026-01-01T12:00:00Z"),
            Example(
                'parse_timestamp("2026-01-01T12:00:00.1234567")', "@2026-01-01T12:00:00.123456Z"
            ),
            Example(
                'parse_timestamp("01/02/2026 08:30", "%d/%m/%Y %H:%M")', "@2026-02-01T08:30:00Z"
            ),
            Example(
                'parse_timestamp("15 Mar 2026 01:05 PM +0100", "%d %b %Y %I:%M %p %z")',
                "@2026-03-15T12:05:00Z",
            ),
            Example('parse_timestamp("yesterday")', "null"),
            Example('parse_timestamp("2026-02-29T12:00:00Z")', "null"),
            Example('parse_timestamp("1/2/2026 08:30", "%d/%m/%Y %H:%M")', "null"),
            Example("parse_timestamp(null)", "null"),
        ),
        polars=_parse_timestamp_polars,
        sql=_parse_timestamp_sql,
    ),
    Function(
        name="parse_date",
        category="time",
        params=(
            Param("s", "str", "the text to parse"),
            Param("format", "str", "a strftime pattern; ISO 8601 (`2026-01-31`) if left out", True),
        ),
        returns="date",
        nulls=Nulls.FALLIBLE,
        doc="Parses text into a date; null when the text does not match exactly or names a day "
        "that does not exist.",
        examples=(
            Example('parse_date("2026-03-15")', "@2026-03-15"),
            Example('parse_date("15.03.2026", "%d.%m.%Y")', "@2026-03-15"),
            Example('parse_date("2024-02-29")', "@2024-02-29"),
            Example('parse_date("2026-02-29")', "null"),
            Example('parse_date("31.04.2026", "%d.%m.%Y")', "null"),
            Example('parse_date(" 2026-03-15")', "null"),
        ),
        polars=_parse_date_polars,
        sql=_parse_date_sql,
    ),
    Function(
        name="format_timestamp",
        category="time",
        params=(_T, Param("format", "str", "a strftime pattern")),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Formats a timestamp as text in UTC, for labels and file names.",
        examples=(
            Example(f'format_timestamp({_NOON}, "%Y-%m-%d %H:%M")', '"2026-03-15 12:34"'),
            Example(
                'format_timestamp(@2026-03-15T08:05:09.25Z, "%a %d %B %I:%M:%S.%f %p %z %Z %%")',
                '"Sun 15 March 08:05:09.250000 AM +0000 UTC %"',
            ),
        ),
        polars=_format_polars("timestamp", "format_timestamp"),
        sql=_format_sql("timestamp", "format_timestamp"),
    ),
    Function(
        name="format_date",
        category="time",
        params=(Param("d", "date", "the date"), Param("format", "str", "a strftime pattern")),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Formats a date as text, for labels and partition names.",
        examples=(
            Example('format_date(@2026-03-15, "%d.%m.%Y")', '"15.03.2026"'),
            Example(
                'format_date(@2026-03-05, "%A, %b %d %y (day %j)")',
                '"Thursday, Mar 05 26 (day 064)"',
            ),
        ),
        polars=_format_polars("date", "format_date"),
        sql=_format_sql("date", "format_date"),
    ),
    Function(
        name="truncate_timestamp",
        category="time",
        params=(_T, Param("every", "duration", "the bucket width, such as 15m or 1d")),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="Rounds a timestamp down to the start of its bucket, buckets aligned to the Unix "
        "epoch (1970-01-01T00:00:00Z) whatever their width; the bucket of `aggregate every`.",
        examples=(
            Example(f"truncate_timestamp({_NOON}, 1h)", "@2026-03-15T12:00:00Z"),
            Example(f"truncate_timestamp({_NOON}, 15m)", "@2026-03-15T12:30:00Z"),
            Example(f"truncate_timestamp({_NOON}, 1d)", "@2026-03-15T00:00:00Z"),
            Example(f"truncate_timestamp({_NOON}, 7h)", "@2026-03-15T12:00:00Z"),
            Example(f"truncate_timestamp({_NOON}, 7d)", "@2026-03-12T00:00:00Z"),
            Example("truncate_timestamp(@1969-12-31T23:00:00Z, 7h)", "@1969-12-31T17:00:00Z"),
        ),
        polars=_truncate_polars,
        sql=_truncate_sql,
    ),
    _part(
        "year",
        "year",
        "2026",
        "to group by year",
        "year",
        "YEAR",
        Example("year(@2026-12-31T23:30:00Z)", "2026"),
    ),
    _part("month", "month (1 to 12)", "3", "for monthly reports", "month", "MONTH"),
    _part("day", "day of the month (1 to 31)", "15", "for daily reports", "day", "DAY"),
    _part("hour", "hour (0 to 23)", "12", "to compare times of day", "hour", "HOUR"),
    _part("minute", "minute (0 to 59)", "34", "to compare times of day", "minute", "MINUTE"),
    _part(
        "second",
        "whole second (0 to 59)",
        "56",
        "to compare times of day",
        "second",
        "SECOND",
        Example("second(@2026-03-15T12:34:56.999Z)", "56"),
    ),
    _part(
        "weekday",
        "ISO weekday (Monday is 1, Sunday 7)",
        "7",
        "to tell weekends apart",
        "weekday",
        "ISODOW",
        Example("weekday(@2026-03-16T00:00:00Z)", "1"),
    ),
    _part(
        "day_of_year",
        "day of the year (1 to 366)",
        "74",
        "for seasonal comparisons",
        "ordinal_day",
        "DOY",
        Example("day_of_year(@2024-12-31T12:00:00Z)", "366"),
    ),
    Function(
        name="to_date",
        category="time",
        params=(_T,),
        returns="date",
        nulls=Nulls.PROPAGATE,
        doc="The calendar date of a timestamp in UTC, dropping the time of day.",
        examples=(Example("to_date(@2026-03-15T23:59:00Z)", "@2026-03-15"),),
        polars=lambda a, _: f"{_p(a[0], 'timestamp')}.dt.date()",
        sql=lambda a, _: exp.cast(_utc(_s(a[0], "timestamp")), exp.DataType.build("DATE")),
    ),
    Function(
        name="to_timestamp",
        category="time",
        params=(Param("d", "date", "the date"),),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="The instant a date starts (midnight UTC), to compare dates with timestamps.",
        examples=(Example("to_timestamp(@2026-03-15)", "@2026-03-15T00:00:00Z"),),
        polars=lambda a, _: f"{_p(a[0], 'date')}.cast({_TS})",
        sql=lambda a, _: _as_utc(exp.cast(_s(a[0], "date"), exp.DataType.build("TIMESTAMP"))),
    ),
    Function(
        name="epoch_seconds",
        category="time",
        params=(_T,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="Whole seconds since 1970-01-01T00:00:00Z (rounded down), as many APIs expect.",
        examples=(
            Example("epoch_seconds(@2026-01-01T00:00:00Z)", "1767225600"),
            Example("epoch_seconds(@1969-12-31T23:59:59.5Z)", "-1"),
        ),
        polars=lambda a, _: f"{_p(a[0], 'timestamp')}.dt.epoch('s')",
        sql=lambda a, _: _bigint(
            exp.Floor(
                this=exp.Extract(this=exp.var("EPOCH"), expression=_utc(_s(a[0], "timestamp")))
            )
        ),
    ),
    Function(
        name="epoch_millis",
        category="time",
        params=(_T,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="Whole milliseconds since 1970-01-01T00:00:00Z (rounded down), as JavaScript uses.",
        examples=(
            Example("epoch_millis(@2026-01-01T00:00:00.250Z)", "1767225600250"),
            Example("epoch_millis(@2026-01-01T00:00:00.123999Z)", "1767225600123"),
            Example("epoch_millis(@1969-12-31T23:59:59.9995Z)", "-1"),
        ),
        polars=lambda a, _: f"{_p(a[0], 'timestamp')}.dt.epoch('ms')",
        sql=_epoch_millis_sql,
    ),
    Function(
        name="from_epoch_seconds",
        category="time",
        params=(Param("n", "num", "seconds since the epoch; a fraction keeps sub-seconds"),),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="The timestamp a count of seconds since 1970-01-01T00:00:00Z stands for, to the "
        "nearest microsecond.",
        examples=(
            Example("from_epoch_seconds(1767225600)", "@2026-01-01T00:00:00Z"),
            Example("from_epoch_seconds(1767225600.5)", "@2026-01-01T00:00:00.5Z"),
            Example("from_epoch_seconds(-1.25)", "@1969-12-31T23:59:58.75Z"),
        ),
        polars=_from_epoch_seconds_polars,
        sql=lambda a, _: exp.UnixToTime(this=_s(a[0], "num")),
    ),
    Function(
        name="from_epoch_millis",
        category="time",
        params=(Param("n", "int", "milliseconds since the epoch"),),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="The timestamp a count of milliseconds since 1970-01-01T00:00:00Z stands for.",
        examples=(
            Example("from_epoch_millis(1767225600250)", "@2026-01-01T00:00:00.250Z"),
            Example("from_epoch_millis(-1)", "@1969-12-31T23:59:59.999Z"),
        ),
        polars=lambda a, _: (
            f"pl.from_epoch({_p(a[0], 'int')}, time_unit='ms').dt.replace_time_zone('UTC')"
            ".dt.cast_time_unit('us')"
        ),
        sql=_from_epoch_millis_sql,
    ),
    Function(
        name="to_timezone",
        category="time",
        params=(_T, Param("tz", "str", 'an IANA time zone such as "Europe/Berlin", a literal')),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="Shifts a timestamp to the wall-clock time of a zone, still written as UTC: use it "
        "for display and calendar fields (`hour(to_timezone(t, tz))`), never to store instants.",
        examples=(
            Example('to_timezone(@2026-01-01T12:00:00Z, "Europe/Berlin")', "@2026-01-01T13:00:00Z"),
            Example('to_timezone(@2026-07-01T12:00:00Z, "Europe/Berlin")', "@2026-07-01T14:00:00Z"),
            # New York's clocks go from 02:00 EST to 03:00 EDT at 07:00 UTC that day.
            Example(
                'to_timezone(@2026-03-08T06:59:00Z, "America/New_York")', "@2026-03-08T01:59:00Z"
            ),
            Example(
                'to_timezone(@2026-03-08T07:00:00Z, "America/New_York")', "@2026-03-08T03:00:00Z"
            ),
            Example('hour(to_timezone(@2026-10-25T00:30:00Z, "Europe/Berlin"))', "2"),
            Example('hour(to_timezone(@2026-10-25T01:30:00Z, "Europe/Berlin"))', "2"),
        ),
        polars=_to_timezone_polars,
        sql=_to_timezone_sql,
    ),
    Function(
        name="seconds",
        category="time",
        params=(Param("d", "duration", "the duration"),),
        returns="float",
        nulls=Nulls.PROPAGATE,
        doc="The length of a duration in seconds, to compute rates such as events per second.",
        examples=(
            Example("seconds(90s)", "90.0"),
            Example("seconds(1500ms)", "1.5"),
            Example("seconds(2d)", "172800.0"),
        ),
        polars=lambda a, _: f"({_p(a[0], 'duration')}.dt.total_microseconds() / 1_000_000)",
        sql=lambda a, _: exp.cast(
            exp.Extract(this=exp.var("EPOCH"), expression=_s(a[0], "duration")),
            exp.DataType.build("DOUBLE"),
        ),
    ),
    Function(
        name="duration_seconds",
        category="time",
        params=(Param("n", "num", "a number of seconds; a fraction keeps sub-seconds"),),
        returns="duration",
        nulls=Nulls.PROPAGATE,
        doc="The duration of a number of seconds (to the nearest microsecond), for durations "
        "computed from data.",
        examples=(
            Example("duration_seconds(90)", "90s"),
            Example("duration_seconds(1.5)", "1500ms"),
            Example("duration_seconds(90000)", "25h"),
            Example("duration_seconds(0.25)", "250ms"),
        ),
        polars=_duration_seconds_polars,
        sql=_duration_seconds_sql,
    ),
)
