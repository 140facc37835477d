"""``POST /webhooks/github``: GitHub's deliveries (signed, so exempt from CSRF)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from plugins.github_import.webhook import receive

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


async def github_webhook(request: Request) -> JSONResponse:
    """Check the signature, store the delivery once and queue its processing; answers at
    once (GitHub gives up after ten seconds)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return JSONResponse({"error": {"code": "too_large", "message": "payload too large",
                                       "fields": {}}}, 413)
    body = await request.body()
    received = await receive(request.app.state.platform,
                             request.headers.get("x-github-event", ""),
                             request.headers.get("x-github-delivery", ""), body,
                             request.headers.get("x-hub-signature-256"))
    if received.status >= 400:
        return JSONResponse({"error": {"code": "refused", "message": received.message,
                                       "fields": {}}}, received.status)
    return JSONResponse({"ok": True, "message": received.message}, received.status)


def routes() -> list[BaseRoute]:
    return [Route("/webhooks/github", github_webhook, methods=["POST"],
                  name="github_import_webhook")]
