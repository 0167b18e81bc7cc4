"""How the time functions' formats and ISO 8601 text are lowered to Polars, DuckDB and SQL.

A Flow format is a strftime pattern over a fixed set of codes (`FORMAT_CODES`). Each
engine spells the codes its own way (Polars uses chrono, DuckDB its strftime, PostgreSQL
the `to_char` templates), and each is lenient in its own way when parsing: chrono takes
`2026-1-5` for `%Y-%m-%d` and skips leading blanks, and both take `mar` for `%b`. So that
every engine accepts exactly the same texts, parsing first matches the text against a
regular expression made from the format, in which each code matches only what it writes
(`%d` two digits, `%b` `Jan` to `Dec`); only a matching text reaches the engine's parser,
and a date that does not exist (`2026-02-30`) is null in every engine. The expressions
use `[0-9]` (never `\\d`, which is Unicode-aware in Rust) and only syntax that Rust's
regex, RE2 (DuckDB) and PostgreSQL's regular expressions read alike.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowc.stdlib.lowering import LoweringUnsupported, PolarsArg, SqlArg

Arg = PolarsArg | SqlArg

# ---- ISO 8601 ----

_YEAR = "[1-9][0-9]{3}"  # 1000 to 9999: every engine reads these alike
_LEAP_YEAR = (
    "(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])"  # divisible by 4, not a century
    "|(?:1[26]|[2468][048]|[3579][26])00)"  # centuries divisible by 400
)
_DATE_SHAPE = f"{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_DATE_VALID = (
    f"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    f"|{_LEAP_YEAR}-02-29)"
)
_TIME = "[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{1,9})?)?"
_OFFSET = "(?:Z|[+-](?:0[0-9]|1[0-5])(?::?[0-5][0-9])?)?"

ISO_DATE = f"^{_DATE_SHAPE}$"
"""What `parse_date` accepts without a format: `2026-03-15` (if that day exists)."""
ISO_TIMESTAMP = f"^{_DATE_SHAPE}{_TIME}{_OFFSET}$"
"""What `parse_timestamp` accepts without a format: a date, `T` or a blank, `HH:MM`, then
optionally `:SS` and a fraction of up to 9 digits (cut to microseconds), then optionally
`Z` or an offset `+HH`, `+HHMM` or `+HH:MM` (at most 15:59); no offset means UTC. Polars
and DuckDB give null for a day that does not exist (`2026-02-30`)."""
ISO_DATE_VALID = f"^{_DATE_VALID}$"
ISO_TIMESTAMP_VALID = f"^{_DATE_VALID}{_TIME}{_OFFSET}$"
"""The same, and only days that exist, leap years counted: PostgreSQL's cast raises an
error for `2026-02-30`, so its lowering lets through only what it can read."""

# Once a text matched ISO_TIMESTAMP, these rewrite it into one spelling:
# `YYYY-MM-DDTHH:MM:SS[.f]` and an offset (`Z` / `+00:00` when there was none).
ISO_NO_SECONDS = "^(.{16})([Z+-]|$)"
ISO_NO_OFFSET = "^(.{16}(?::[0-9]{2}(?:[.][0-9]+)?)?)$"
ISO_SUBMICROS = "([.][0-9]{6})[0-9]+"


# ---- formats ----


@dataclass(frozen=True)
class Code:
    """One strftime code: what parsing accepts and how each engine writes it.

    `constant` is for the codes that write the same text for every UTC timestamp (`%z`,
    `%Z`): the engines are given that text rather than their own code, which differ.
    """

    kind: str  # "date", "name", "time" or "zone"
    regex: str | None  # what parsing accepts; None: the code cannot be parsed
    chrono: str  # Polars
    duckdb: str
    postgres: str  # a to_char template pattern
    doc: str
    constant: str | None = None


_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

FORMAT_CODES: dict[str, Code] = {
    "Y": Code("date", _YEAR, "%Y", "%Y", "YYYY", "the year, four digits"),
    "m": Code("date", "0[1-9]|1[0-2]", "%m", "%m", "MM", "the month, 01 to 12"),
    "d": Code("date", "0[1-9]|[12][0-9]|3[01]", "%d", "%d", "DD", "the day, 01 to 31"),
    "j": Code(
        "date",
        "00[1-9]|0[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-6]",
        "%j",
        "%j",
        "DDD",
        "the day of the year, 001 to 366",
    ),
    "b": Code("date", "|".join(m[:3] for m in _MONTH_NAMES), "%b", "%b", "Mon", "`Jan`"),
    "B": Code("date", "|".join(_MONTH_NAMES), "%B", "%B", "FMMonth", "`January`"),
    "y": Code("name", None, "%y", "%y", "YY", "the year's last two digits (not parsed)"),
    "a": Code("name", None, "%a", "%a", "Dy", "`Mon` (not parsed)"),
    "A": Code("name", None, "%A", "%A", "FMDay", "`Monday` (not parsed)"),
    "H": Code("time", "[01][0-9]|2[0-3]", "%H", "%H", "HH24", "the hour, 00 to 23"),
    "I": Code("time", "0[1-9]|1[0-2]", "%I", "%I", "HH12", "the hour, 01 to 12"),
    "p": Code("time", "AM|PM", "%p", "%p", "AM", "`AM` or `PM`"),
    "M": Code("time", "[0-5][0-9]", "%M", "%M", "MI", "the minute, 00 to 59"),
    "S": Code("time", "[0-5][0-9]", "%S", "%S", "SS", "the second, 00 to 59"),
    "f": Code("time", "[0-9]{6}", "%6f", "%f", "US", "the microseconds, six digits"),
    "z": Code(
        "zone",
        "[+-](?:0[0-9]|1[0-5]):?[0-5][0-9]",
        "%z",
        "%z",
        "",
        "the offset: `+0000` when formatting, `+HHMM` or `+HH:MM` when parsing",
        constant="+0000",
    ),
    "Z": Code("zone", None, "", "", "", "`UTC` (not parsed)", constant="UTC"),
}
"""The codes a Flow format may use, besides `%%`; any other is refused when compiling."""

_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _percent(text: str) -> str:
    return text.replace("%", "%%")


@dataclass(frozen=True)
class Format:
    """A format split into codes and the literal text between them."""

    text: str
    pieces: tuple[tuple[str, str], ...]  # ("code", "Y") or ("text", "-")

    @property
    def codes(self) -> set[str]:
        return {value for kind, value in self.pieces if kind == "code"}

    def _spell(self, engine: str, parsing: bool, quote: Callable[[str], str]) -> str:
        """The pattern for one engine; adjacent literal text is quoted as one piece."""
        out: list[str] = []
        text = ""
        for kind, value in self.pieces:
            code = FORMAT_CODES[value] if kind == "code" else None
            if code is None or (code.constant is not None and not parsing):
                text += value if code is None else str(code.constant)
                continue
            if text:
                out.append(quote(text))
                text = ""
            out.append(getattr(code, engine))
        if text:
            out.append(quote(text))
        return "".join(out)

    def chrono(self, *, parsing: bool) -> str:
        """For Polars `dt.strftime` and `str.strptime` (chrono)."""
        return self._spell("chrono", parsing, _percent)

    def duckdb(self, *, parsing: bool) -> str:
        """For DuckDB `strftime` and `try_strptime`."""
        return self._spell("duckdb", parsing, _percent)

    @property
    def postgres(self) -> str:
        """A `to_char` template: literal text in double quotes, so no letter is a pattern."""

        def quote(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        return self._spell("postgres", False, quote)

    @property
    def regex(self) -> str:
        """The whole texts that parsing accepts (see the module docstring)."""
        out = []
        for kind, value in self.pieces:
            if kind == "code":
                out.append(f"(?:{FORMAT_CODES[value].regex})")
            else:
                out.append("".join("\\" + c if c in _REGEX_SPECIAL else c for c in value))
        return "^" + "".join(out) + "$"


def literal_format(arg: Arg, function: str) -> str:
    """A format argument's literal text; the engines need it when the plan is built."""
    if not arg.is_literal or not isinstance(arg.literal, str):
        raise LoweringUnsupported(f"`{function}` needs its format as a string literal")
    return str(arg.literal)


