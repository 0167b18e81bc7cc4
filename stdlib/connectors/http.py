"""The `http` source: polls a REST or GraphQL API on a schedule."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, JsonValue, model_validator

from flowc.stdlib.connectors.base import (
    ConfigModel,
    DocType,
    EnvRef,
    Example,
    Secret,
    StrOrEnv,
    config_error,
    declare_source,
)
from flowc.stdlib.connectors.common import (
    Cron,
    Duration,
    Headers,
    JsonPath,
    Params,
    Retry,
    RetryPolicy,
    Url,
)

Json = Annotated[JsonValue, DocType("JSON value")]


class GraphQL(ConfigModel):
    """A GraphQL request: sent as a POST of `{"query": ..., "variables": ...}`."""

    query: str = Field(min_length=1, description="the GraphQL query text")
    variables: dict[str, Json] = Field(
        default_factory=dict, description="the query's variables, as a record"
    )


class BasicAuth(ConfigModel):
    """HTTP Basic authentication."""

    user: StrOrEnv = Field(description="the user name")
    password: Secret = Field(description="the password, from the environment")


class ApiKeyAuth(ConfigModel):
    """A key sent in a header or a query parameter."""

    header: str | None = Field(default=None, description="the header that carries the key")
    query: str | None = Field(
        default=None, description="or: the query parameter that carries the key"
    )
    value: Secret = Field(description="the key, from the environment")

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if self.header is None and self.query is None:
            raise config_error(
                "E304",
                "missing `header` or `query`: where the key is sent",
                path=("header",),
                help='for example `header: "X-Api-Key"`',
            )
        if self.header is not None and self.query is not None:
            raise config_error("E303", "`header` and `query` cannot both be set", path=("query",))
        return self


class Auth(ConfigModel):
    """Exactly one way of authenticating; every credential comes from the environment."""

    bearer: Secret | None = Field(
        default=None, description="a token sent as `Authorization: Bearer`"
    )
    basic: BasicAuth | None = Field(default=None, description="HTTP Basic authentication")
    api_key: ApiKeyAuth | None = Field(
        default=None, description="a key in a header or query parameter"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Auth:
        chosen = [k for k in ("bearer", "basic", "api_key") if getattr(self, k) is not None]
        if not chosen:
            raise config_error("E304", "missing `bearer`, `basic` or `api_key`", path=("bearer",))
        if len(chosen) > 1:
            raise config_error(
                "E303",
                f"choose one way of authenticating, found `{chosen[0]}` and `{chosen[1]}`",
                path=(chosen[1],),
            )
        return self


class PagePagination(ConfigModel):
    """Numbered pages: the page number goes up by one until a page comes back empty."""

    kind: Literal["page"] = Field(description="`page`")
    param: str = Field(description="the query parameter (or GraphQL variable) for the number")
    start: int = Field(default=1, ge=0, description="the first page's number")
    size: int | None = Field(
        default=None, gt=0, description="records per page; a shorter page is the last one"
    )
    size_param: str | None = Field(default=None, description="the parameter that receives `size`")

    @model_validator(mode="after")
    def _size(self) -> PagePagination:
        if self.size_param is not None and self.size is None:
            raise config_error(
                "E304", "missing `size`: the value sent in `size_param`", path=("size",)
            )
        return self


class OffsetPagination(ConfigModel):
    """Offset and limit: the offset grows by `limit` until a page comes back short."""

    kind: Literal["offset"] = Field(description="`offset`")
    param: str = Field(description="the parameter for the offset of the first record (from 0)")
    limit_param: str = Field(description="the parameter that receives `limit`")
    limit: int = Field(gt=0, description="records per page")


class CursorPagination(ConfigModel):
    """A cursor taken from each response and sent with the next request (GraphQL-style)."""

    kind: Literal["cursor"] = Field(description="`cursor`")
    param: str = Field(description="the parameter (or GraphQL variable) that receives it")
    next: JsonPath = Field(
        description="where the next cursor is in the response, e.g. "
        "`$.data.repository.issues.pageInfo.endCursor`; paging stops when it is null"
    )
    has_more: JsonPath | None = Field(
        default=None, description="a boolean in the response; paging stops when it is false"
    )


class LinkPagination(ConfigModel):
    """Follows the `rel="next"` URL of the response's `Link` header (RFC 8288, was 5988)."""

    kind: Literal["link"] = Field(description="`link`")


Pagination = Annotated[
    PagePagination | OffsetPagination | CursorPagination | LinkPagination,
    Field(discriminator="kind"),
]


def _timestamp_as_text(value: object) -> object:
    # The checkpoint travels as a request parameter, so a timestamp is kept as its ISO text.
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


class Incremental(ConfigModel):
    """Incremental polling: only ask for what is newer than the last run saw."""

    field: str = Field(description="the record field whose largest value is saved after each page")
    param: str = Field(
        description="the query parameter (or GraphQL variable) that receives the saved value"
    )
    initial: Annotated[
        str | int | float | None,
        BeforeValidator(_timestamp_as_text),
        DocType("str, int, float or timestamp"),
    ] = Field(default=None, description="the value sent on the very first run; none when unset")


