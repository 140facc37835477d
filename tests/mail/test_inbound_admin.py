"""The admin's log of incoming mail, the raw download, revoking one's own reply addresses,
and forgetting old messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.mail.inbound import forget_old_messages, receive_mail
from forum.mail.inbound_models import InboundMessage, InboundStatus, ReplyKey
from forum.platform import Platform
from tests.factories import make_user
from tests.mail.inbound_support import INBOUND_SETTINGS, compose, make_scene
from tests.support import Login, post_form


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


async def arrivals(platform: Platform) -> None:
    """One posted reply and one stranger's mail."""
    scene = await make_scene(platform)
    await receive_mail(platform, bytes(compose(sender=scene.author.email,
                                               to=await scene.address(),
                                               subject="Fixed <b>now</b>")))
    await receive_mail(platform, bytes(compose(sender="who@example.net",
                                               to="nobody@reply.example.org")))


async def test_admins_read_the_log(platform: Platform, app: Any, client: httpx.AsyncClient,
                                   login: Login) -> None:
    await arrivals(platform)
    await login(await make_user("root", admin=True))
    page = await client.get("/admin/mail")
    assert page.status_code == 200
    assert "Fixed &lt;b&gt;now&lt;/b&gt;" in page.text  # escaped
    assert 'id="count-posted">1<' in page.text
    assert 'id="count-rejected">1<' in page.text
    assert "no such address" in page.text
    rejected = await client.get("/admin/mail?status=rejected")
    assert "who@example.net" in rejected.text and "Fixed" not in rejected.text
    assert (await client.get("/admin/mail?status=nonsense")).status_code == 422
    api = await client.get("/api/v1/admin/mail/inbound?status=posted")
    assert api.status_code == 200
    body = api.json()
    assert body["counts"] == {"posted": 1, "bounced": 0, "dropped": 0, "rejected": 1}
    [message] = body["messages"]
    assert message["status"] == "posted" and message["url"].endswith("#post-2")
    record = await InboundMessage.get(id=message["id"])
    raw = await client.get(f"/admin/mail/{record.id}/raw")
    assert raw.status_code == 200
    assert raw.content == bytes(record.raw_message)
    assert raw.headers["content-disposition"].startswith("attachment")
    for missing in ("999999", "0", "99999999999999999999"):
        assert (await client.get(f"/admin/mail/{missing}/raw")).status_code == 404


async def test_others_may_not_read_the_log(platform: Platform, app: Any,
                                           client: httpx.AsyncClient, login: Login) -> None:
    await arrivals(platform)
    page = await client.get("/admin/mail")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert (await client.get("/api/v1/admin/mail/inbound")).status_code == 401
    await login(await make_user("plain"))
    assert (await client.get("/admin/mail")).status_code == 403
    assert (await client.get("/api/v1/admin/mail/inbound")).status_code == 403
    first = await InboundMessage.all().first()
    assert first is not None
    assert (await client.get(f"/admin/mail/{first.id}/raw")).status_code == 403


async def test_a_user_revokes_their_reply_addresses(platform: Platform, app: Any,
                                                    client: httpx.AsyncClient,
                                                    login: Login) -> None:
    scene = await make_scene(platform)
    address = await scene.address()
    await login(scene.author)
    account = await client.get("/account")
    assert 'id="reply-by-email"' in account.text
    response = await post_form(client, "/account/reply-addresses/revoke", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/account#reply-by-email"
    outcome = await receive_mail(platform, bytes(compose(sender=scene.author.email,
                                                         to=address)))
    assert (outcome.status, outcome.reason) == (InboundStatus.BOUNCED,
                                                "revoked reply token")
    fresh = await scene.address()
    assert fresh != address
    api = await client.post("/api/v1/account/reply-addresses/revoke", json={})
    assert api.status_code == 200 and api.json() == {"revoked": 1}
    assert await ReplyKey.filter(user_id=scene.author.id, revoked_at=None).count() == 0
    # Nobody else's keys were touched.
    other = await scene.address(scene.world.owner)
    assert await ReplyKey.filter(user_id=scene.world.owner.id, revoked_at=None).count() == 1
    assert other


async def test_revoking_needs_a_signed_in_user(app: Any, client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/account/reply-addresses/revoke", json={})).status_code == 401
    # A form post without a session has no CSRF token: refused before anything happens.
    response = await client.post("/account/reply-addresses/revoke")
    assert response.status_code in {303, 403}


async def test_no_card_while_mail_in_is_off(platform: Platform, app: Any,
                                            client: httpx.AsyncClient, login: Login) -> None:
    platform.settings.mail_in_domain = ""
    await login(await make_user("plain"))
    assert 'id="reply-by-email"' not in (await client.get("/account")).text


async def test_old_messages_are_forgotten(platform: Platform, db: None) -> None:
    await arrivals(platform)
    assert await forget_old_messages(platform) == 0
    later = datetime.now(UTC) + timedelta(days=platform.settings.mail_in_keep_days + 1)
    assert await forget_old_messages(platform, now=later) == 2
    assert await InboundMessage.all().count() == 0
