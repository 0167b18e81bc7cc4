"""Null handling, and the functions on lists.

The list functions live here until they are many enough for a module of their own; they
are their own category in the docs. `coalesce` is the call form of `??`, for more than two
alternatives.
"""

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "nulls",
    "Nulls",
    "Testing for null, replacing it, and turning sentinel values into it.",
)
LISTS = Category(
    "lists",
    "Lists",
    "Functions on `list<T>` values; index a list with `xs[0]`.",
)
_ANY = Param("x", "any", "the value to test")
_LIST = Param("list", "list<T>", "the list")

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="coalesce",
        category="nulls",
        params=(
            Param("value", "T?", "the preferred value"),
            Param("fallback", "T", "the values to try next, in order"),
        ),
        returns="T",
        nulls=Nulls.SKIP,
        variadic=True,
        doc="The first argument that is not null, like chained `??`; null only if every "
        "argument is, so a non-null last argument makes the result non-null.",
        examples=(
            Example("coalesce(null, 1)", "1"),
            Example('coalesce(null, null, "x")', '"x"'),
            Example("coalesce(2, 1.5)", "2.0"),
        ),
    ),
    Function(
        name="is_null",
        category="nulls",
        params=(_ANY,),
        returns="bool",
        nulls=Nulls.NEVER,
        doc="Tells whether a value is null (a json null too), for rules and filters.",
        examples=(Example("is_null(null)", "true"), Example("is_null(0)", "false")),
    ),
    Function(
        name="is_not_null",
        category="nulls",
        params=(_ANY,),
        returns="bool",
        nulls=Nulls.NEVER,
        doc="Tells whether a value is present, the negation of `is_null`.",
        examples=(Example('is_not_null("")', "true"), Example("is_not_null(null)", "false")),
    ),
    Function(
        name="nullif",
        category="nulls",
        params=(
            Param("x", "T", "the value"),
            Param("sentinel", "T", "the value that stands for missing data"),
        ),
        returns="T",
        nulls=Nulls.FALLIBLE,
        doc='Null when a value equals a sentinel (such as 0, -1 or ""), else the value, so '
        "that missing data is marked as such.",
        examples=(Example("nullif(0, 0)", "null"), Example('nullif("a", "")', '"a"')),
    ),
    Function(
        name="list_length",
        category="lists",
        params=(Param("list", "list<any>", "the list"),),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="The number of items in a list (null items count too).",
        examples=(Example("list_length([1, 2, 3])", "3"), Example("list_length([])", "0")),
    ),
    Function(
        name="list_contains",
        category="lists",
        params=(_LIST, Param("item", "T", "the item to look for")),
        returns="bool",
        nulls=Nulls.PROPAGATE,
        doc="Tells whether a list holds an item, for tags and other multi-valued fields.",
        examples=(
            Example('list_contains(["a", "b"], "b")', "true"),
            Example("list_contains([1, 2], 3)", "false"),
        ),
    ),
    Function(
        name="list_first",
        category="lists",
        params=(_LIST,),
        returns="T",
        nulls=Nulls.FALLIBLE,
        doc="The first item of a list; null when the list is empty.",
        examples=(Example("list_first([3, 4])", "3"), Example("list_first([])", "null")),
    ),
    Function(
        name="list_last",
        category="lists",
        params=(_LIST,),
        returns="T",
        nulls=Nulls.FALLIBLE,
        doc="The last item of a list; null when the list is empty.",
        examples=(Example('list_last(split("a/b/c", "/"))', '"c"'),),
    ),
)
