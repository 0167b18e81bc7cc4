"""URL functions: taking URLs apart, and percent-encoding.

The parts are read as RFC 3986 describes them, from URLs written `scheme://authority`
followed by a path, a query and a fragment; other text (relative references, and
`mailto:` and other URLs without `//`) has no parts, so they are null for it. The parts
are taken with regular expressions that every back end runs alike, and decoding is
built from native operations in each (hex of the UTF-8 bytes, checked, then decoded),
so the lowerings give the same results, invalid input included.
"""

from collections.abc import Sequence

import sqlglot.expressions as exp

from flowc.stdlib.functions import _strings_lowering as lw
from flowc.stdlib.lowering import PolarsArg, PolarsLowering, SqlArg, SqlLowering, Target
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "urls",
    "URLs",
    "Parts of absolute URLs (null when the text is not one, or has no such part) and "
    "percent-encoding.",
)
_URL = Param("url", "str", "an absolute URL")
_SAMPLE = '"https://example.com:8080/a/b?q=flow&page=2#top"'

_START = "^[A-Za-z][A-Za-z0-9+.-]*://"
_PARTS = {
    # The scheme, lower-cased below.
    "url_scheme": ("^([A-Za-z][A-Za-z0-9+.-]*)://", True),
    # Past any `user@`, the host up to the port: a bracketed IPv6 address or a name.
    "url_host": (_START + "(?:[^@/?#]*@)?(\\[[^\\]/?#]*\\]|[^:/?#]+)", False),
    # After the authority, up to the query or fragment (possibly empty).
    "url_path": (_START + "[^/?#]*([^?#]*)", False),
}
_QUERY = _START + "[^?#]*\\?([^#]*)"
"""The query of an absolute URL (group 1), up to any fragment."""


def _part_polars(name: str) -> PolarsLowering:
    pattern, lower = _PARTS[name]

    def lowering(a: Sequence[PolarsArg], _: Target) -> str:
        part = lw.polars_extract(a[0].code, pattern, 1)
        return f"{part}.str.to_lowercase()" if lower else part

    return lw.polars(lowering)


def _part_sql(name: str) -> SqlLowering:
    pattern, lower = _PARTS[name]

    def lowering(a: Sequence[SqlArg], target: Target) -> exp.Expression:
        part = lw.sql_extract(a[0].expr, lw.Regex(pattern, name), 1, target.dialect)
        return exp.Lower(this=part) if lower else part

    return lw.sql(lowering)


def _param_pattern(name: str) -> str:
    """`name` as a whole parameter of a query (group 1 its value, if it has `=`)."""
    return f"(?:^|&){lw.regex_escape(name)}(?:=([^&]*))?(?:&|$)"


def _query_param_polars(a: Sequence[PolarsArg], _: Target) -> str:
    query = f"{a[0].code}.str.extract({lw.py_str(_QUERY)}, 1)"
    if isinstance(a[1].literal, str):
        pattern = lw.py_str(_param_pattern(a[1].literal))
    else:
        pieces = [
            'pl.lit("(?:^|&)")',
            f"{a[1].code}.str.escape_regex()",
            f"pl.lit({lw.py_str('(?:=([^&]*))?(?:&|$)')})",
        ]
        pattern = f"pl.concat_str([{', '.join(pieces)}])"
    value = f'{query}.str.extract({pattern}, 1).fill_null("")'  # "" for a bare `name`
    return lw.polars_url_decode(f"pl.when({query}.str.contains({pattern})).then({value})")


def _query_param_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    query = lw.sql_extract(a[0].expr, lw.Regex(_QUERY, "url_query_param"), 1, target.dialect)
    if isinstance(a[1].literal, str):
        regex = lw.Regex(_param_pattern(a[1].literal), "url_query_param")
        found = lw.sql_extract(query, regex, 1, target.dialect)
    else:
        pattern = exp.DPipe(
            this=exp.DPipe(
                this=lw.string("(?:^|&)"),
                expression=lw.sql_regex_escape(a[1].expr, target.dialect),
                safe=True,
            ),
            expression=lw.string("(?:=([^&]*))?(?:&|$)"),
            safe=True,
        )
        found = lw.sql_extract(query, pattern, 1, target.dialect)
    return lw.sql_url_decode(found, target.dialect)


