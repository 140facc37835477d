"""The accounts verbs without the web: creating users, validation, events."""

from __future__ import annotations

from typing import Any

import pytest

from forum import events
from forum.accounts.models import User
from forum.accounts.passwords import verify_password
from forum.accounts.service import (
    check_login,
    create_user_row,
    do_create_user,
    do_sign_up,
    email_problem,
    username_problem,
)
from forum.hookspecs import hookimpl
from forum.platform import Platform
from forum.web.errors import Conflict, Invalid, UserError
from tests.factories import make_user


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def on_user_created(self, event: events.UserCreated) -> None:
        self.events.append(event)

    @hookimpl
    def on_user_verified(self, event: events.UserVerified) -> None:
        self.events.append(event)


@pytest.fixture
def recorder(platform: Platform) -> Recorder:
    recorder = Recorder()
    platform.plugins.pm.register(recorder, name="recorder")
    return recorder


async def test_do_create_user_creates_and_emits(
    db: None, platform: Platform, recorder: Recorder
) -> None:
    user = await do_create_user(platform, username="Root", email=" Root@Example.org ",
                                password="a long admin passphrase", verified=True,
                                is_platform_admin=True)
    assert user.username == "Root" and user.username_lower == "root"
    assert user.email == "root@example.org"
    assert user.is_verified and user.is_platform_admin
    assert verify_password(user.password_hash, "a long admin passphrase")
    assert recorder.events == [events.UserCreated(user_id=user.id, username="Root")]


async def test_do_create_user_without_password(db: None, platform: Platform) -> None:
    user = await do_create_user(platform, username="oauth-only", email="o@example.org",
                                password=None)
    assert user.password_hash is None
    assert not user.is_verified and not user.is_platform_admin
    with pytest.raises(UserError) as refused:
        await check_login(platform, "oauth-only", "")
    assert refused.value.status == 401


async def test_do_create_user_refuses_duplicates_and_bad_values(
    db: None, platform: Platform, recorder: Recorder
) -> None:
    await make_user("ada", email="ada@example.org")
    with pytest.raises(Conflict) as taken:
        await do_create_user(platform, username="ADA", email="other@example.org",
                             password="a long passphrase here")
    assert taken.value.fields.keys() == {"username"}
    with pytest.raises(Invalid) as invalid:
        await do_create_user(platform, username="-x", email="nope", password="short")
    assert invalid.value.fields.keys() == {"username", "email", "password"}
    assert await User.all().count() == 1
    assert recorder.events == []


async def test_sign_up_without_verification_is_verified_at_once(
    db: None, platform: Platform, recorder: Recorder
) -> None:
    platform.settings.require_email_verification = False
    user = await do_sign_up(platform, username="quick", email="quick@example.org",
                            password="a long passphrase here")
    assert user.is_verified
    assert await platform.jobs.backlog() == 0  # no verification mail queued


async def test_sign_up_with_verification_queues_the_mail_with_the_user(
    db: None, platform: Platform
) -> None:
    user = await do_sign_up(platform, username="slow", email="slow@example.org",
                            password="a long passphrase here")
    assert not user.is_verified
    assert await platform.jobs.backlog() == 1


@pytest.mark.parametrize("name", ["abc", "Ada.Lovelace", "a_b-c.d", "9lives", "x" * 30])
def test_good_usernames(name: str) -> None:
    assert username_problem(name) is None


@pytest.mark.parametrize("name", ["ab", "x" * 31, "_lead", ".lead", "-lead", "sp ace",
                                  "émile", "semi;colon", ""])
def test_bad_usernames(name: str) -> None:
    assert username_problem(name)


@pytest.mark.parametrize("email", ["a@example.org", "first.last+tag@sub.example.co.uk",
                                   "x@xn--bcher-kva.example"])
def test_good_emails(email: str) -> None:
    assert email_problem(email) is None


@pytest.mark.parametrize("email", ["", "plain", "@example.org", "a@", "a@b", "a b@c.org",
                                   "a@-bad.org", "a@@b.org", "a@b..org", "x" * 250 + "@e.org"])
def test_bad_emails(email: str) -> None:
    assert email_problem(email)


async def test_insert_race_becomes_a_conflict(db: None, platform: Platform) -> None:
    """Two sign-ups that both passed the check: the second insert is a 409, not a 500."""
    await make_user("racer", email="racer@example.org")
    with pytest.raises(Conflict) as lost:
        await create_user_row(platform, username="Racer", email="other@example.org",
                              password_hash=None, verified=False, is_platform_admin=False,
                              send_verification=True)
    assert lost.value.fields.keys() == {"username"}
    assert await platform.jobs.backlog() == 0  # its mail rolled back with it
