"""Errors as JSON everywhere: `{"error": "...", "detail": ...}`, whatever raised them.

Handlers raise `ApiError` with a status and a sentence a person can act on. FastAPI's
own validation errors (a parameter of the wrong type or out of range) become 422 with the
same shape, naming each parameter; anything unexpected becomes a JSON 500 and is logged,
never a plain-text traceback page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowc.runtime.api_models import ErrorBody

log = logging.getLogger("flowc.api")

ErrorHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


class ApiError(HTTPException):
    """An answer other than 2xx: the status, a sentence, and a JSON-able detail."""

    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(status, error)
        self.error = error
        self.info = detail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of the error answers a route may give."""
    return {status: {"model": ErrorBody} for status in (*statuses, 422)}


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return JSONResponse({"error": error.error, "detail": error.info}, error.status_code)


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [
        {
            "parameter": ".".join(str(part) for part in problem.get("loc", ())[1:]) or None,
            "in": str(problem.get("loc", ("request",))[0]),
            "message": str(problem.get("msg", "")),
        }
        for problem in error.errors()
    ]
    names = ", ".join(str(p["parameter"] or p["in"]) for p in problems)
    return JSONResponse({"error": f"invalid parameters: {names}", "detail": problems}, 422)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    body = {"error": "internal error", "detail": f"{type(error).__name__}: {error}"}
    return JSONResponse(body, 500)


def error_handlers() -> dict[int | type[Exception], ErrorHandler]:
    """The app's exception handlers (Starlette picks the closest class of an error)."""
    return {
        ApiError: _api_error,
        RequestValidationError: _validation_error,
        Exception: _unexpected,
    }
