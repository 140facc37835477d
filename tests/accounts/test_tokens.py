"""Emailed links: expired, reused, tampered or foreign tokens show a 400 page and change
nothing."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner

from forum.accounts import tokens
from forum.accounts.models import UsedToken, User
from forum.accounts.service import password_fingerprint
from forum.platform import Platform
from tests.factories import PASSWORD, make_user
from tests.support import csrf_from


def old_token(platform: Platform, purpose: str, payload: dict[str, Any], age: int) -> str:
    """A token signed ``age`` seconds ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = tokens.serializer(platform.settings, purpose)
    serializer.signer = Earlier
    return str(serializer.dumps(payload))


def verify_token(platform: Platform, user: User, age: int = 0) -> str:
    payload = {"uid": user.id, "email": user.email}
    if age:
        return old_token(platform, tokens.VERIFY_EMAIL, payload, age)
    return tokens.make_token(platform.settings, tokens.VERIFY_EMAIL, payload)


def reset_token(platform: Platform, user: User, age: int = 0) -> str:
    payload = {"uid": user.id, "pw": password_fingerprint(user)}
    if age:
        return old_token(platform, tokens.PASSWORD_RESET, payload, age)
    return tokens.make_token(platform.settings, tokens.PASSWORD_RESET, payload)


async def test_expired_verification_link(client: httpx.AsyncClient, platform: Platform) -> None:
    user = await make_user("amy", verified=False)
    token = verify_token(platform, user, age=platform.settings.token_max_age_seconds + 5)
    response = await client.get(f"/verify-email?token={token}")
    assert response.status_code == 400
    assert "This link has expired" in response.text
    assert "Nothing was changed" in response.text
    assert 'href="/verify-email/resend"' in response.text
    await user.refresh_from_db()
    assert not user.is_verified
    assert await UsedToken.all().count() == 0


async def test_a_token_just_inside_its_age_still_works(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    user = await make_user("ann", verified=False)
    token = verify_token(platform, user, age=platform.settings.token_max_age_seconds - 30)
    assert (await client.get(f"/verify-email?token={token}")).status_code == 303
    await user.refresh_from_db()
    assert user.is_verified


async def test_reused_verification_link(client: httpx.AsyncClient, platform: Platform) -> None:
    user = await make_user("ben", verified=False)
    token = verify_token(platform, user)
    assert (await client.get(f"/verify-email?token={token}")).status_code == 303
    await user.refresh_from_db()
    first = user.email_verified_at
    again = await client.get(f"/verify-email?token={token}")
    assert again.status_code == 400
    assert "already used" in again.text
    await user.refresh_from_db()
    assert user.email_verified_at == first


async def test_tampered_missing_and_foreign_tokens(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    user = await make_user("cat", verified=False)
    token = verify_token(platform, user)
    for bad in (token[:-3] + "abc", "", "garbage", reset_token(platform, user)):
        response = await client.get(f"/verify-email?token={bad}")
        assert response.status_code == 400, bad
        assert "not valid" in response.text
    # A verification token does not open the reset form either.
    assert (await client.get(f"/password/reset?token={token}")).status_code == 400
    await user.refresh_from_db()
    assert not user.is_verified


async def test_verification_link_for_a_changed_address_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    user = await make_user("dan", verified=False)
    token = verify_token(platform, user)
    await User.filter(id=user.id).update(email="dan-new@example.org")
    assert (await client.get(f"/verify-email?token={token}")).status_code == 400
    await user.refresh_from_db()
    assert not user.is_verified


async def test_expired_reset_link(client: httpx.AsyncClient, platform: Platform) -> None:
    user = await make_user("eve")
    token = reset_token(platform, user, age=platform.settings.token_max_age_seconds + 1)
    page = await client.get(f"/password/reset?token={token}")
    assert page.status_code == 400
    assert "expired" in page.text
    assert 'href="/password/forgot"' in page.text
    csrf = await csrf_from(client, "/password/forgot")
    post = await client.post("/password/reset", data={
        "token": token, "password": "a brand new passphrase", "csrf_token": csrf})
    assert post.status_code == 400
    await user.refresh_from_db()
    assert user.session_version == 1
    assert (await client.post("/api/v1/auth/login", json={
        "login": "eve", "password": PASSWORD})).status_code == 200


async def test_reset_link_dies_when_the_password_changes(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    user = await make_user("fay")
    first = reset_token(platform, user)
    second = reset_token(platform, user, age=1)  # a second mail, asked for a bit earlier
    csrf = await csrf_from(client, "/password/forgot")
    used = await client.post("/password/reset", data={
        "token": second, "password": "first new passphrase", "csrf_token": csrf})
    assert used.status_code == 303
    await user.refresh_from_db()
    hash_after = user.password_hash

    page = await client.get(f"/password/reset?token={first}")
    assert page.status_code == 400
    assert "already used" in page.text
    csrf = await csrf_from(client, "/password/forgot")
    post = await client.post("/password/reset", data={
        "token": first, "password": "second new passphrase", "csrf_token": csrf})
    assert post.status_code == 400
    await user.refresh_from_db()
    assert user.password_hash == hash_after


async def test_spending_a_token_twice_fails(db: None) -> None:
    await tokens.spend("some-token", tokens.VERIFY_EMAIL)
    with pytest.raises(tokens.BadLink) as refused:
        await tokens.spend("some-token", tokens.VERIFY_EMAIL)
    assert refused.value.reason == "used"
    assert refused.value.status == 400
    assert await UsedToken.all().count() == 1
