"""Recognising "+support" in a comment (the whole flow is in test_webhook.py), and the
issue's author, staged by the import, signing in with GitHub to submit their draft."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from forum.accounts.models import User
from forum.platform import Platform
from forum.support_queue.models import Ticket, TicketState
from plugins.github_import.commands import has_support_command, is_bot
from plugins.github_import.models import IssueLink
from tests.accounts.github_fake import (
    API_PREFIX,
    CLIENT_ID,
    CLIENT_SECRET,
    ServedFake,
    github_email,
    github_user,
)
from tests.accounts.github_fake import FakeGitHub as OAuthFake
from tests.accounts.test_github import round_trip
from tests.factories import make_user
from tests.plugins.github_import.conftest import (
    SECRET,
    fixture_issue,
    link_repo,
    signed,
    support_comment,
)
from tests.plugins.github_import.fake_github import FakeGitHub
from tests.support import Login, post_form


@pytest.mark.parametrize("body", [
    "@forum-bot +support",
    "@Forum-Bot /SUPPORT",
    "Thanks!\n\n@forum-bot +support please",
    "@forum-bot[bot] +support",
    "  @forum-bot   /support",
])
def test_recognised(body: str) -> None:
    assert has_support_command(body, "forum-bot")


@pytest.mark.parametrize("body", [
    "",
    "+support",
    "@forum-bot support",
    "@other-bot +support",
    "@forum-botty +support",
    "email@forum-bot +support",
    "> @forum-bot +support",
    "```\n@forum-bot +support\n```",
    "~~~md\n@forum-bot +support\n~~~",
    "text\n\n    @forum-bot +support",
    "@forum-bot +supportive",
])
def test_not_recognised(body: str) -> None:
    assert not has_support_command(body, "forum-bot")


def test_text_after_a_closed_fence_counts() -> None:
    assert has_support_command("```\ncode\n```\n@forum-bot +support", "forum-bot")


def test_bots() -> None:
    assert is_bot({"login": "dependabot[bot]", "type": "Bot"})
    assert is_bot({"login": "renovate[bot]", "type": "User"})
    assert is_bot({"login": "app", "type": "Bot"})
    assert not is_bot({"login": "Codertocat", "type": "User"})
    assert is_bot(None)


# The staged requester signs in with GitHub and owns the draft (the accounts' OAuth fake).

OAUTH_USER_ID = 21031067  # the fixtures' issue author, Codertocat


@pytest.fixture(scope="module")
def served_oauth() -> Iterator[OAuthFake]:
    fake = OAuthFake()
    with ServedFake(fake):
        yield fake


@pytest.fixture
def oauth(served_oauth: OAuthFake) -> Iterator[OAuthFake]:
    served_oauth.reset()
    yield served_oauth
    served_oauth.reset()


@pytest.fixture
def settings_overrides(served_oauth: OAuthFake) -> dict[str, Any]:
    return {"github_client_id": CLIENT_ID, "github_client_secret": CLIENT_SECRET,
            "github_oauth_url": served_oauth.url,
            "github_api_url": served_oauth.url + API_PREFIX}


async def test_staged_author_signs_in_with_github_and_submits_the_draft(
        client: httpx.AsyncClient, platform: Platform, fake_github: FakeGitHub,
        oauth: OAuthFake, run_jobs: Any, login: Login) -> None:
    await link_repo(platform, fake_github)
    fixture_issue(fake_github)
    body, headers = signed("issue_comment", support_comment(), SECRET)
    assert (await client.post("/webhooks/github", content=body,
                              headers=headers)).status_code == 202
    await run_jobs()
    link = await IssueLink.get()
    ticket = await Ticket.get(topic_id=link.topic_id)
    staged = await User.get(id=ticket.requester_id)  # type: ignore[attr-defined]
    assert staged.email.endswith("@staged.invalid") and not staged.is_verified

    # Someone else cannot submit it.
    stranger = await make_user("stranger")
    await login(stranger)
    refused = await client.post(f"/p/demo/t/{link.topic_id}/ticket/submit",
                                data={"csrf_token": "x"})
    assert refused.status_code in (403, 404)

    await login(None)
    oauth.sign_in_as(github_user(OAUTH_USER_ID, "Codertocat", email=None),
                     [github_email("codertocat@example.org")])
    answer = await round_trip(client, oauth)
    assert answer.status_code in (302, 303)
    await staged.refresh_from_db()
    assert staged.email == "codertocat@example.org" and staged.is_verified
    assert await User.filter(username="Codertocat").count() == 1  # no second account
    page = await client.get(f"/p/demo/t/{link.topic_id}", follow_redirects=True)
    assert page.status_code == 200 and "Spelling error in the README file" in page.text
    submitted = await post_form(client, f"/p/demo/t/{link.topic_id}/ticket/submit", {},
                                page=str(page.url))
    assert submitted.status_code == 303
    await ticket.refresh_from_db()
    assert ticket.state == TicketState.QUEUED and ticket.submitted_at is not None


async def test_staged_address_stays_when_githubs_is_taken_or_unverified(
        client: httpx.AsyncClient, platform: Platform, oauth: OAuthFake, db: None) -> None:
    from forum.accounts.service import stage_user

    staged = await stage_user(platform, "github", str(OAUTH_USER_ID), "Codertocat")
    await make_user("owner-of-address", email="taken@example.org")
    oauth.sign_in_as(github_user(OAUTH_USER_ID, "Codertocat"),
                     [github_email("taken@example.org")])
    await round_trip(client, oauth)
    await staged.refresh_from_db()
    assert staged.email.endswith("@staged.invalid") and not staged.is_verified
    oauth.sign_in_as(github_user(OAUTH_USER_ID, "Codertocat"),
                     [github_email("new@example.org", verified=False)])
    await round_trip(client, oauth)
    await staged.refresh_from_db()
    assert staged.email.endswith("@staged.invalid") and not staged.is_verified