def split_format(text: str, function: str) -> Format:
    """The pieces of a format; an unknown code or a lone `%` is refused."""
    pieces: list[tuple[str, str]] = []
    literal = ""
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            literal += char
            index += 1
            continue
        code = text[index + 1 : index + 2]
        index += 2
        if code == "%":
            literal += "%"
            continue
        if code not in FORMAT_CODES:
            shown = f"%{code}" if code else "a `%` at the end"
            known = " ".join(f"%{c}" for c in FORMAT_CODES)
            raise LoweringUnsupported(
                f"`{function}`: the format {text!r} uses {shown}, which Flow formats do not "
                f"support (they support {known} and %%)"
            )
        if literal:
            pieces.append(("text", literal))
            literal = ""
        pieces.append(("code", code))
    if literal:
        pieces.append(("text", literal))
    return Format(text, tuple(pieces))


def output_format(arg: Arg, function: str, *, date: bool) -> Format:
    """A format for `format_timestamp` (`date=False`) or `format_date` (`date=True`)."""
    fmt = split_format(literal_format(arg, function), function)
    if date:
        timely = sorted(c for c in fmt.codes if FORMAT_CODES[c].kind in ("time", "zone"))
        if timely:
            shown = ", ".join(f"%{c}" for c in timely)
            raise LoweringUnsupported(
                f"`{function}`: a date has no time of day or offset, so its format cannot "
                f"use {shown}; use `format_timestamp(to_timestamp(d), ...)`"
            )
    return fmt


