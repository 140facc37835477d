"""Helpers shared by the accounts tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD
from tests.support import post_form


def link_in(message: Any, path: str) -> str:
    """The first full URL to ``path?token=...`` in a mail's text part."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"(\S+" + re.escape(path) + r"\?token=\S+)", body)
    assert match, body
    return str(match.group(1))


async def log_in(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> None:
    response = await post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 303, response.text


@pytest.fixture
async def other_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser on the same app (its own cookies)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 follow_redirects=False) as c:
        yield c
