"""String functions: case, trimming, slicing, searching, splitting and regular expressions.

Lengths and positions count characters (Unicode code points), not bytes, and positions
start at 0 like list indexing. Regular expressions use RE2 syntax, which DuckDB runs
as is; for Polars (Rust `regex`) and PostgreSQL the pattern is translated so that it
means the same (`\\d`, `\\w`, `\\s`, `\\b` and the POSIX classes stay ASCII-only, as in
RE2; `.` does not match a newline without `(?s)`), which needs the pattern as a literal.
Lookaround and backreferences are in no engine. PostgreSQL takes flags only at the start
(`(?i)`), has no `\\p{...}`, and picks the longest of alternatives (`a|ab`) where the
others take the first: such patterns are refused or may differ there.

Where the engines differ the functions pin one meaning: `upper` uses Unicode's full
case mapping (`ß` -> `SS`, as Polars does; SQL's UPPER would keep `ß` or give `ẞ`;
letters new in Unicode 16 are upper-cased by Polars only), whitespace is Unicode's
White_Space set (SQL's `trim` removes only spaces), negative positions, lengths and
counts are 0, `replace` with an empty `old` and `split` of the empty string behave as
in SQL, and `regex_extract` gives "" for a group that took no part in the match (RE2
cannot tell it from an empty group).
"""

from collections.abc import Sequence

import sqlglot.expressions as exp

from flowc.dsl.types import Kind
from flowc.stdlib.functions import _strings_lowering as lw
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
    "strings",
    "Strings",
    "Text functions. Lengths and positions count characters, not bytes, and positions "
    "start at 0. Regular expressions use RE2 syntax (no lookaround, no backreferences).",
)
_S = Param("s", "str", "the text")
_FILL = Param(
    "fill", "str", "the single character to pad with, as a literal; a space if left out", True
)


# ---- lowerings: argument 0 is always the string (or list) being worked on ----


def _upper_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    text = a[0].expr
    for letter, capitals in lw.FULL_UPPER:
        text = exp.Anonymous(
            this="replace", expressions=[text, lw.string(letter), lw.string(capitals)]
        )
    return exp.Upper(this=text)


def _trim_polars(method: str) -> PolarsLowering:
    # With no argument Polars strips exactly Unicode's White_Space (Rust's `trim`), the set
    # the SQL side lists, and faster than with the set spelled out.
    return lambda a, _: f"{a[0].code}.str.{method}()"


def _trim_sql(position: str | None) -> SqlLowering:
    return lambda a, _: exp.Trim(
        this=a[0].expr, expression=lw.string(lw.WHITESPACE), position=position
    )


def _substring_polars(a: Sequence[PolarsArg], _: Target) -> str:
    start = lw.polars_count(a[1])
    if len(a) < 3:
        return f"{a[0].code}.str.slice({start})"
    sliced = f"{a[0].code}.str.slice({start}, {lw.polars_count(a[2])})"
    if isinstance(a[2].literal, int):
        return sliced
    return f"pl.when({a[2].code}.is_not_null()).then({sliced})"  # a null length is no limit


def _substring_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    first: exp.Expression  # SQL counts from 1
    if isinstance(a[1].literal, int):
        first = lw.number(max(a[1].literal, 0) + 1)
    else:
        first = exp.Add(this=lw.sql_count(a[1]), expression=lw.number(1))
    length = lw.sql_count(a[2]) if len(a) > 2 else None
    return exp.Substring(this=a[0].expr, start=first, length=length)


def _replace_polars(a: Sequence[PolarsArg], _: Target) -> str:
    old = lw.literal_str(a[1], "replace", "old")  # Polars takes no per-row pattern
    new = lw.polars_value(a[2])
    if not isinstance(a[2].literal, str):
        new += '.fill_null("")'  # nulled below: a null would leave the text unchanged
    replaced = a[0].code
    if old != "":
        replaced += f".str.replace_all({lw.py_str(old)}, {new}, literal=True)"
    if isinstance(a[2].literal, str):
        return replaced
    return f"pl.when({a[2].code}.is_not_null()).then({replaced})"