class HttpSource(ConfigModel):
    """Polls an HTTP API on a schedule (`every` or `cron`), REST or GraphQL. Each run sends
    the request, follows `pagination`, takes the records at the JSONPath `records` from
    every response, and hands them to the pipeline, one batch per page. With `cursor`, each run
    asks only for records newer than the previous run's (the checkpoint is kept in the
    store). Failed requests are retried with exponential backoff; a run that still fails
    is counted and the next run happens as scheduled.
    """

    url: Url = Field(description="the endpoint")
    method: Literal["GET", "POST"] | None = Field(
        default=None,
        description="`GET` or `POST`",
        json_schema_extra={"doc_default": "`GET`; `POST` with `body` or `graphql`"},
    )
    headers: Headers = Field(default_factory=dict, description="request headers")
    params: Params = Field(default_factory=dict, description="query parameters")
    body: Json | None = Field(default=None, description="a JSON request body (needs POST)")
    graphql: GraphQL | None = Field(default=None, description="a GraphQL query; implies POST")
    auth: Auth | None = Field(default=None, description="how to authenticate")
    every: Duration | None = Field(default=None, description="poll at this interval")
    cron: Cron | None = Field(default=None, description="or: poll on this cron schedule (UTC)")
    records: JsonPath = Field(
        default="$", description="where the records are in a response; a list gives one per item"
    )
    pagination: Pagination | None = Field(
        default=None, description="how to fetch the following pages: by `kind`"
    )
    max_pages: int | None = Field(
        default=None, gt=0, description="stop paging after this many pages"
    )
    cursor: Incremental | None = Field(default=None, description="incremental polling")
    timeout: Duration = Field(default=dt.timedelta(seconds=30), description="per request")
    retry: Retry = Field(default=RetryPolicy(), description="retries of a failed request")

    @model_validator(mode="before")
    @classmethod
    def _upper_method(cls, data: object) -> object:
        # `method: get` (a bare name) reads naturally; HTTP spells methods in capitals.
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            return {**data, "method": data["method"].upper()}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> HttpSource:
        if self.every is None and self.cron is None:
            raise config_error(
                "E304",
                "missing `every` or `cron`: an http source polls on a schedule",
                path=("every",),
                help='add `every: 5m` or `cron: "0 * * * *"`',
            )
        if self.every is not None and self.cron is not None:
            raise config_error("E303", "`every` and `cron` cannot both be set", path=("cron",))
        if self.graphql is not None and self.body is not None:
            raise config_error("E303", "`body` and `graphql` cannot both be set", path=("body",))
        if self.method == "GET" and (self.graphql is not None or self.body is not None):
            with_what = "`graphql`" if self.graphql is not None else "a `body`"
            raise config_error(
                "E303", f"a GET request cannot carry {with_what}: use POST", path=("method",)
            )
        if self.max_pages is not None and self.pagination is None:
            raise config_error(
                "E303", "`max_pages` only applies with `pagination`", path=("max_pages",)
            )
        return self

    @property
    def effective_method(self) -> Literal["GET", "POST"]:
        """The method sent: POST when a body or GraphQL query needs one, GET otherwise."""
        if self.method is not None:
            return self.method
        return "POST" if self.graphql is not None or self.body is not None else "GET"


CONNECTOR = declare_source(
    "http",
    HttpSource,
    accepts_schema=True,
    examples=(
        Example(
            "open_meteo",
            {
                "url": "https://api.open-meteo.com/v1/forecast",
                "params": {"latitude": "52.52", "longitude": "13.41", "current": "temperature_2m"},
                "every": dt.timedelta(minutes=5),
                "records": "$.current",
            },
            schema="time: str\ntemperature_2m: float",
            title="A REST API polled every 5 minutes",
        ),
        Example(
            "issues",
            {
                "url": "https://api.github.com/graphql",
                "graphql": {
                    "query": "query($repo: String!, $after: String) { repository(owner: "
                    '"acme", name: $repo) { issues(first: 100, after: $after) '
                    "{ nodes { number title } pageInfo { endCursor } } } }",
                    "variables": {"repo": "app"},
                },
                "auth": {"bearer": EnvRef("GITHUB_TOKEN")},
                "every": dt.timedelta(minutes=10),
                "records": "$.data.repository.issues.nodes",
                "pagination": {
                    "kind": "cursor",
                    "param": "after",
                    "next": "$.data.repository.issues.pageInfo.endCursor",
                },
                "max_pages": 20,
            },
            title="A GraphQL API with cursor pagination",
        ),
        Example(
            "events",
            {
                "url": "https://api.example.com/v1/events",
                "headers": {"Accept": "application/json"},
                "auth": {"api_key": {"header": "X-Api-Key", "value": EnvRef("EVENTS_KEY")}},
                "cron": "*/15 * * * *",
                "records": "$.items",
                "pagination": {
                    "kind": "page",
                    "param": "page",
                    "size_param": "per_page",
                    "size": 100,
                },
                "cursor": {
                    "field": "updated_at",
                    "param": "since",
                    "initial": "2026-01-01T00:00:00Z",
                },
                "timeout": dt.timedelta(seconds=10),
                "retry": {"attempts": 5, "backoff": dt.timedelta(seconds=2)},
            },
            title="Incremental polling: only events updated since the last run",
        ),
    ),
)
