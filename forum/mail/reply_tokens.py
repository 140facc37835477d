"""Reply addresses: ``reply+<token>@<FORUM_MAIL_IN_DOMAIN>``, one per recipient and target.

The token packs what a reply is for (``topic`` or ``ticket`` and its id), who may send it
(the user id) and until when (minutes since the epoch), then a MAC over those bytes keyed
by the platform secret and the user's current ``ReplyKey``. Revoking the key kills every
address the user was sent. Base32 in lower case: mail systems may change the case of a
local part, and 24 bytes make 39 characters, well inside the 64 a local part may have.

Verification reports why a token fails, strongest reason first: ``malformed`` (not a
token), ``forged`` (no key of its user signed it), ``revoked``, ``expired``, then
``cross_user`` (signed for someone whose verified address is not the sender's).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from forum.accounts.models import User
from forum.mail.inbound_models import ReplyKey
from forum.settings import Settings

REPLY_PREFIX = "reply+"
KINDS = {"topic": 1, "ticket": 2}
KIND_NAMES = {code: name for name, code in KINDS.items()}
VERSION = 1
_PAYLOAD = struct.Struct(">BBIII")  # version, kind, target id, user id, expiry minute
MAC_BYTES = 10
MAX_ID = 2_147_483_647  # ids are 32-bit integer columns
TOKEN_BYTES = _PAYLOAD.size + MAC_BYTES


@dataclass(frozen=True)
class ReplyTarget:
    """What a verified token allows: ``user_id`` posting into ``kind`` ``target_id``."""

    kind: str
    target_id: int
    user_id: int
    expires_at: datetime


class TokenError(Exception):
    """A token that does not verify; ``code`` is one of the reasons in the module doc."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def reply_domain(settings: Settings) -> str:
    """The domain of reply and support addresses; empty when incoming mail is off."""
    return settings.mail_in_domain.strip().lower()


def _mac(settings: Settings, payload: bytes, key: str) -> bytes:
    # A key of its own for tokens, so a MAC here is never valid anywhere else.
    purpose_key = hmac.new(settings.secret().encode(), b"forum.mail.reply-token",
                           hashlib.sha256).digest()
    return hmac.new(purpose_key, payload + b"\x00" + key.encode(),
                    hashlib.sha256).digest()[:MAC_BYTES]


def _encode(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _decode(token: str) -> bytes:
    text = token.strip().upper()
    padded = text + "=" * (-len(text) % 8)
    try:
        data = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        raise TokenError("malformed", "This is not a reply address.") from None
    if _encode(data) != text.lower():  # one spelling per token: no unused bits set
        raise TokenError("malformed", "This is not a reply address.")
    return data


async def current_key(user_id: int) -> str:
    """The user's newest key that is not revoked, created on first use."""
    key = await ReplyKey.filter(user_id=user_id, revoked_at=None).order_by("-id").first()
    if key is None:
        key = await ReplyKey.create(user_id=user_id, key=secrets.token_urlsafe(32))
    return key.key


async def revoke_reply_keys(user_id: int, *, now: datetime | None = None) -> int:
    """Invalidate every reply address sent to the user so far; returns the keys revoked."""
    return await ReplyKey.filter(user_id=user_id, revoked_at=None).update(
        revoked_at=now or datetime.now(UTC))


async def reply_token(settings: Settings, *, kind: str, target_id: int, user_id: int,
                      now: datetime | None = None) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown reply target kind {kind!r}")
    if not (0 < target_id <= MAX_ID and 0 < user_id <= MAX_ID):
        raise ValueError("ids must be positive 32-bit integers")
    now = now or datetime.now(UTC)
    expires = now + timedelta(days=settings.reply_token_max_age_days)
    payload = _PAYLOAD.pack(VERSION, KINDS[kind], target_id, user_id,
                            int(expires.timestamp() // 60))
    return _encode(payload + _mac(settings, payload, await current_key(user_id)))


async def reply_address(settings: Settings, *, kind: str, target_id: int, user_id: int,
                        now: datetime | None = None) -> str | None:
    """``reply+<token>@<domain>`` for this user and target; None while incoming mail is
    off (no FORUM_MAIL_IN_DOMAIN)."""
    domain = reply_domain(settings)
    if not domain:
        return None
    token = await reply_token(settings, kind=kind, target_id=target_id, user_id=user_id,
                              now=now)
    return f"{REPLY_PREFIX}{token}@{domain}"


async def verify_reply_token(settings: Settings, token: str, sender_email: str, *,
                             now: datetime | None = None) -> ReplyTarget:
    """The target of ``token`` if it verifies and ``sender_email`` is its user's verified
    address; ``TokenError`` otherwise."""
    data = _decode(token)
    if len(data) != TOKEN_BYTES:
        raise TokenError("malformed", "This is not a reply address.")
    payload, mac = data[:_PAYLOAD.size], data[_PAYLOAD.size:]
    version, kind_code, target_id, user_id, expiry_minute = _PAYLOAD.unpack(payload)
    if (version != VERSION or kind_code not in KIND_NAMES
            or not (0 < target_id <= MAX_ID and 0 < user_id <= MAX_ID)):
        # Ids beyond the database's integers: never issued (and PostgreSQL would refuse
        # to look them up).
        raise TokenError("malformed", "This is not a reply address.")
    keys = await ReplyKey.filter(user_id=user_id).order_by("-id")
    signer = next((k for k in keys if hmac.compare_digest(_mac(settings, payload, k.key), mac)),
                  None)
    if signer is None:
        raise TokenError("forged", "This reply address was not issued by this forum.")
    if signer.revoked_at is not None:
        raise TokenError("revoked", "This reply address has been revoked.")
    expires_at = datetime.fromtimestamp(expiry_minute * 60, UTC)
    if expires_at <= (now or datetime.now(UTC)):
        raise TokenError("expired", "This reply address has expired.")
    user = await User.get_or_none(id=user_id, is_active=True)
    if (user is None or not user.is_verified
            or user.email.lower() != sender_email.strip().lower()):
        raise TokenError("cross_user", "This reply address was sent to someone else; only "
                                       "they can reply through it.")
    return ReplyTarget(KIND_NAMES[kind_code], target_id, user_id, expires_at)
