"""Who is asking: the user behind the session cookie or the ``Authorization: Bearer`` key.

Sets ``request.state.user`` (a ``User`` or None) for every HTTP request. A bearer key that
is unknown or revoked gets 401 at once rather than silently acting anonymously.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from forum.accounts.models import ApiKey, User
from forum.gates import Act, Attempt
from forum.web.errors import error_json

API_KEY_PREFIX = "fk_"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def user_from_api_key(key: str) -> User | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    api_key = await ApiKey.get_or_none(key_hash=hash_api_key(key), revoked_at=None)
    if api_key is None:
        return None
    user = await User.get_or_none(id=api_key.user_id, is_active=True)  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    if user is not None and (api_key.last_used_at is None
                             or now - api_key.last_used_at > timedelta(minutes=5)):
        await ApiKey.filter(id=api_key.id).update(last_used_at=now)
    return user


async def user_from_session(session: dict[str, object]) -> User | None:
    user_id = session.get("uid")
    if not isinstance(user_id, int):
        return None
    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None or session.get("ver") != user.session_version:
        session.pop("uid", None)
        session.pop("ver", None)
        return None
    return user


async def _log_in_refusal(scope: Scope, user: User) -> str | None:
    app = scope.get("app")
    platform = getattr(getattr(app, "state", None), "platform", None)
    if platform is None:
        return None
    reason: str | None = await platform.refusal(Attempt(Act.LOG_IN, user.id, None))
    return reason


async def _refuse(send: Send, status: int, message: str, *, code: str | None = None) -> None:
    body = json.dumps(error_json(status, message, code=code)).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer error="invalid_token"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        authorization = Headers(scope=scope).get("authorization", "")
        user: User | None
        if authorization.lower().startswith("bearer "):
            user = await user_from_api_key(authorization[7:].strip())
            if user is None:
                await _refuse(send, 401, "The API key is unknown or revoked.")
                return
            # A suspended or banned account's keys stop working (sessions end when the
            # penalty bumps session_version).
            reason = await _log_in_refusal(scope, user)
            if reason:
                await _refuse(send, 403, reason, code="account_suspended")
                return
            state["auth"] = "api_key"
        else:
            user = await user_from_session(scope.get("session", {}))
            state["auth"] = "session" if user else None
        state["user"] = user
        state["user_id"] = user.id if user else None
        await self.app(scope, receive, send)
