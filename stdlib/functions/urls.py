"""URL functions: taking URLs apart, and percent-encoding.

The parts are read as RFC 3986 describes them; a text that is not an absolute URL has
no host, so the parts are null for it.
"""

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "urls",
    "URLs",
    "Parts of absolute URLs (null when the text is not one, or has no such part) and "
    "percent-encoding.",
)
_URL = Param("url", "str", "an absolute URL")
_SAMPLE = '"https://example.com:8080/a/b?q=flow&page=2#top"'


def _part(name: str, what: str, why: str, result: str) -> Function:
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
        ),
    )


FUNCTIONS: tuple[Function, ...] = (
    _part("url_scheme", "scheme (lower-cased)", "to tell http from https", '"https"'),
    _part("url_host", "host, without port", "to group traffic by site", '"example.com"'),
    _part("url_path", "path, still percent-encoded", "to group requests by page", '"/a/b"'),
    Function(
        name="url_query_param",
        category="urls",
        params=(_URL, Param("name", "str", "the query parameter's name")),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="The decoded value of a query parameter (its first occurrence), for campaign tags "
        "and ids; null when the URL lacks it.",
        examples=(
            Example(f'url_query_param({_SAMPLE}, "q")', '"flow"'),
            Example(f'url_query_param({_SAMPLE}, "lang")', "null"),
        ),
    ),
    Function(
        name="url_encode",
        category="urls",
        params=(Param("s", "str", "the text to encode"),),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc="Percent-encodes text for a URL path or query, leaving only letters, digits and "
        "`-._~` as they are.",
        examples=(Example('url_encode("a b&c/d")', '"a%20b%26c%2Fd"'),),
    ),
    Function(
        name="url_decode",
        category="urls",
        params=(Param("s", "str", "percent-encoded text"),),
        returns="str",
        nulls=Nulls.FALLIBLE,
        doc="Decodes percent-encoding (and `+` as a space, as forms send it); null when the "
        "result is not valid UTF-8.",
        examples=(
            Example('url_decode("a%20b%26c")', '"a b&c"'),
            Example('url_decode("a+b")', '"a b"'),
        ),
    ),
)
