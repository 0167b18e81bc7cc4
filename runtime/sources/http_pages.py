"""Pagination: from one response to the request for the next page, or the end of the run.

Each kind of `pagination` is a small `Pager` that sets its parameter on the first request and
decides, from the page just received, whether there is another. A new pager is made for each
run, so its position (page number, offset, last cursor) never leaks into the next run. The
parameter goes into the query string, or into the GraphQL `variables` when the source sends
a `graphql` query: `Call.with_param` is the one place that knows the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx

from flowc.runtime.jsonpath import Json, compile_path
from flowc.stdlib.connectors.http import (
    CursorPagination,
    LinkPagination,
    OffsetPagination,
    PagePagination,
)

Pagination = PagePagination | OffsetPagination | CursorPagination | LinkPagination


def query_text(value: Json) -> str:
    """A parameter value as the query string carries it (`true`, not Python's `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Call:
    """One request before credentials are added: what pagination and cursors change."""

    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Json = None  # the JSON body, GraphQL's `{query, variables}` included
    graphql: bool = False

    def with_param(self, name: str, value: Json) -> Call:
        """This call with `name` set: a GraphQL variable, or else a query parameter."""
        if self.graphql:
            assert isinstance(self.json, dict)
            variables = {**(self.json.get("variables") or {}), name: value}
            return replace(self, json={**self.json, "variables": variables})
        return replace(self, params={**self.params, name: query_text(value)})

    def following(self, url: str) -> Call:
        """A call to `url` as given: a `Link` URL carries the whole query of the next page."""
        return replace(self, url=url, params={})


class Pager(Protocol):
    def first(self, call: Call) -> Call:
        """The run's first request."""
        ...

    def next(self, call: Call, response: httpx.Response, document: Json, count: int) -> Call | None:
        """The request for the page after the one `call` fetched; None when it was the last.
        `count` is the number of records the page held."""
        ...


class _Single:
    def first(self, call: Call) -> Call:
        return call

    def next(self, call: Call, response: httpx.Response, document: Json, count: int) -> None:
        return None


@dataclass
class _Pages:
    config: PagePagination
    page: int = 0

    def first(self, call: Call) -> Call:
        self.page = self.config.start
        if self.config.size_param is not None:
            call = call.with_param(self.config.size_param, self.config.size)
        return call.with_param(self.config.param, self.page)

    def next(self, call: Call, response: httpx.Response, document: Json, count: int) -> Call | None:
        size = self.config.size
        if count == 0 or (size is not None and count < size):
            return None
        self.page += 1
        return call.with_param(self.config.param, self.page)


@dataclass
class _Offsets:
    config: OffsetPagination
    offset: int = 0

    def first(self, call: Call) -> Call:
        self.offset = 0
        call = call.with_param(self.config.limit_param, self.config.limit)
        return call.with_param(self.config.param, self.offset)

    def next(self, call: Call, response: httpx.Response, document: Json, count: int) -> Call | None:
        if count < self.config.limit:
            return None
        self.offset += self.config.limit
        return call.with_param(self.config.param, self.offset)


@dataclass
class _Cursors:
    config: CursorPagination
    last: Any = None

    def __post_init__(self) -> None:
        self.next_path = compile_path(self.config.next)
        self.has_more = None if self.config.has_more is None else compile_path(self.config.has_more)

    def first(self, call: Call) -> Call:
        return call

    def next(self, call: Call, response: httpx.Response, document: Json, count: int) -> Call | None:
        if self.has_more is not None and self.has_more.first(document) is not True:
            return None
        cursor = self.next_path.first(document)
        # The same cursor twice would fetch the same page forever.
        if cursor is None or cursor == "" or cursor == self.last:
            return None
        self.last = cursor
        return call.with_param(self.config.param, cursor)


class _Links:
    def first(self, call: Call) -> Call:
        return call

    def next(self, call: Call, response: httpx.Response, document: Json, count: int) -> Call | None:
        target = response.links.get("next", {}).get("url")
        if not target:
            return None
        url = response.url.join(target)  # a relative link is relative to the page's URL
        if url == response.url:
            return None
        return call.following(str(url))


def new_pager(config: Pagination | None) -> Pager:
    """A pager for one run (its JSONPaths are compiled, so a bad one fails here)."""
    match config:
        case None:
            return _Single()
        case PagePagination():
            return _Pages(config)
        case OffsetPagination():
            return _Offsets(config)
        case CursorPagination():
            return _Cursors(config)
        case LinkPagination():
            return _Links()
    raise AssertionError(f"unknown pagination {config!r}")
