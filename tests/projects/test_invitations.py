from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum import events
from forum.platform import Platform
from forum.projects.members import do_invite, hash_token
from forum.projects.models import Invitation, Membership, Project, Role
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form

LINK_RE = re.compile(r"http://testserver(/invitations/accept\?token=[\w-]+)")


@pytest.fixture
async def acme(client: httpx.AsyncClient) -> Project:
    """A project owned by ada (the client's app has the database open)."""
    return await make_project("acme", name="Acme Widgets", owner=await make_user("ada"))


async def owner_of(project: Project) -> Any:
    return (await Membership.get(project_id=project.id, role=Role.OWNER)
            .prefetch_related("user")).user


def link_in(message: Any) -> str:
    match = LINK_RE.search(message.get_body(("plain",)).get_content())
    assert match, "no invitation link in the mail"
    return match.group(1)


async def invite_by_form(client: httpx.AsyncClient, email: str, role: str = "member"
                         ) -> httpx.Response:
    return await post_form(client, "/p/acme/settings/invitations",
                           {"email": email, "role": role}, page="/p/acme/settings")


async def test_invitation_by_mail_is_accepted_once(
        client: httpx.AsyncClient, login: Login, acme: Project, run_jobs: Any, mailbox: Any,
        emitted: list[events.Event]) -> None:
    await login(await owner_of(acme))
    response = await invite_by_form(client, "Carol@Example.org", "supporter")
    assert response.status_code == 303
    invitation = await Invitation.get(project_id=acme.id)
    assert (invitation.email, invitation.role) == ("carol@example.org", Role.SUPPORTER)
    days = (invitation.expires_at - datetime.now(UTC)) / timedelta(days=1)
    assert 13.99 < days <= 14
    settings_page = (await client.get("/p/acme/settings")).text
    assert "carol@example.org" in settings_page and "/revoke" in settings_page

    assert await run_jobs() == 1
    [message] = mailbox()
    assert message["To"] == "carol@example.org"
    assert "Acme Widgets" in message["Subject"]
    path = link_in(message)
    token = path.rsplit("=", 1)[1]
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash

    carol = await make_user("carol", email="carol@example.org")
    await login(carol)
    page = await client.get(path)
    assert page.status_code == 200
    assert "Acme Widgets" in page.text and "supporter" in page.text
    assert 'action="/invitations/accept"' in page.text

    response = await post_form(client, "/invitations/accept", {"token": token}, page=path)
    assert response.status_code == 303
    assert response.headers["location"] == "/p/acme"
    membership = await Membership.get(project_id=acme.id, user_id=carol.id)
    assert membership.role == Role.SUPPORTER
    await invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by_id == carol.id  # type: ignore[attr-defined]
    assert events.MemberRoleChanged(project=acme.id, user_id=carol.id,
                                    role="supporter") in emitted

    # The link is spent: a clear 400, and nothing changes.
    again = await client.get(path, headers={"accept": "text/html"})
    assert again.status_code == 400 and "already been used" in again.text
    dave = await make_user("dave")
    await login(dave)
    response = await post_form(client, "/invitations/accept", {"token": token}, page="/")
    assert response.status_code == 400
    assert not await Membership.exists(project_id=acme.id, user_id=dave.id)


async def test_expired_invitation_is_400_and_changes_nothing(
        client: httpx.AsyncClient, login: Login, acme: Project, platform: Platform) -> None:
    invitation, token = await do_invite(platform, acme, await owner_of(acme),
                                        "late@example.org", Role.MEMBER)
    await Invitation.filter(id=invitation.id).update(
        expires_at=datetime.now(UTC) - timedelta(minutes=1))
    late = await make_user("late", email="late@example.org")
    await login(late)
    page = await client.get(f"/invitations/accept?token={token}",
                            headers={"accept": "text/html"})
    assert page.status_code == 400 and "expired" in page.text
    response = await post_form(client, "/invitations/accept", {"token": token}, page="/")
    assert response.status_code == 400 and "expired" in response.text
    assert not await Membership.exists(project_id=acme.id, user_id=late.id)
    assert (await Invitation.get(id=invitation.id)).accepted_at is None


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 500])
async def test_unknown_invitation_link_is_400(client: httpx.AsyncClient, token: str) -> None:
    page = await client.get(f"/invitations/accept?token={token}",
                            headers={"accept": "text/html"})
    assert page.status_code == 400
    assert "not valid" in page.text


