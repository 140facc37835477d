"""Reply tokens: compact, case-insensitive, and refused when forged, expired, revoked or
used by someone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from forum.mail.inbound_models import ReplyKey
from forum.mail.reply_tokens import (
    REPLY_PREFIX,
    TokenError,
    reply_address,
    reply_token,
    revoke_reply_keys,
    verify_reply_token,
)
from forum.platform import Platform
from forum.settings import Settings
from tests.factories import make_user
from tests.mail.inbound_support import DOMAIN, INBOUND_SETTINGS


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


async def refusal(settings: Settings, token: str, sender: str, **kw: Any) -> str:
    with pytest.raises(TokenError) as caught:
        await verify_reply_token(settings, token, sender, **kw)
    return caught.value.code


async def test_address_round_trip(platform: Platform, db: None) -> None:
    ada = await make_user("ada")
    address = await reply_address(platform.settings, kind="topic", target_id=2_147_483_647,
                                  user_id=ada.id)
    assert address is not None
    local, _, domain = address.partition("@")
    assert domain == DOMAIN
    assert local.startswith(REPLY_PREFIX) and len(local) <= 64
    assert local == local.lower()
    token = local.removeprefix(REPLY_PREFIX)
    target = await verify_reply_token(platform.settings, token, "ADA@example.org")
    assert (target.kind, target.target_id, target.user_id) == ("topic", 2_147_483_647, ada.id)
    assert target.expires_at > datetime.now(UTC) + timedelta(days=89)
    # Mail systems may upper-case a local part: the token still verifies.
    assert (await verify_reply_token(platform.settings, token.upper(),
                                     "ada@example.org")).kind == "topic"
    ticket = await reply_token(platform.settings, kind="ticket", target_id=7, user_id=ada.id)
    assert (await verify_reply_token(platform.settings, ticket, "ada@example.org")).kind == \
        "ticket"
    # One key per user, reused for every token.
    assert await ReplyKey.filter(user_id=ada.id).count() == 1


async def test_no_address_without_a_mail_in_domain(platform: Platform, db: None) -> None:
    ada = await make_user("ada")
    settings = platform.settings.model_copy(update={"mail_in_domain": ""})
    assert await reply_address(settings, kind="topic", target_id=1, user_id=ada.id) is None
    with pytest.raises(ValueError):
        await reply_token(settings, kind="wiki", target_id=1, user_id=ada.id)


async def test_forged_tokens_are_refused(platform: Platform, db: None) -> None:
    settings = platform.settings
    ada = await make_user("ada")
    token = await reply_token(settings, kind="topic", target_id=5, user_id=ada.id)
    # Another character anywhere: the MAC no longer matches (or the token does not decode).
    for index in range(len(token)):
        for letter in "a7":  # no bits in common: every position changes its bits
            if token[index] != letter:
                changed = token[:index] + letter + token[index + 1:]
                assert await refusal(settings, changed, "ada@example.org") in {
                    "forged", "malformed"}
    # The last character carries two bits of the MAC and three unused ones: another
    # spelling of the same bytes is refused too (one token, one address).
    last = "abcdefghijklmnopqrstuvwxyz234567"
    same_bits = [c for c in last if last.index(c) >> 3 == last.index(token[-1]) >> 3]
    for letter in same_bits:
        if letter != token[-1]:
            assert await refusal(settings, token[:-1] + letter, "ada@example.org") == \
                "malformed"
    # Signed with another platform's secret.
    other = settings.model_copy(update={"secret_key": SecretStr("another-secret")})
    foreign = await reply_token(other, kind="topic", target_id=5, user_id=ada.id)
    assert await refusal(settings, foreign, "ada@example.org") == "forged"
    # A well-formed token naming ids no database holds (a 33-bit user id): malformed,
    # refused before any lookup.
    import struct

    from forum.mail import reply_tokens

    huge = struct.pack(">BBIII", 1, 1, 5, 3_221_225_473, 2**32 - 1) + b"\0" * 10
    assert await refusal(settings, reply_tokens._encode(huge), "ada@example.org") == \
        "malformed"
    with pytest.raises(ValueError):
        await reply_token(settings, kind="topic", target_id=0, user_id=ada.id)
    for junk in ("", "hello", "!!!!", token[:-8], token + "aaaaaaaa"):
        assert await refusal(settings, junk, "ada@example.org") == "malformed"


async def test_expired_tokens_are_refused(platform: Platform, db: None) -> None:
    settings = platform.settings
    ada = await make_user("ada")
    long_ago = datetime.now(UTC) - timedelta(days=settings.reply_token_max_age_days + 1)
    old = await reply_token(settings, kind="topic", target_id=5, user_id=ada.id, now=long_ago)
    assert await refusal(settings, old, "ada@example.org") == "expired"
    fresh = await reply_token(settings, kind="topic", target_id=5, user_id=ada.id)
    later = datetime.now(UTC) + timedelta(days=settings.reply_token_max_age_days + 1)
    assert await refusal(settings, fresh, "ada@example.org", now=later) == "expired"


async def test_revoked_tokens_are_refused_and_new_ones_work(platform: Platform,
                                                            db: None) -> None:
    settings = platform.settings
    ada = await make_user("ada")
    bob = await make_user("bob")
    old = await reply_token(settings, kind="topic", target_id=5, user_id=ada.id)
    bobs = await reply_token(settings, kind="topic", target_id=5, user_id=bob.id)
    assert await revoke_reply_keys(ada.id) == 1
    assert await refusal(settings, old, "ada@example.org") == "revoked"
    new = await reply_token(settings, kind="topic", target_id=5, user_id=ada.id)
    assert (await verify_reply_token(settings, new, "ada@example.org")).user_id == ada.id
    # Revoking Ada's addresses leaves Bob's alone.
    assert (await verify_reply_token(settings, bobs, "bob@example.org")).user_id == bob.id


async def test_cross_user_tokens_are_refused(platform: Platform, db: None) -> None:
    settings = platform.settings
    ada = await make_user("ada")
    await make_user("bob")
    unverified = await make_user("carl", verified=False)
    token = await reply_token(settings, kind="topic", target_id=5, user_id=ada.id)
    assert await refusal(settings, token, "bob@example.org") == "cross_user"
    assert await refusal(settings, token, "stranger@example.net") == "cross_user"
    carls = await reply_token(settings, kind="topic", target_id=5, user_id=unverified.id)
    assert await refusal(settings, carls, "carl@example.org") == "cross_user"
    ada.is_active = False
    await ada.save()
    assert await refusal(settings, token, "ada@example.org") == "cross_user"
