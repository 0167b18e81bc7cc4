"""The `webhook` source: records POSTed to the runtime's HTTP server."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from flowc.stdlib.connectors.base import (
    ConfigModel,
    DocType,
    EnvRef,
    Example,
    Secret,
    config_error,
    declare_source,
    found,
)
from flowc.stdlib.connectors.common import JsonPath, only_with

_PATH = re.compile(r"/[A-Za-z0-9._~\-/]*")


def _route(value: str) -> str:
    if not _PATH.fullmatch(value):
        raise config_error(
            "E303",
            'expected a path starting with "/", such as "/hooks/github" (letters, digits, '
            f"`-`, `_`, `.`, `~` and `/`), found {found(value)}",
        )
    return value


Route = Annotated[str, AfterValidator(_route), DocType("path")]


class WebhookSource(ConfigModel):
    """Receives records POSTed to the runtime's HTTP server at `path`: a JSON object, a JSON
    array or JSON lines. With `secret`, each request must carry an HMAC-SHA256 signature of
    its body (as GitHub, Stripe-style and most SaaS webhooks send it); with `token`, a
    bearer token. A request is answered 2xx only once its records are durable; a bad
    signature gets 401 and a bad body 400, and both are counted. A webhook with neither
    `secret` nor `token` accepts anything that reaches it, which the checker warns about.
    """

    path: Route = Field(description="the URL path the runtime serves, starting with `/`")
    secret: Secret | None = Field(
        default=None, description="the shared key of the HMAC-SHA256 signature of the body"
    )
    signature_header: str = Field(
        default="X-Hub-Signature-256", min_length=1, description="the header carrying the signature"
    )
    signature_prefix: str = Field(
        default="sha256=", description="text before the hex digest in that header"
    )
    token: Secret | None = Field(
        default=None, description="or: a token expected as `Authorization: Bearer <token>`"
    )
    max_body: int = Field(
        default=1_048_576, gt=0, description="the largest accepted body, in bytes (larger gets 413)"
    )
    records: JsonPath = Field(
        default="$", description="where the records are in the body; a list gives one per item"
    )

    @model_validator(mode="after")
    def _one_check(self) -> WebhookSource:
        if self.secret is not None and self.token is not None:
            raise config_error(
                "E303",
                "`secret` and `token` cannot both be set: choose one way to authenticate",
                path=("token",),
            )
        only_with(self, "signature_header", self.secret is not None, "with `secret`")
        only_with(self, "signature_prefix", self.secret is not None, "with `secret`")
        return self

    @property
    def is_authenticated(self) -> bool:
        """Whether requests are checked at all (the checker warns, W503, when not)."""
        return self.secret is not None or self.token is not None


CONNECTOR = declare_source(
    "webhook",
    WebhookSource,
    accepts_schema=True,
    examples=(
        Example(
            "gh",
            {
                "path": "/hooks/github",
                "secret": EnvRef("GITHUB_WEBHOOK_SECRET"),
                "records": "$",
            },
            schema="action: str\nrepository: { full_name: str }",
            title="GitHub webhooks, checked with the repository's webhook secret",
        ),
        Example(
            "readings",
            {"path": "/ingest/readings", "token": EnvRef("INGEST_TOKEN"), "max_body": 10_485_760},
            schema="sensor: str\ntemp: float",
            title="Devices posting JSON lines with a bearer token",
        ),
    ),
)
