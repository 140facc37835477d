"""With FORUM_REQUIRE_EMAIL_VERIFICATION off, new accounts can log in at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum.accounts.models import User
from tests.factories import make_user
from tests.support import post_form


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"require_email_verification": False}


async def test_signup_logs_in_and_sends_no_mail(
    client: httpx.AsyncClient, run_jobs: Any, mailbox: Any
) -> None:
    response = await post_form(client, "/signup", {
        "username": "instant", "email": "instant@example.org",
        "password": "a long and unusual passphrase"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert (await client.get("/api/v1/users/me")).json()["username"] == "instant"
    assert (await User.get(username="instant")).is_verified
    await run_jobs()
    assert mailbox() == []


async def test_unverified_users_may_log_in(client: httpx.AsyncClient) -> None:
    await make_user("legacy", verified=False)
    response = await client.post("/api/v1/auth/login", json={
        "login": "legacy", "password": "correct horse battery staple"})
    assert response.status_code == 200
    assert response.json()["email_verified"] is False
