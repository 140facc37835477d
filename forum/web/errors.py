"""Errors a user can cause, and how they are shown: one JSON shape for the API, pages for HTML.

The API shape is ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


class UserError(Exception):
    """A refusal with a status, a stable code, a message and optional per-field messages."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.fields = fields or {}
        self.headers = headers


class NotFound(UserError):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(404, message)


class Forbidden(UserError):
    def __init__(self, message: str = "You do not have permission to do that.") -> None:
        super().__init__(403, message)


class Unauthenticated(UserError):
    def __init__(self, message: str = "Please log in first.") -> None:
        super().__init__(401, message)


class Conflict(UserError):
    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(409, message, fields=fields)


class Invalid(UserError):
    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(422, message, fields=fields)


def invalid_from_pydantic(exc: ValidationError) -> Invalid:
    fields: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"]) or "body"
        message = str(error["msg"]).removeprefix("Value error, ")
        fields.setdefault(name, message)
    names = ", ".join(fields)
    return Invalid(f"Please correct: {names}.", fields=fields)


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    return "application/json" in request.headers.get("accept", "") and (
        "text/html" not in request.headers.get("accept", "")
    )


def error_json(
    status: int, message: str, *, code: str | None = None, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code or CODES.get(status, "error"), "message": message,
                      "fields": fields or {}}}


async def render_error(request: Request, status: int, message: str, *, code: str | None = None,
                       fields: dict[str, str] | None = None,
                       headers: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        return JSONResponse(error_json(status, message, code=code, fields=fields),
                            status_code=status, headers=headers)
    from forum.web.templating import render

    try:
        return await render(request, "error.html", {"status": status, "message": message,
                                              "fields": fields or {}},
                      status_code=status, headers=headers)
    except Exception:  # the error page itself must never fail
        log.exception("rendering the error page failed")
        return Response(f"{status} {message}", status_code=status, media_type="text/plain")


async def user_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UserError)
    return await render_error(request, exc.status, exc.message, code=exc.code,
                              fields=exc.fields, headers=exc.headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: "Page not found.", 405: "Method not allowed."}
    message = exc.detail if exc.detail and exc.detail != _default_phrase(exc.status_code) else (
        messages.get(exc.status_code, _default_phrase(exc.status_code)))
    return await render_error(request, exc.status_code, message,
                              headers=dict(exc.headers) if exc.headers else None)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    invalid = invalid_from_pydantic(exc)
    return await render_error(request, 422, invalid.message, fields=invalid.fields)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"request_id": request.scope.get("request_id")})
    return await render_error(request, 500, "Something went wrong on our side. "
                              f"Reference: {request.scope.get('request_id', '-')}.")


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: dict[Any, Any] = {
    UserError: user_error_handler,
    HTTPException: http_exception_handler,
    ValidationError: validation_error_handler,
    Exception: server_error_handler,
}
