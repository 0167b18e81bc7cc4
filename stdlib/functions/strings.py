"""String functions: case, trimming, slicing, searching, splitting and regular expressions.

Lengths and positions count characters (Unicode code points), not bytes, and positions
start at 0 like list indexing. Regular expressions use the RE2 syntax shared by Polars
(Rust `regex`) and the SQL back ends, so lookaround and backreferences are not available.
"""

import sqlglot.expressions as exp

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "strings",
    "Strings",
    "Text functions. Lengths and positions count characters, not bytes, and positions "
    "start at 0. Regular expressions use RE2 syntax (no lookaround, no backreferences).",
)
_S = Param("s", "str", "the text")

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
        doc="Upper-cases every letter, for codes and identifiers that are compared in capitals.",
        examples=(Example('upper("eur")', '"EUR"'),),
    ),
    Function(
        name="trim",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Removes whitespace at both ends, which form fields and CSV files often carry.",
        examples=(Example('trim("  a b  ")', '"a b"'),),
    ),
    Function(
        name="trim_start",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Removes whitespace at the start only, keeping trailing padding.",
        examples=(Example('trim_start("  ab  ")', '"ab  "'),),
    ),
    Function(
        name="trim_end",
        category="strings",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Removes whitespace at the end only, keeping leading indentation.",
        examples=(Example('trim_end("  ab  ")', '"  ab"'),),
    ),
    Function(
        name="length",
        category="strings",
        params=(_S,),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="Counts the characters of a string (not its bytes); for lists use `list_length`.",
        examples=(Example('length("héllo")', "5"), Example('length("")', "0")),
    ),
    Function(
        name="substring",
        category="strings",
        params=(
            _S,
            Param("start", "int", "the position of the first character, from 0"),
            Param("len", "int", "how many characters to take; all the rest if left out", True),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Takes a slice of a string by character position; past the end it is cut short.",
        examples=(
            Example('substring("pipeline", 4)', '"line"'),
            Example('substring("pipeline", 0, 4)', '"pipe"'),
            Example('substring("abc", 1, 10)', '"bc"'),
        ),
    ),
    Function(
        name="replace",
        category="strings",
        params=(
            _S,
            Param("old", "str", "the text to find, taken literally (not a pattern)"),
            Param("new", "str", "what replaces each occurrence"),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Replaces every occurrence of a literal text; use `regex_replace` for patterns.",
        examples=(Example('replace("a-b-c", "-", "+")', '"a+b+c"'),),
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
        ),
    ),
    Function(
        name="starts_with",
        category="strings",
        params=(_S, Param("prefix", "str", "the expected beginning")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a string begins with a prefix, such as a URL scheme or an id range.",
        examples=(Example('starts_with("https://x.org", "https:")', "true"),),
    ),
    Function(
        name="ends_with",
        category="strings",
        params=(_S, Param("suffix", "str", "the expected ending")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a string ends with a suffix, such as a file extension.",
        examples=(Example('ends_with("data.csv", ".csv")', "true"),),
    ),
    Function(
        name="split",
        category="strings",
        params=(_S, Param("sep", "str", "the separator, taken literally")),
        returns="list<str>",
        nulls=Nulls.PROPAGATE,
        doc="Cuts a string at each separator into a list, keeping empty pieces.",
        examples=(
            Example('split("a,b,c", ",")', '["a", "b", "c"]'),
            Example('split("a,,b", ",")', '["a", "", "b"]'),
        ),
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
        doc="Joins a list of strings with a separator, the inverse of `split`.",
        examples=(Example('join(["a", "b", "c"], "-")', '"a-b-c"'),),
    ),
    Function(
        name="pad_left",
        category="strings",
        params=(
            _S,
            Param("width", "int", "the length to reach, in characters"),
            Param("fill", "str", "the single character to pad with; a space if left out", True),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Pads a string on the left up to a width, for fixed-width codes; longer text is kept.",
        examples=(
            Example('pad_left("7", 3, "0")', '"007"'),
            Example('pad_left("ab", 4)', '"  ab"'),
            Example('pad_left("abcde", 3)', '"abcde"'),
        ),
    ),
    Function(
        name="pad_right",
        category="strings",
        params=(
            _S,
            Param("width", "int", "the length to reach, in characters"),
            Param("fill", "str", "the single character to pad with; a space if left out", True),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Pads a string on the right up to a width, for aligned text; longer text is kept.",
        examples=(Example('pad_right("ab", 4, ".")', '"ab.."'),),
    ),
    Function(
        name="str_repeat",
        category="strings",
        params=(_S, Param("times", "int", "how many copies; 0 or less gives the empty string")),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Repeats a string, for separators and simple text bars in reports.",
        examples=(Example('str_repeat("ab", 3)', '"ababab"'),),
    ),
    Function(
        name="regex_matches",
        category="strings",
        params=(_S, Param("pattern", "str", "an RE2 regular expression, unanchored")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a pattern matches anywhere in a string (`^...$` to match it all).",
        examples=(
            Example('regex_matches("order-123", "[0-9]+")', "true"),
            Example('regex_matches("order", "^[0-9]+$")', "false"),
        ),
    ),
    Function(
        name="regex_replace",
        category="strings",
        params=(
            _S,
            Param("pattern", "str", "an RE2 regular expression"),
            Param("replacement", "str", "the text for each match; `$1` inserts group 1"),
        ),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Replaces every match of a pattern, to clean or reshape text.",
        examples=(
            Example('regex_replace("a1b22c", "[0-9]+", "#")', '"a#b#c"'),
            Example(
                'regex_replace("2026-01-31", "([0-9]+)-([0-9]+)-([0-9]+)", "$3.$2.$1")',
                '"31.01.2026"',
            ),
        ),
    ),
    Function(
        name="regex_extract",
        category="strings",
        params=(
            _S,
            Param("pattern", "str", "an RE2 regular expression"),
            Param(
                "group",
                "int",
                "which capture group to return; 0 (the whole match) if left out",
                True,
            ),
        ),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="The first match of a pattern, or one of its groups; null when nothing matches.",
        examples=(
            Example('regex_extract("order-123", "[0-9]+")', '"123"'),
            Example('regex_extract("key=value", "([a-z]+)=([a-z]+)", 2)', '"value"'),
            Example('regex_extract("none", "[0-9]+")', "null"),
        ),
    ),
)
