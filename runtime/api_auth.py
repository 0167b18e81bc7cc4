"""The API's and dashboards' token: required as soon as the server listens beyond loopback.

On 127.0.0.1, ::1 or localhost only the machine's own users reach the server, as with any
local development tool. Listening anywhere else exposes pipelines, records and dead letters
(and buttons that replay and trigger runs) to the network, so `flowc run` refuses to start
without `FLOWC_API_TOKEN` then. A token that is set is enforced on loopback too.

The token is accepted as `Authorization: Bearer <token>`, or as `?token=<token>` for what
cannot set headers (a browser's EventSource, a link). Webhooks are left alone: they have
their own authentication (a bearer token or a signature per source), which senders use.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Collection, Mapping
from urllib.parse import parse_qs

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

API_TOKEN_ENV = "FLOWC_API_TOKEN"


class ServerConfigError(Exception):
    """The server cannot start as asked (listening beyond loopback without a token)."""


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def api_token(host: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The token the API and dashboards require when listening on `host`, if any.

    Raises ServerConfigError when `host` is not loopback and no token is set.
    """
    token = (os.environ if environ is None else environ).get(API_TOKEN_ENV, "").strip()
    if token:
        return token
    if is_loopback(host):
        return None
    raise ServerConfigError(
        f"listening on {host} exposes the API and dashboards beyond this machine: set "
        f"{API_TOKEN_ENV} to a secret token (clients send it as `Authorization: Bearer "
        "<token>` or `?token=<token>`), or listen on 127.0.0.1"
    )


class TokenGuard:
    """ASGI middleware: every HTTP request but those to `open_paths` needs the token."""

    def __init__(self, app: ASGIApp, token: str, open_paths: Collection[str]) -> None:
        self.app = app
        self.token = token.encode()
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = self._given(scope)
        if given is None or not hmac.compare_digest(given, self.token):
            what = "is missing" if given is None else "does not match"
            response = JSONResponse(
                {
                    "error": f"the API token {what}",
                    "detail": {"header": "Authorization: Bearer <token>", "query": "token"},
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _given(scope: Scope) -> bytes | None:
        for key, value in scope["headers"]:
            if key == b"authorization":
                scheme, _, credentials = bytes(value).partition(b" ")
                if scheme.lower() == b"bearer" and credentials.strip():
                    return credentials.strip()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        return tokens[-1].encode() if tokens else None