def _replace_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    return exp.Anonymous(this="replace", expressions=[a[0].expr, a[1].expr, a[2].expr])


def _contains_sql(a: Sequence[SqlArg], _: Target) -> exp.Expression:
    found = exp.StrPosition(this=a[0].expr, substr=a[1].expr)
    return exp.GT(this=found, expression=lw.number(0))


def _ends_with_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    if target.dialect == "duckdb":
        return exp.EndsWith(this=a[0].expr, expression=a[1].expr)
    tail = exp.Right(this=a[0].expr, expression=exp.Length(this=a[1].expr))
    return exp.EQ(this=tail, expression=a[1].expr.copy())


def _split_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    s, sep = a[0].expr, a[1].expr
    if target.dialect == "duckdb":
        split = exp.Split(this=s, expression=sep)
        if isinstance(a[1].literal, str):
            return split
        # DuckDB splits on a NULL separator as if there were none.
        return exp.Case().when(exp.Not(this=exp.Is(this=sep.copy(), expression=exp.null())), split)
    # PostgreSQL: NULL separator = characters, and '' gives an empty array, not [''].
    chars = exp.Anonymous(this="string_to_array", expressions=[s.copy(), exp.null()])
    split_pg = exp.Anonymous(this="string_to_array", expressions=[s, sep])
    empty = exp.EQ(this=s.copy(), expression=lw.string(""))
    one_empty = exp.Array(expressions=[lw.string("")])
    if isinstance(a[1].literal, str):
        if a[1].literal == "":
            return chars
        return exp.Case().when(empty, one_empty).else_(split_pg)
    return (
        exp.Case()
        .when(exp.Is(this=sep.copy(), expression=exp.null()), exp.null())
        .when(exp.EQ(this=sep.copy(), expression=lw.string("")), chars)
        .when(empty, one_empty)
        .else_(split_pg)
    )


def _join_polars(a: Sequence[PolarsArg], _: Target) -> str:
    items = a[0].code
    if a[0].type.elem is not None and a[0].type.elem.kind is Kind.NULL:
        items += ".cast(pl.List(pl.String))"
    return f"{items}.list.join({lw.polars_value(a[1])})"


def _join_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    items = a[0].expr
    if a[0].type.elem is not None and a[0].type.elem.kind is Kind.NULL:
        items = exp.cast(items, exp.DataType.build("TEXT[]", dialect=target.dialect))
    sep = a[1].expr
    if isinstance(a[1].literal, str):
        return exp.ArrayToString(this=items, expression=sep)
    if target.dialect == "duckdb":
        items = _prefix_separators(items, sep)
        sep = lw.string("")
    joined = exp.ArrayToString(this=items, expression=sep)
    # Null when the separator is (DuckDB would join with ',').
    present = exp.Not(this=exp.Is(this=a[1].expr.copy(), expression=exp.null()))
    return exp.Case().when(present, joined)


def _prefix_separators(items: exp.Expression, sep: exp.Expression) -> exp.Expression:
    """The non-null items, each but the first after `sep`, for DuckDB, whose
    ARRAY_TO_STRING takes only a constant separator."""
    item, index = exp.to_identifier("_item"), exp.to_identifier("_n")
    present = exp.Not(this=exp.Is(this=item.copy(), expression=exp.null()))
    first = exp.EQ(this=index.copy(), expression=lw.number(1))
    after_sep = exp.DPipe(this=sep.copy(), expression=item.copy(), safe=True)
    with_sep = exp.Case().when(first, item.copy()).else_(after_sep)
    return lw.call(
        "list_transform",
        lw.call("list_filter", items, exp.Lambda(this=present, expressions=[item])),
        exp.Lambda(this=with_sep, expressions=[item.copy(), index]),
    )


def _fill(a: Sequence[PolarsArg] | Sequence[SqlArg], function: str) -> str:
    fill = lw.literal_str(a[2], function, "fill") if len(a) > 2 else " "
    if len(fill) != 1:
        raise LoweringUnsupported(f"`{function}` pads with one character, not {fill!r}")
    return fill


