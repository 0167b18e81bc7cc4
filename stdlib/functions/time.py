"""Time functions: parsing, formatting, truncating and taking apart timestamps and dates.

A Flow timestamp is an instant in UTC with microsecond precision. Formats are strftime
patterns (`%Y-%m-%d %H:%M:%S`), which the SQL back ends translate; without a format,
parsing expects ISO 8601.
"""

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "time",
    "Time",
    "Timestamps are UTC instants with microsecond precision. Formats are strftime patterns "
    "such as `%Y-%m-%d %H:%M`; without one, parsing expects ISO 8601.",
)
_T = Param("t", "timestamp", "the instant")
_NOON = "@2026-03-15T12:34:56Z"  # a Sunday, the 74th day of 2026


def _part(name: str, what: str, result: str, why: str) -> Function:
    """A calendar or clock field of a timestamp; these differ only in their docs."""
    return Function(
        name=name,
        category="time",
        params=(_T,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc=f"The {what} of a timestamp in UTC, {why}.",
        examples=(Example(f"{name}({_NOON})", result),),
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
        "one with an offset to UTC; null when the text does not match.",
        examples=(
            Example('parse_timestamp("2026-01-01T12:00:00Z")', "@2026-01-01T12:00:00Z"),
            Example('parse_timestamp("2026-01-01T14:00:00+02:00")', "@2026-01-01T12:00:00Z"),
            Example(
                'parse_timestamp("01/02/2026 08:30", "%d/%m/%Y %H:%M")', "@2026-02-01T08:30:00Z"
            ),
            Example('parse_timestamp("yesterday")', "null"),
        ),
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
        doc="Parses text into a date; null when the text does not match.",
        examples=(
            Example('parse_date("2026-03-15")', "@2026-03-15"),
            Example('parse_date("15.03.2026", "%d.%m.%Y")', "@2026-03-15"),
        ),
    ),
    Function(
        name="format_timestamp",
        category="time",
        params=(_T, Param("format", "str", "a strftime pattern")),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Formats a timestamp as text in UTC, for labels and file names.",
        examples=(Example(f'format_timestamp({_NOON}, "%Y-%m-%d %H:%M")', '"2026-03-15 12:34"'),),
    ),
    Function(
        name="format_date",
        category="time",
        params=(Param("d", "date", "the date"), Param("format", "str", "a strftime pattern")),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Formats a date as text, for labels and partition names.",
        examples=(Example('format_date(@2026-03-15, "%d.%m.%Y")', '"15.03.2026"'),),
    ),
    Function(
        name="truncate_timestamp",
        category="time",
        params=(_T, Param("every", "duration", "the bucket width, such as 15m or 1d")),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="Rounds a timestamp down to the start of its bucket, buckets aligned to the Unix "
        "epoch; the bucket of `aggregate every`.",
        examples=(
            Example(f"truncate_timestamp({_NOON}, 1h)", "@2026-03-15T12:00:00Z"),
            Example(f"truncate_timestamp({_NOON}, 15m)", "@2026-03-15T12:30:00Z"),
            Example(f"truncate_timestamp({_NOON}, 1d)", "@2026-03-15T00:00:00Z"),
        ),
    ),
    _part("year", "year", "2026", "to group by year"),
    _part("month", "month (1 to 12)", "3", "for monthly reports"),
    _part("day", "day of the month (1 to 31)", "15", "for daily reports"),
    _part("hour", "hour (0 to 23)", "12", "to compare times of day"),
    _part("minute", "minute (0 to 59)", "34", "to compare times of day"),
    _part("second", "whole second (0 to 59)", "56", "to compare times of day"),
    _part("weekday", "ISO weekday (Monday is 1, Sunday 7)", "7", "to tell weekends apart"),
    _part("day_of_year", "day of the year (1 to 366)", "74", "for seasonal comparisons"),
    Function(
        name="to_date",
        category="time",
        params=(_T,),
        returns="date",
        nulls=Nulls.PROPAGATE,
        doc="The calendar date of a timestamp in UTC, dropping the time of day.",
        examples=(Example("to_date(@2026-03-15T23:59:00Z)", "@2026-03-15"),),
    ),
    Function(
        name="to_timestamp",
        category="time",
        params=(Param("d", "date", "the date"),),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="The instant a date starts (midnight UTC), to compare dates with timestamps.",
        examples=(Example("to_timestamp(@2026-03-15)", "@2026-03-15T00:00:00Z"),),
    ),
    Function(
        name="epoch_seconds",
        category="time",
        params=(_T,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="Whole seconds since 1970-01-01T00:00:00Z (rounded down), as many APIs expect.",
        examples=(Example("epoch_seconds(@2026-01-01T00:00:00Z)", "1767225600"),),
    ),
    Function(
        name="epoch_millis",
        category="time",
        params=(_T,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="Whole milliseconds since 1970-01-01T00:00:00Z (rounded down), as JavaScript uses.",
        examples=(Example("epoch_millis(@2026-01-01T00:00:00.250Z)", "1767225600250"),),
    ),
    Function(
        name="from_epoch_seconds",
        category="time",
        params=(Param("n", "num", "seconds since the epoch; a fraction keeps sub-seconds"),),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="The timestamp a count of seconds since 1970-01-01T00:00:00Z stands for.",
        examples=(
            Example("from_epoch_seconds(1767225600)", "@2026-01-01T00:00:00Z"),
            Example("from_epoch_seconds(1767225600.5)", "@2026-01-01T00:00:00.5Z"),
        ),
    ),
    Function(
        name="from_epoch_millis",
        category="time",
        params=(Param("n", "int", "milliseconds since the epoch"),),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="The timestamp a count of milliseconds since 1970-01-01T00:00:00Z stands for.",
        examples=(Example("from_epoch_millis(1767225600250)", "@2026-01-01T00:00:00.250Z"),),
    ),
    Function(
        name="to_timezone",
        category="time",
        params=(_T, Param("tz", "str", 'an IANA time zone such as "Europe/Berlin"')),
        returns="timestamp",
        nulls=Nulls.PROPAGATE,
        doc="Shifts a timestamp to the wall-clock time of a zone, still written as UTC: use it "
        "for display and calendar fields (`hour(to_timezone(t, tz))`), never to store instants.",
        examples=(
            Example('to_timezone(@2026-01-01T12:00:00Z, "Europe/Berlin")', "@2026-01-01T13:00:00Z"),
            Example('to_timezone(@2026-07-01T12:00:00Z, "Europe/Berlin")', "@2026-07-01T14:00:00Z"),
        ),
    ),
    Function(
        name="seconds",
        category="time",
        params=(Param("d", "duration", "the duration"),),
        returns="float",
        nulls=Nulls.PROPAGATE,
        doc="The length of a duration in seconds, to compute rates such as events per second.",
        examples=(Example("seconds(90s)", "90.0"), Example("seconds(1500ms)", "1.5")),
    ),
    Function(
        name="duration_seconds",
        category="time",
        params=(Param("n", "num", "a number of seconds; a fraction keeps sub-seconds"),),
        returns="duration",
        nulls=Nulls.PROPAGATE,
        doc="The duration of a number of seconds, for durations computed from data.",
        examples=(
            Example("duration_seconds(90)", "90s"),
            Example("duration_seconds(1.5)", "1500ms"),
        ),
    ),
)