def _part(name: str, what: str, why: str, result: str, *more: Example) -> Function:
    """One component of a URL; these differ only in which component."""
    return Function(
        name=name,
        category="urls",
        params=(_URL,),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc=f"The {what} of a URL, {why}; null when the text is not an absolute URL.",
        examples=(
            Example(f"{name}({_SAMPLE})", result),
            Example(f'{name}("not a url")', "null"),
            *more,
        ),
        polars=_part_polars(name),
        sql=_part_sql(name),
    )


FUNCTIONS: tuple[Function, ...] = (
    _part(
        "url_scheme",
        "scheme (lower-cased)",
        "to tell http from https",
        '"https"',
        Example('url_scheme("HTTP://x.org")', '"http"'),
        Example('url_scheme("mailto:a@x.org")', "null"),
    ),
    _part(
        "url_host",
        "host, without port or user",
        "to group traffic by site",
        '"example.com"',
        Example('url_host("http://user:pw@x.org:80/")', '"x.org"'),
        Example('url_host("http://[::1]:8080/")', '"[::1]"'),
        Example('url_host("file:///etc/hosts")', "null"),
    ),
    _part(
        "url_path",
        "path, still percent-encoded (empty when there is none)",
        "to group requests by page",
        '"/a/b"',
        Example('url_path("https://x.org")', '""'),
        Example('url_path("https://x.org/a%20b?q#f")', '"/a%20b"'),
    ),
    Function(
        name="url_query_param",
        category="urls",
        params=(
            _URL,
            Param("name", "str", "the query parameter's name, as written in the URL"),
        ),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="The decoded value of a query parameter (its first occurrence), for campaign tags "
        "and ids; null when the URL lacks it, the empty string when it has no value.",
        examples=(
            Example(f'url_query_param({_SAMPLE}, "q")', '"flow"'),
            Example(f'url_query_param({_SAMPLE}, "lang")', "null"),
            Example('url_query_param("https://x.org/?a=1&a=2", "a")', '"1"'),
            Example('url_query_param("https://x.org/?q=a%20b+c", "q")', '"a b c"'),
            Example('url_query_param("https://x.org/?debug&x=1", "debug")', '""'),
            Example('url_query_param("https://x.org/p?xq=1#q=2", "q")', "null"),
            Example('url_query_param("https://x.org/?a.b=1", "a.b")', '"1"'),
        ),
        polars=lw.polars(_query_param_polars),
        sql=lw.sql(_query_param_sql),
    ),
    Function(
        name="url_encode",
        category="urls",
        params=(Param("s", "str", "the text to encode"),),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Percent-encodes text for a URL path or query, leaving only letters, digits and "
        "`-._~` as they are.",
        examples=(
            Example('url_encode("a b&c/d")', '"a%20b%26c%2Fd"'),
            Example('url_encode("é~")', '"%C3%A9~"'),
            Example('url_encode("")', '""'),
        ),
        polars=lw.polars(lambda a, _: lw.polars_url_encode(a[0].code)),
        sql=lw.sql(lambda a, t: lw.sql_url_encode(a[0].expr, t.dialect)),
    ),
    Function(
        name="url_decode",
        category="urls",
        params=(Param("s", "str", "percent-encoded text"),),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="Decodes percent-encoding (and `+` as a space, as forms send it); a `%` without "
        "two hex digits is kept; null when the result is not valid UTF-8 or holds a NUL.",
        examples=(
            Example('url_decode("a%20b%26c")', '"a b&c"'),
            Example('url_decode("a+b")', '"a b"'),
            Example('url_decode("%C3%a9%")', '"é%"'),
            Example('url_decode("100%zz")', '"100%zz"'),
            Example('url_decode("%ff")', "null"),
            Example('url_decode("")', '""'),
        ),
        polars=lw.polars(lambda a, _: lw.polars_url_decode(a[0].code)),
        sql=lw.sql(lambda a, t: lw.sql_url_decode(a[0].expr, t.dialect)),
    ),
)
