"""``POST /webhooks/stripe``: Stripe's events, signature checked, each taken in once.

400 for a missing, wrong or stale signature (nothing done); 200 for an event taken in now,
a duplicate, or a type billing ignores; 503 when payments are not set up; 409 when another
event about the same payment was written at the same moment and 500 when Stripe could not
be read (in both cases nothing was written, and Stripe delivers the event again later)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from forum.billing.gateway import gateway_for
from forum.billing.webhooks import take_event
from forum.projects.routes import platform_of
from forum.web.errors import UserError

log = logging.getLogger(__name__)


def _error(exc: UserError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message, "fields": {}}},
                        status_code=exc.status)


async def stripe_webhook(request: Request) -> Response:
    platform = platform_of(request)
    payload = await request.body()
    try:
        gateway = gateway_for(platform)
        event = gateway.verify_event(payload, request.headers.get("stripe-signature", ""))
    except UserError as exc:
        return _error(exc)
    try:
        result = await take_event(platform, gateway, event)
    except UserError as exc:
        log.warning("Stripe event %s (%s) not taken in: %s", event.get("id"),
                    event.get("type"), exc.message)
        status = 409 if exc.status == 409 else 500
        return JSONResponse({"error": {"code": exc.code, "message": exc.message,
                                       "fields": {}}}, status_code=status)
    return JSONResponse({"received": True, "id": event["id"], "result": result})


def routes() -> list[BaseRoute]:
    return [Route("/webhooks/stripe", stripe_webhook, methods=["POST"],
                  name="stripe_webhook")]
