"""Conversions between types, including the way out of `json`.

A json value must be converted before it is used as a number, text or flag; the
conversions that can fail on bad input (`int("4x")`) return null instead of failing the
batch, and their `?` type makes the checker ask what to do with that null.
"""

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "conversions",
    "Conversions",
    "Changing a value's type. Conversions that can fail return null on bad input, so "
    "their result is nullable; this is also how `json` values become typed.",
)
_ANY = Param("x", "any", "the value to convert (a json value too)")

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="int",
        category="conversions",
        params=(_ANY,),
        returns="int",
        nulls=Nulls.FALLIBLE,
        doc="Converts to `int`: floats are truncated toward zero, text must be an integer, "
        "true is 1; null when the value does not convert.",
        examples=(
            Example('int("42")', "42"),
            Example("int(3.9)", "3"),
            Example("int(true)", "1"),
            Example('int("4x")', "null"),
        ),
    ),
    Function(
        name="float",
        category="conversions",
        params=(_ANY,),
        returns="float",
        nulls=Nulls.FALLIBLE,
        doc="Converts to `float`, parsing text such as `2.5` or `1e3`; null when the value "
        "does not convert.",
        examples=(
            Example('float("2.5")', "2.5"),
            Example("float(2)", "2.0"),
            Example('float("n/a")', "null"),
        ),
    ),
    Function(
        name="str",
        category="conversions",
        params=(_ANY,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Converts to text: numbers in their shortest form, timestamps and dates in ISO 8601, "
        "json as its JSON text; null stays null.",
        examples=(
            Example("str(42)", '"42"'),
            Example("str(2.5)", '"2.5"'),
            Example("str(true)", '"true"'),
            Example("str(@2026-03-15)", '"2026-03-15"'),
        ),
    ),
    Function(
        name="bool",
        category="conversions",
        params=(_ANY,),
        returns="bool",
        nulls=Nulls.FALLIBLE,
        doc='Converts to `bool`: numbers are true unless 0, text must be "true" or "false" '
        "(any case); null when the value does not convert.",
        examples=(
            Example('bool("true")', "true"),
            Example("bool(0)", "false"),
            Example('bool("yes")', "null"),
        ),
    ),
    Function(
        name="to_json",
        category="conversions",
        params=(Param("x", "any", "the value to encode: a scalar, list or record"),),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Encodes a value as compact JSON text (no spaces), to send records on as payloads.",
        examples=(
            Example("to_json(42)", '"42"'),
            Example("to_json([1, 2])", '"[1,2]"'),
            Example('to_json({ a: 1, b: "x" })', '"{\\"a\\":1,\\"b\\":\\"x\\"}"'),
        ),
    ),
    Function(
        name="parse_json",
        category="conversions",
        params=(Param("s", "str", "JSON text"),),
        returns="json",
        nulls=Nulls.FALLIBLE,
        doc="Parses JSON text into a `json` value, to read a payload held in a text field; "
        "null when the text is not JSON.",
        examples=(
            Example('json_int(parse_json("{\\"a\\": 1}"), "$.a")', "1"),
            Example('is_null(parse_json("{oops"))', "true"),
        ),
    ),
)
