"""Incoming mail on the web: the providers' webhook, the admin's log, revoking one's own
reply addresses.

``POST /mail/inbound``: providers' inbound webhooks deliver the raw MIME message here.

The body is the message itself (``message/rfc822``, or any type: it is read as bytes).
The caller proves itself with the shared secret FORUM_MAIL_IN_SECRET in the header
``X-Forum-Inbound-Secret`` (compared in constant time; with no secret set, nothing is
accepted). Answers: 401 without the secret, 413 over FORUM_MAIL_IN_MAX_BYTES, 400 for
MIME that does not parse, 503 when the forum failed (the provider retries), otherwise 200
with ``{"status", "reason", "url"}`` (``posted``, ``bounced``, ``dropped``, ``rejected``).
The body limit of other requests does not apply here (see ``forum/app.py``).

``/admin/mail`` (and ``GET /api/v1/admin/mail/inbound``) lists what arrived and what became
of it, for platform admins; ``/admin/mail/{id}/raw`` downloads a message as received.
``POST /account/reply-addresses/revoke`` (and the API twin) makes every reply address the
user was sent stop working.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.functions import Count

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.mail.inbound import receive_mail
from forum.mail.inbound_models import InboundMessage, InboundStatus
from forum.mail.inbound_schemas import InboundLog, InboundMessageOut, RevokedOut
from forum.mail.reply_tokens import MAX_ID, revoke_reply_keys
from forum.web.api import api_route
from forum.web.errors import Forbidden, Invalid, NotFound, error_json
from forum.web.templating import flash, render

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


def access_mail_admin(request: Request) -> User:
    """The signed-in platform admin; 401 when signed out, 403 for anyone else."""
    user = require_user(request)
    if not user.is_platform_admin:
        raise Forbidden("Only platform admins may read the incoming mail.")
    return user


def _status_filter(request: Request) -> InboundStatus | None:
    value = request.query_params.get("status", "")
    if not value:
        return None
    try:
        return InboundStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in InboundStatus)
        raise Invalid(f"Unknown status {value!r}.",
                      fields={"status": f"one of {choices}"}) from None


async def inbound_log(status: InboundStatus | None) -> InboundLog:
    query = InboundMessage.all() if status is None else InboundMessage.filter(status=status)
    rows = await query.order_by("-id").limit(100)
    counted = await InboundMessage.all().group_by("status").annotate(
        n=Count("id")).values("status", "n")
    counts = {s.value: 0 for s in InboundStatus}
    counts.update({str(row["status"]): int(row["n"]) for row in counted})
    return InboundLog(counts=counts, messages=[InboundMessageOut.of(r) for r in rows])


async def admin_page(request: Request) -> Response:
    if current_user(request) is None:
        target = urlencode({"next": request.url.path})
        return RedirectResponse(f"/login?{target}", status_code=303)
    access_mail_admin(request)
    status = _status_filter(request)
    return await render(request, "mail_in/admin.html",
                        {"log": await inbound_log(status), "status": status,
                         "statuses": list(InboundStatus)})


async def admin_raw(request: Request) -> Response:
    access_mail_admin(request)
    message_id: int = request.path_params["message_id"]
    row = (await InboundMessage.get_or_none(id=message_id)
           if 0 < message_id <= MAX_ID else None)
    if row is None:
        raise NotFound("There is no such message.")
    # Served as an attachment in plain text: never rendered as a page of this site.
    return Response(bytes(row.raw_message), media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="inbound-{row.id}.eml"'})


@api_route("GET", "/api/v1/admin/mail/inbound", response=InboundLog, errors=(403, 422),
           tag="admin")
async def api_inbound_log(request: Request) -> InboundLog:
    """Incoming mail: counts per status and the latest messages (``?status=``), for
    platform admins."""
    access_mail_admin(request)
    return await inbound_log(_status_filter(request))


async def revoke_form(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?" + urlencode({"next": "/account"}), status_code=303)
    await revoke_reply_keys(user.id)
    flash(request, "Replies to the emails you received so far will no longer be posted. "
                   "New emails carry new reply addresses.", "success")
    return RedirectResponse("/account#reply-by-email", status_code=303)


@api_route("POST", "/api/v1/account/reply-addresses/revoke", response=RevokedOut,
           tag="account")
async def api_revoke(request: Request) -> RevokedOut:
    """Stop every reply address sent to you so far from posting (new emails get new ones)."""
    user = require_user(request)
    return RevokedOut(revoked=await revoke_reply_keys(user.id))


def routes() -> list[BaseRoute]:
    return [
        Route("/mail/inbound", inbound, methods=["POST"], name="mail_inbound"),
        Route("/admin/mail", admin_page, methods=["GET"], name="admin_mail"),
        Route("/admin/mail/{message_id:int}/raw", admin_raw, methods=["GET"],
              name="admin_mail_raw"),
        api_inbound_log,
        Route("/account/reply-addresses/revoke", revoke_form, methods=["POST"],
              name="revoke_reply_addresses"),
        api_revoke,
    ]