async def test_revoked_invitation_is_400(client: httpx.AsyncClient, login: Login,
                                         acme: Project, platform: Platform) -> None:
    invitation, token = await do_invite(platform, acme, await owner_of(acme),
                                        "gone@example.org", Role.MEMBER)
    await login(await owner_of(acme))
    response = await post_form(client, f"/p/acme/settings/invitations/{invitation.id}/revoke",
                               {}, page="/p/acme/settings")
    assert response.status_code == 303
    assert "gone@example.org" not in (await client.get("/p/acme/settings")).text
    response = await post_form(client, f"/p/acme/settings/invitations/{invitation.id}/revoke",
                               {}, page="/p/acme/settings")
    assert response.status_code == 409
    gone = await make_user("gone", email="gone@example.org")
    await login(gone)
    page = await client.get(f"/invitations/accept?token={token}",
                            headers={"accept": "text/html"})
    assert page.status_code == 400 and "withdrawn" in page.text
    response = await post_form(client, "/invitations/accept", {"token": token}, page="/")
    assert response.status_code == 400
    assert not await Membership.exists(project_id=acme.id, user_id=gone.id)


async def test_a_new_invitation_replaces_the_pending_one(
        acme: Project, platform: Platform) -> None:
    owner = await owner_of(acme)
    first, _ = await do_invite(platform, acme, owner, "twice@example.org", Role.MEMBER)
    second, _ = await do_invite(platform, acme, owner, "twice@example.org", Role.MODERATOR)
    assert (await Invitation.get(id=first.id)).revoked_at is not None
    assert (await Invitation.get(id=second.id)).revoked_at is None


async def test_anonymous_visitor_is_asked_to_log_in(
        client: httpx.AsyncClient, acme: Project, platform: Platform) -> None:
    _, token = await do_invite(platform, acme, await owner_of(acme), "new@example.org",
                               Role.MEMBER)
    page = await client.get(f"/invitations/accept?token={token}")
    assert page.status_code == 200
    assert "/login?next=" in page.text and 'action="/invitations/accept"' not in page.text
    # The page has no form for a visitor; take the session's CSRF token from the log-in form.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/login")).text)
    assert csrf
    response = await client.post("/invitations/accept",
                                 data={"token": token, "csrf_token": csrf.group(1)})
    assert response.status_code == 401
    assert await Membership.filter(project_id=acme.id).count() == 1


async def test_accepting_keeps_a_higher_role(acme: Project, platform: Platform) -> None:
    from forum.projects.members import check_accept_invitation

    lead = await make_user("lead", email="lead@example.org")
    await add_member(acme, lead, Role.LEAD)
    # A lead who accepts an invitation as a mere member stays a lead.
    _, token = await do_invite(platform, acme, await owner_of(acme), "other@example.org",
                               Role.MEMBER)
    await check_accept_invitation(platform, lead, token)
    assert (await Membership.get(project_id=acme.id, user_id=lead.id)).role == Role.LEAD


@pytest.mark.parametrize(("email", "status"), [("not-an-email", 422), ("ada@example.org", 409)])
async def test_bad_invitations_are_refused(client: httpx.AsyncClient, login: Login,
                                           acme: Project, email: str, status: int) -> None:
    await login(await owner_of(acme))
    response = await invite_by_form(client, email)
    assert response.status_code == status
    assert not await Invitation.exists()


async def test_invitation_role_must_exist(client: httpx.AsyncClient, login: Login,
                                          acme: Project) -> None:
    await login(await owner_of(acme))
    response = await invite_by_form(client, "x@example.org", "emperor")
    assert response.status_code == 422
    assert not await Invitation.exists()