def _pad_polars(method: str, function: str) -> PolarsLowering:
    def lower(a: Sequence[PolarsArg], _: Target) -> str:
        fill = _fill(a, function)
        return f"{a[0].code}.str.{method}({lw.polars_count(a[1])}, {lw.py_str(fill)})"

    return lower


def _pad_sql(left: bool, function: str) -> SqlLowering:
    def lower(a: Sequence[SqlArg], _: Target) -> exp.Expression:
        fill = _fill(a, function)
        # LPAD/RPAD cut longer text to the width; the text is kept whole instead.
        length = exp.Length(this=a[0].expr.copy())
        longer = exp.GT(this=length, expression=a[1].expr)
        width = lw.sql_int(exp.Case().when(longer, length.copy()).else_(a[1].expr.copy()))
        return exp.Pad(this=a[0].expr, expression=width, fill_pattern=lw.string(fill), is_left=left)

    return lower


def _repeat_polars(a: Sequence[PolarsArg], _: Target) -> str:
    repeated = f'{a[0].code}.repeat_by({lw.polars_count(a[1])}).list.join("")'
    if isinstance(a[0].literal, str):
        return repeated
    return f"pl.when({a[0].code}.is_not_null()).then({repeated})"  # repeat_by makes [null]


def _regex(a: Sequence[PolarsArg] | Sequence[SqlArg], function: str) -> lw.Regex:
    return lw.Regex(lw.literal_str(a[1], function, "pattern"), function)


def _sql_pattern(a: Sequence[SqlArg], function: str, dialect: str) -> exp.Expression:
    """DuckDB runs RE2 itself, so there any pattern expression will do."""
    if dialect == "duckdb" and not isinstance(a[1].literal, str):
        return a[1].expr
    return lw.string(_regex(a, function).for_dialect(dialect))


def _regex_replace_polars(a: Sequence[PolarsArg], _: Target) -> str:
    regex = _regex(a, "regex_replace")
    text = lw.literal_str(a[2], "regex_replace", "replacement")
    new = lw.replacement(text, regex.groups, "regex_replace", "rust")
    return f"{a[0].code}.str.replace_all({lw.py_str(regex.rust)}, {lw.py_str(new)})"


def _regex_replace_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    regex = _regex(a, "regex_replace")
    text = lw.literal_str(a[2], "regex_replace", "replacement")
    engine = "re2" if target.dialect == "duckdb" else "postgres"
    new = lw.replacement(text, regex.groups, "regex_replace", engine)
    return exp.Anonymous(
        this="regexp_replace",
        expressions=[
            a[0].expr,
            lw.string(regex.for_dialect(target.dialect)),
            lw.string(new),
            lw.string("g"),
        ],
    )


def _group(a: Sequence[PolarsArg] | Sequence[SqlArg], regex: lw.Regex) -> int:
    group = lw.literal_int(a[2], "regex_extract", "group") if len(a) > 2 else 0
    if not 0 <= group <= regex.groups:
        raise LoweringUnsupported(
            f"`regex_extract`: there is no group {group} in {regex.pattern!r} "
            f"({regex.groups} group{'' if regex.groups == 1 else 's'})"
        )
    return group


def _regex_extract_polars(a: Sequence[PolarsArg], _: Target) -> str:
    regex = _regex(a, "regex_extract")
    return lw.polars_extract(a[0].code, regex.rust, _group(a, regex))


