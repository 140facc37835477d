"""``POST /mail/inbound``: providers' inbound webhooks deliver the raw MIME message here.

The body is the message itself (``message/rfc822``, or any type: it is read as bytes).
The caller proves itself with the shared secret FORUM_MAIL_IN_SECRET in the header
``X-Forum-Inbound-Secret`` (compared in constant time; with no secret set, nothing is
accepted). Answers: 401 without the secret, 413 over FORUM_MAIL_IN_MAX_BYTES, 400 for
MIME that does not parse, 503 when the forum failed (the provider retries), otherwise 200
with ``{"status", "reason", "url"}`` (``posted``, ``bounced``, ``dropped``, ``rejected``).
The body limit of other requests does not apply here (see ``forum/app.py``).
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from forum.mail.inbound import receive_mail
from forum.web.errors import error_json

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Forum-Inbound-Secret"


def _error(status: int, message: str, code: str | None = None) -> JSONResponse:
    return JSONResponse(error_json(status, message, code=code), status_code=status)


async def _read_limited(request: Request, limit: int) -> tuple[bytes, int]:
    """The body, at most ``limit + 1`` bytes kept; and its full size (announced or read)."""
    kept = bytearray()
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if len(kept) <= limit:
            kept += chunk[:limit + 1 - len(kept)]
        if total > limit:
            break  # enough to know it is too big; the rest is never read
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() and int(declared) > total else total
    return bytes(kept), size


async def inbound(request: Request) -> JSONResponse:
    platform = request.app.state.platform
    settings = platform.settings
    secret = settings.mail_in_secret.get_secret_value().encode()
    supplied = request.headers.get(SECRET_HEADER, "").encode()
    if not secret or not hmac.compare_digest(supplied, secret):
        return _error(401, f"A valid {SECRET_HEADER} header is required.")
    raw, size = await _read_limited(request, settings.mail_in_max_bytes)
    try:
        outcome = await receive_mail(platform, raw, size=size)
    except Exception:
        log.exception("inbound mail over HTTP failed")
        return _error(503, "The message could not be processed now; try again later.")
    if outcome.smtp_code == 552:
        return _error(413, f"The message is larger than {settings.mail_in_max_bytes} bytes.")
    if outcome.smtp_code == 554:
        return _error(400, f"The message cannot be read: {outcome.reason}.",
                      code="malformed_message")
    return JSONResponse({"status": str(outcome.status), "reason": outcome.reason,
                         "url": outcome.url})


def routes() -> list[BaseRoute]:
    return [Route("/mail/inbound", inbound, methods=["POST"], name="mail_inbound")]
