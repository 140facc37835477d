"""Fixtures for the projects tests: signing a client in as a user without the log-in form.

The session cookie is built exactly as Starlette's ``SessionMiddleware`` builds it
(base64 JSON signed with itsdangerous), carrying the keys ``AuthMiddleware`` reads.
"""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Awaitable, Callable

import httpx
import itsdangerous
import pytest

from forum import events
from forum.accounts.models import User
from forum.app import SESSION_COOKIE
from forum.platform import Platform
from forum.settings import Settings

Login = Callable[[User | None], Awaitable[None]]


def session_cookie(settings: Settings, user: User) -> str:
    data = b64encode(json.dumps({"uid": user.id, "ver": user.session_version}).encode())
    return itsdangerous.TimestampSigner(settings.secret()).sign(data).decode()


@pytest.fixture
def login(client: httpx.AsyncClient, settings: Settings) -> Login:
    """``await login(user)`` signs ``client`` in as ``user``; ``await login(None)`` out."""

    async def sign_in(user: User | None) -> None:
        client.cookies.clear()
        if user is not None:
            client.cookies.set(SESSION_COOKIE, session_cookie(settings, user))

    return sign_in


@pytest.fixture
def emitted(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> list[events.Event]:
    """Events the platform emits, recorded before they are dispatched."""
    seen: list[events.Event] = []
    original = platform.emit

    async def spy(event: events.Event) -> None:
        seen.append(event)
        await original(event)

    monkeypatch.setattr(platform, "emit", spy)
    return seen
