"""Fixtures for the projects tests: signing a client in as a user without the log-in form.

The session cookie is built exactly as Starlette's ``SessionMiddleware`` builds it
(base64 JSON signed with itsdangerous), carrying the keys ``AuthMiddleware`` reads.
"""

from __future__ import annotations

import pytest

from forum import events
from forum.platform import Platform


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
