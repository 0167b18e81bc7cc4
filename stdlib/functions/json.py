"""Reading `json` values with JSONPath-lite paths.

A path is `$` (the value itself) followed by `.field` and `[index]` steps (`$.a.b[0]`,
indexes from 0); there are no wildcards or filters, so every path lowers to Polars'
`json_path_match` and to the SQL back ends' JSON operators. The typed getters are
`int(json_get(j, path))` and so on in one call: null when the path is missing or the
value does not convert.
"""

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "json",
    "JSON",
    "Reading `json` values. Paths are JSONPath-lite: `$` then `.field` and `[index]` "
    "steps, such as `$.a.b[0]`. The typed getters return null when the path is missing "
    "or the value does not convert.",
)
_J = Param("j", "json", "the json value")
_PATH = Param("path", "str", "a JSONPath-lite path such as `$.a.b[0]`")
_DOC = r'parse_json("{\"a\": {\"b\": [10, 20]}, \"s\": \"x\", \"f\": 2.5, \"ok\": true}")'


def _getter(name: str, returns: str, result_path: str, result: str) -> Function:
    """A typed getter: the conversion `returns(json_get(j, path))` as one call."""
    return Function(
        name=name,
        category="json",
        params=(_J, _PATH),
        returns=returns,
        nulls=Nulls.FALLIBLE,
        doc=f"The value at a path as {returns}, like `{returns}(json_get(j, path))`; null "
        "when the path is missing or the value does not convert.",
        examples=(
            Example(f'{name}({_DOC}, "{result_path}")', result),
            Example(f'{name}({_DOC}, "$.missing")', "null"),
        ),
    )


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="json_get",
        category="json",
        params=(_J, _PATH),
        returns="json",
        nulls=Nulls.PROPAGATE,
        doc="The json value at a path, to pass a part of a document on; null when missing.",
        examples=(Example(f'json_int(json_get({_DOC}, "$.a"), "$.b[1]")', "20"),),
    ),
    Function(
        name="json_str",
        category="json",
        params=(_J, _PATH),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="The value at a path as text: a string without its quotes, anything else as its "
        "JSON text; null when the path is missing.",
        examples=(
            Example(f'json_str({_DOC}, "$.s")', '"x"'),
            Example(f'json_str({_DOC}, "$.a.b[0]")', '"10"'),
        ),
    ),
    _getter("json_int", "int", "$.a.b[0]", "10"),
    _getter("json_float", "float", "$.f", "2.5"),
    _getter("json_bool", "bool", "$.ok", "true"),
    Function(
        name="json_has",
        category="json",
        params=(_J, _PATH),
        returns="bool",
        nulls=Nulls.NEVER,
        doc="Tells whether a path leads to a non-null value, to route records by their shape.",
        examples=(
            Example(f'json_has({_DOC}, "$.a.b")', "true"),
            Example(f'json_has({_DOC}, "$.a.c")', "false"),
        ),
    ),
    Function(
        name="json_length",
        category="json",
        params=(_J,),
        returns="int",
        nulls=Nulls.FALLIBLE,
        doc="The number of items of a json list or fields of a json record; null for anything "
        "else.",
        examples=(
            Example(f'json_length(json_get({_DOC}, "$.a.b"))', "2"),
            Example(f"json_length({_DOC})", "4"),
            Example(f'json_length(json_get({_DOC}, "$.s"))', "null"),
        ),
    ),
)