def _regex_extract_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    regex = _regex(a, "regex_extract")
    return lw.sql_extract(a[0].expr, regex, _group(a, regex), target.dialect)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="lower",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Lower-cases every letter, to compare or group text regardless of case.",
        examples=(Example('lower("Berlin")', '"berlin"'),),
        polars=lambda a, _: f"{a[0].code}.str.to_lowercase()",
        sql=lambda a, _: exp.Lower(this=a[0].expr),
    ),
    Function(
        name="upper",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Upper-cases every letter, for codes and identifiers that are compared in capitals; "
        "a letter whose capital is several letters gets them all (`ß` becomes `SS`).",
        examples=(
            Example('upper("eur")', '"EUR"'),
            Example('upper("Straße")', '"STRASSE"'),
            Example("upper(null)", "null"),
        ),
        polars=lw.polars(lambda a, _: f"{a[0].code}.str.to_uppercase()"),
        sql=lw.sql(_upper_sql),
    ),
    Function(
        name="trim",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Removes whitespace at both ends, which form fields and CSV files often carry; "
        "whitespace is Unicode's, tabs, line breaks and no-break spaces included.",
        examples=(
            Example('trim("  a b  ")', '"a b"'),
            Example('trim("\\t\\u{a0}a\\r\\n")', '"a"'),
            Example('trim("   ")', '""'),
        ),
        polars=lw.polars(_trim_polars("strip_chars")),
        sql=lw.sql(_trim_sql(None)),
    ),
    Function(
        name="trim_start",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Removes whitespace at the start only, keeping trailing padding.",
        examples=(
            Example('trim_start("  ab  ")', '"ab  "'),
            Example('trim_start("\\n\\tab")', '"ab"'),
        ),
        polars=lw.polars(_trim_polars("strip_chars_start")),
        sql=lw.sql(_trim_sql("LEADING")),
    ),
    Function(
        name="trim_end",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Removes whitespace at the end only, keeping leading indentation.",
        examples=(
            Example('trim_end("  ab  ")', '"  ab"'),
            Example('trim_end("ab\\r\\n")', '"ab"'),
        ),
        polars=lw.polars(_trim_polars("strip_chars_end")),
        sql=lw.sql(_trim_sql("TRAILING")),
    ),
    Function(
        name="length",
        category="strings",
        params=(_S,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="Counts the characters of a string (not its bytes); for lists use `list_length`.",
        examples=(
            Example('length("héllo")', "5"),
            Example('length("")', "0"),
            Example('length("😀")', "1"),
            Example("length(null)", "null"),
        ),
        polars=lw.polars(lambda a, _: f"{a[0].code}.str.len_chars().cast(pl.Int64)"),
        sql=lw.sql(lambda a, _: exp.Length(this=a[0].expr)),
    ),
    Function(
        name="substring",
        category="strings",
        params=(
            _S,
            Param("start", "int", "the position of the first character, from 0; below 0 is 0"),
            Param(
                "len",
                "int",
                "how many characters to take (below 0 is 0); all the rest if left out",
                True,
            ),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Takes a slice of a string by character position; past the end it is cut short.",
        examples=(
            Example('substring("pipeline", 4)', '"line"'),
            Example('substring("pipeline", 0, 4)', '"pipe"'),
            Example('substring("abc", 1, 10)', '"bc"'),
            Example('substring("héllo", 1, 3)', '"éll"'),
            Example('substring("abc", 5)', '""'),
            Example('substring("abc", -2, 2)', '"ab"'),
            Example('substring("abc", 1, -1)', '""'),
            Example('substring("abc", 1, null)', "null"),
        ),
        polars=lw.polars(_substring_polars),
        sql=lw.sql(_substring_sql),
    ),
    Function(
        name="replace",
        category="strings",
        params=(
            _S,
            Param(
                "old",
                "str",
                "the text to find, taken literally (not a pattern); a literal, as Polars "
                "needs it; if empty, nothing is replaced",
            ),
            Param("new", "str", "what replaces each occurrence"),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Replaces every occurrence of a literal text; use `regex_replace` for patterns.",
        examples=(
            Example('replace("a-b-c", "-", "+")', '"a+b+c"'),
            Example('replace("a-b", "-", "$1")', '"a$1b"'),
            Example('replace("abc", "", "x")', '"abc"'),
            Example('replace("a-b", "-", null)', "null"),
        ),
        polars=lw.polars(_replace_polars),
        sql=lw.sql(_replace_sql),
    ),
    Function(
        name="contains",
        category="strings",
        params=(_S, Param("sub", "str", "the text to look for, taken literally")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a text occurs in a string (case-sensitive, not a pattern).",
        examples=(
            Example('contains("heat alert", "alert")', "true"),
            Example('contains("Heat", "heat")', "false"),
            Example('contains("a.c", ".")', "true"),
            Example('contains("abc", "")', "true"),
        ),
        polars=lw.polars(
            lambda a, _: f"{a[0].code}.str.contains({lw.polars_value(a[1])}, literal=True)"
        ),
        sql=lw.sql(_contains_sql),
    ),
    Function(
        name="starts_with",
        category="strings",
        params=(_S, Param("prefix", "str", "the expected beginning")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a string begins with a prefix, such as a URL scheme or an id range.",
        examples=(
            Example('starts_with("https://x.org", "https:")', "true"),
            Example('starts_with("ab", "abc")', "false"),
            Example('starts_with("ab", "")', "true"),
        ),
        polars=lw.polars(lambda a, _: f"{a[0].code}.str.starts_with({lw.polars_value(a[1])})"),
        sql=lw.sql(lambda a, _: exp.StartsWith(this=a[0].expr, expression=a[1].expr)),
    ),
    Function(
        name="ends_with",
        category="strings",
        params=(_S, Param("suffix", "str", "the expected ending")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a string ends with a suffix, such as a file extension.",
        examples=(
            Example('ends_with("data.csv", ".csv")', "true"),
            Example('ends_with("csv", "data.csv")', "false"),
            Example('ends_with("é", "")', "true"),
        ),
        polars=lw.polars(lambda a, _: f"{a[0].code}.str.ends_with({lw.polars_value(a[1])})"),
        sql=lw.sql(_ends_with_sql),
    ),
    Function(
        name="split",
        category="strings",
        params=(
            _S,
            Param("sep", "str", "the separator, taken literally; if empty, each character"),
        ),
        returns="list<str>",
        nulls=Nulls.PROPAGATE,
        doc="Cuts a string at each separator into a list, keeping empty pieces.",
        examples=(
            Example('split("a,b,c", ",")', '["a", "b", "c"]'),
            Example('split("a,,b", ",")', '["a", "", "b"]'),
            Example('split("", ",")', '[""]'),
            Example('split("hé!", "")', '["h", "é", "!"]'),
            Example('split("a.b", ".")', '["a", "b"]'),
        ),
        polars=lw.polars(lambda a, _: f"{a[0].code}.str.split({lw.polars_value(a[1])})"),
        sql=lw.sql(_split_sql),
    ),
    Function(
        name="join",
        category="strings",
        params=(
            Param("items", "list<str>", "the strings to join"),
            Param("sep", "str", "what goes between two items"),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Joins a list of strings with a separator, the inverse of `split`; null items "
        "are left out.",
        examples=(
            Example('join(["a", "b", "c"], "-")', '"a-b-c"'),
            Example('join([], "-")', '""'),
            Example('join(["a", "b"], null)', "null"),
        ),
        polars=lw.polars(_join_polars),
        sql=lw.sql(_join_sql),
    ),
    Function(
        name="pad_left",
        category="strings",
        params=(
            _S,
            Param("width", "int", "the length to reach, in characters"),
            _FILL,
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Pads a string on the left up to a width, for fixed-width codes; longer text is kept.",
        examples=(
            Example('pad_left("7", 3, "0")', '"007"'),
            Example('pad_left("ab", 4)', '"  ab"'),
            Example('pad_left("abcde", 3)', '"abcde"'),
            Example('pad_left("é", 3, "·")', '"··é"'),
            Example('pad_left("ab", -1)', '"ab"'),
        ),
        polars=lw.polars(_pad_polars("pad_start", "pad_left")),
        sql=lw.sql(_pad_sql(True, "pad_left")),
    ),
    Function(
        name="pad_right",
        category="strings",
        params=(
            _S,
            Param("width", "int", "the length to reach, in characters"),
            _FILL,
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Pads a string on the right up to a width, for aligned text; longer text is kept.",
        examples=(
            Example('pad_right("ab", 4, ".")', '"ab.."'),
            Example('pad_right("abc", 2)', '"abc"'),
            Example("pad_right(null, 2)", "null"),
        ),
        polars=lw.polars(_pad_polars("pad_end", "pad_right")),
        sql=lw.sql(_pad_sql(False, "pad_right")),
    ),
    Function(
        name="str_repeat",
        category="strings",
        params=(_S, Param("times", "int", "how many copies; 0 or less gives the empty string")),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Repeats a string, for separators and simple text bars in reports.",
        examples=(
            Example('str_repeat("ab", 3)', '"ababab"'),
            Example('str_repeat("ab", 0)', '""'),
            Example('str_repeat("ab", -2)', '""'),
        ),
        polars=lw.polars(_repeat_polars),
        sql=lw.sql(lambda a, _: exp.Repeat(this=a[0].expr, times=lw.sql_count(a[1]))),
    ),
    Function(
        name="regex_matches",
        category="strings",
        params=(_S, Param("pattern", "str", "an RE2 regular expression, unanchored; a literal")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a pattern matches anywhere in a string (`^...$` to match it all).",
        examples=(
            Example('regex_matches("order-123", "[0-9]+")', "true"),
            Example('regex_matches("order", "^[0-9]+$")', "false"),
            Example('regex_matches("\\u{663}", "\\\\d")', "false"),
            Example('regex_matches("a\\nb", "a.b")', "false"),
            Example('regex_matches("Éa", "\\\\ba")', "true"),
        ),
        polars=lw.polars(
            lambda a, _: f"{a[0].code}.str.contains({lw.py_str(_regex(a, 'regex_matches').rust)})"
        ),
        sql=lw.sql(
            lambda a, t: exp.RegexpLike(
                this=a[0].expr, expression=_sql_pattern(a, "regex_matches", t.dialect)
            )
        ),
    ),
    Function(
        name="regex_replace",
        category="strings",
        params=(
            _S,
            Param("pattern", "str", "an RE2 regular expression, as a literal"),
            Param(
                "replacement",
                "str",
                "the text for each match, as a literal; `$1` to `$9` insert a group, `$0` "
                "the match, `$$` a dollar sign",
            ),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Replaces every match of a pattern, to clean or reshape text.",
        polars=lw.polars(_regex_replace_polars),
        sql=lw.sql(_regex_replace_sql),
        examples=(
            Example('regex_replace("a1b22c", "[0-9]+", "#")', '"a#b#c"'),
            Example(
                'regex_replace("2026-01-31", "([0-9]+)-([0-9]+)-([0-9]+)", "$3.$2.$1")',
                '"31.01.2026"',
            ),
            Example('regex_replace("abc", "x*", "-")', '"-a-b-c-"'),
            Example('regex_replace("a.b", "[.]", "$$\\\\")', '"a$\\\\b"'),
            Example('regex_replace("ab", "(a)(x)?", "[$2$0]")', '"[a]b"'),
        ),
    ),
    Function(
        name="regex_extract",
        category="strings",
        params=(
            _S,
            Param("pattern", "str", "an RE2 regular expression, as a literal"),
            Param(
                "group",
                "int",
                "which capture group to return, as a literal; 0 (the whole match) if left out",
                True,
            ),
        ),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="The first match of a pattern, or one of its groups; null when nothing matches, "
        "and the empty string for a group that took no part in the match.",
        examples=(
            Example('regex_extract("order-123", "[0-9]+")', '"123"'),
            Example('regex_extract("key=value", "([a-z]+)=([a-z]+)", 2)', '"value"'),
            Example('regex_extract("none", "[0-9]+")', "null"),
            Example('regex_extract("ab", "a(x)?b", 1)', '""'),
            Example('regex_extract("abc", "x*")', '""'),
            Example('regex_extract("A1 b22", "(?i)b([0-9]+)", 1)', '"22"'),
        ),
        polars=lw.polars(_regex_extract_polars),
        sql=lw.sql(_regex_extract_sql),
    ),
)