def input_format(arg: Arg, function: str, *, date: bool) -> Format:
    """A format for `parse_timestamp` (`date=False`) or `parse_date` (`date=True`).

    It must name a whole date (the year and the month and day, or the day of the year),
    the hour and the minute together, and `%I` with `%p`; each code at most once.
    """
    text = literal_format(arg, function)
    fmt = split_format(text, function)
    used = [value for kind, value in fmt.pieces if kind == "code"]

    def refuse(why: str) -> LoweringUnsupported:
        return LoweringUnsupported(f"`{function}`: the format {text!r} {why}")

    unreadable = sorted({c for c in used if FORMAT_CODES[c].regex is None})
    if unreadable:
        shown = ", ".join(f"%{c}" for c in unreadable)
        raise refuse(f"uses {shown}, which can be written but not parsed")
    if date and "z" in used:
        raise refuse("uses %z: a date has no offset; parse a timestamp and use `to_date`")
    repeated = sorted({c for c in used if used.count(c) > 1})
    if repeated:
        raise refuse("repeats " + ", ".join(f"%{c}" for c in repeated))
    codes = set(used)
    months = codes & {"m", "b", "B"}
    if len(months) > 1:
        raise refuse("names the month more than once (%m, %b, %B)")
    if "j" in codes and (months or "d" in codes):
        raise refuse("names the day of the year (%j) and a month or day at once")
    if "Y" not in codes or not ("j" in codes or (months and "d" in codes)):
        raise refuse("must name the year (%Y) and the month and day, or the day of the year (%j)")
    if codes & {"M", "S", "f"} and not codes & {"H", "I"}:
        raise refuse("names minutes or seconds but not the hour (%H, or %I with %p)")
    if codes & {"H", "I"} and "M" not in codes:
        raise refuse("names the hour but not the minute (%M)")
    if ("I" in codes) != ("p" in codes):
        raise refuse("must use %I (hour 01 to 12) and %p (AM or PM) together")
    if "H" in codes and "I" in codes:
        raise refuse("names the hour twice (%H and %I)")
    if "f" in codes and "S" not in codes:
        raise refuse("names microseconds (%f) without seconds (%S)")
    return fmt


# ---- other literals ----


def time_zone(arg: Arg, function: str) -> str:
    """A time zone argument's literal IANA name, checked when the plan is built."""
    if not arg.is_literal or not isinstance(arg.literal, str):
        raise LoweringUnsupported(
            f'`{function}` needs its time zone as a string literal such as "Europe/Berlin"'
        )
    name = str(arg.literal)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise LoweringUnsupported(
            f'`{function}`: {name!r} is not an IANA time zone (such as "Europe/Berlin")'
        ) from error
    return name


def polars_every(micros: int) -> str:
    """A Polars duration string (`1h`, `15m`, `90s`, `7d`) for a positive width."""
    for suffix, size in (
        ("d", 86_400_000_000),
        ("h", 3_600_000_000),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
    ):
        if micros % size == 0:
            return f"{micros // size}{suffix}"
    return f"{micros}us"


def positive_micros(args: Sequence[Arg], function: str) -> int:
    """The bucket width argument in microseconds: a literal, positive duration."""
    value = args[1].literal if args[1].is_literal else None
    if not isinstance(value, dt.timedelta):
        raise LoweringUnsupported(f"`{function}` needs its bucket width as a duration literal")
    micros = value // dt.timedelta(microseconds=1)
    if micros <= 0:
        shown = "-" + polars_every(-micros) if micros else "0s"
        raise LoweringUnsupported(f"`{function}` needs a positive bucket width, not {shown}")
    return micros
