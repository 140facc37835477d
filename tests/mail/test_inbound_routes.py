"""``POST /mail/inbound``: the shared secret, the size limit, and the same pipeline."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from forum.mail.inbound_models import InboundMessage, InboundStatus
from forum.platform import Platform
from tests.mail.inbound_support import INBOUND_SETTINGS, STRIPPED_REPLY, compose, make_scene

SECRET = {"X-Forum-Inbound-Secret": INBOUND_SETTINGS["mail_in_secret"]}
RFC822 = {"Content-Type": "message/rfc822"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


async def test_a_reply_posted_through_the_webhook(platform: Platform, app: Any,
                                                  client: httpx.AsyncClient) -> None:
    scene = await make_scene(platform)
    message = compose(sender=scene.author.email, to=await scene.address())
    response = await client.post("/mail/inbound", content=bytes(message),
                                 headers={**SECRET, **RFC822})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "posted"
    assert body["url"].endswith("#post-2")
    [post] = await scene.replies()
    assert post.source == STRIPPED_REPLY


@pytest.mark.parametrize("headers", [
    {}, {"X-Forum-Inbound-Secret": ""}, {"X-Forum-Inbound-Secret": "wrong"},
    {"X-Forum-Inbound-Secret": INBOUND_SETTINGS["mail_in_secret"] + "x"},
], ids=["none", "empty", "wrong", "longer"])
async def test_without_the_secret_nothing_happens(headers: dict[str, str], platform: Platform,
                                                  app: Any, client: httpx.AsyncClient) -> None:
    scene = await make_scene(platform)
    message = compose(sender=scene.author.email, to=await scene.address())
    response = await client.post("/mail/inbound", content=bytes(message),
                                 headers={**headers, **RFC822})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert await scene.replies() == []
    assert await InboundMessage.all().count() == 0


async def test_no_secret_configured_refuses_everyone(
        platform: Platform, app: Any, client: httpx.AsyncClient) -> None:
    platform.settings.mail_in_secret = SecretStr("")
    response = await client.post("/mail/inbound", content=b"From: a@b.c\n\nhi",
                                 headers={"X-Forum-Inbound-Secret": ""})
    assert response.status_code == 401


async def test_oversized_messages_get_413_and_are_recorded(
        platform: Platform, app: Any, client: httpx.AsyncClient) -> None:
    scene = await make_scene(platform)
    limit = platform.settings.mail_in_max_bytes
    raw = bytes(compose(sender=scene.author.email, to=await scene.address(),
                        text="z" * (limit * 3)))
    response = await client.post("/mail/inbound", content=raw, headers={**SECRET, **RFC822})
    assert response.status_code == 413
    [record] = await InboundMessage.all()
    assert (record.status, record.size) == (InboundStatus.REJECTED, len(raw))
    assert len(record.raw_message) == limit
    assert await scene.replies() == []


async def test_bodies_over_the_general_limit_but_within_the_mail_limit_are_taken(
        platform: Platform, app: Any, client: httpx.AsyncClient) -> None:
    """FORUM_MAX_BODY_BYTES (1 MiB) does not apply here: mail has its own limit."""
    platform.settings.mail_in_max_bytes = 3 * 1024 * 1024
    scene = await make_scene(platform)
    text = "All good now.\n\n" + "\n".join(["> quoted line of an old message"] * 60_000)
    raw = bytes(compose(sender=scene.author.email, to=await scene.address(), text=text))
    assert len(raw) > platform.settings.max_body_bytes
    response = await client.post("/mail/inbound", content=raw, headers={**SECRET, **RFC822})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "posted"
    [post] = await scene.replies()
    assert post.source == "All good now."


async def test_malformed_mime_gets_400(platform: Platform, app: Any,
                                       client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/mail/inbound", headers={**SECRET, **RFC822},
        content=b"From: a@example.org\nContent-Type: multipart/mixed\n\nno boundary\n")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_message"
    [record] = await InboundMessage.all()
    assert record.status == InboundStatus.REJECTED


async def test_refusals_are_answered_200_with_their_reason(
        platform: Platform, app: Any, client: httpx.AsyncClient) -> None:
    scene = await make_scene(platform)
    message = compose(sender=scene.world.outsider.email, to=await scene.address())
    response = await client.post("/mail/inbound", content=bytes(message),
                                 headers={**SECRET, "Content-Type": "text/plain"})
    assert response.status_code == 200
    assert response.json() == {"status": "bounced", "reason": "cross_user reply token",
                                "url": ""}
    assert await scene.replies() == []


async def test_get_is_not_allowed(app: Any, client: httpx.AsyncClient) -> None:
    assert (await client.get("/mail/inbound", headers=SECRET)).status_code == 405
