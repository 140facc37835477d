"""Signed, expiring, single-use tokens for the links we mail (verification, password reset).

A token is ``itsdangerous`` ``URLSafeTimedSerializer`` output signed with the platform
secret and a salt per purpose, so a verification token is no reset token. It expires after
``settings.token_max_age_seconds``. Once acted upon, its SHA-256 goes into ``UsedToken``
(in the same transaction as the change), so a second click finds it spent.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError

from forum.accounts.models import UsedToken
from forum.settings import Settings
from forum.web.errors import UserError

VERIFY_EMAIL = "verify-email"
PASSWORD_RESET = "password-reset"


class BadLink(UserError):
    """An emailed link that is malformed, expired or already used: 400, nothing changed."""

    def __init__(self, message: str, *, purpose: str, reason: str) -> None:
        super().__init__(400, message, code=f"link_{reason}")
        self.purpose = purpose
        self.reason = reason


def serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret(), salt=f"forum.accounts.{purpose}")


def make_token(settings: Settings, purpose: str, payload: dict[str, Any]) -> str:
    return str(serializer(settings, purpose).dumps(payload))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_token(settings: Settings, purpose: str, token: str) -> dict[str, Any]:
    """The payload of a valid, unexpired token; ``BadLink`` otherwise (use not checked)."""
    try:
        payload = serializer(settings, purpose).loads(
            token, max_age=settings.token_max_age_seconds)
    except SignatureExpired:
        raise BadLink("This link has expired.", purpose=purpose, reason="expired") from None
    except BadSignature:
        raise BadLink("This link is not valid. Check that you copied all of it.",
                      purpose=purpose, reason="invalid") from None
    if not isinstance(payload, dict):
        raise BadLink("This link is not valid.", purpose=purpose, reason="invalid")
    return payload


def used_link(purpose: str) -> BadLink:
    return BadLink("This link has already been used.", purpose=purpose, reason="used")


async def check_unused(token: str, purpose: str) -> None:
    if await UsedToken.exists(digest=token_digest(token)):
        raise used_link(purpose)


async def spend(token: str, purpose: str) -> None:
    """Mark ``token`` used; call inside the transaction that acts on it.

    A concurrent second use fails on the unique digest, and its transaction rolls back.
    """
    try:
        await UsedToken.create(digest=token_digest(token), purpose=purpose)
    except IntegrityError:
        raise used_link(purpose) from None
